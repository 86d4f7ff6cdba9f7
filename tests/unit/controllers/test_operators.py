"""The operator plug-in shape: packages with setup / setup_agent / parse_config."""

from __future__ import annotations

import sys
import types
from collections.abc import Iterator

import pytest

from controllers.operators import OPERATORS, Operator, load_operators


@pytest.fixture
def fake_package() -> Iterator[types.ModuleType]:
    module = types.ModuleType("fake_operator_pkg")
    sys.modules[module.__name__] = module
    try:
        yield module
    finally:
        del sys.modules[module.__name__]


def test_package_functions_are_picked_up(fake_package: types.ModuleType) -> None:
    def setup(manager: object, options: object) -> None: ...

    def parse_config(section: object) -> object:
        return {"parsed": section}

    fake_package.setup = setup  # type: ignore[attr-defined]
    fake_package.parse_config = parse_config  # type: ignore[attr-defined]
    operator = Operator.from_package("fake", fake_package.__name__)
    assert operator.setup is setup
    assert operator.setup_agent is None
    assert operator.parse_config({"a": 1}) == {"parsed": {"a": 1}}


def test_package_without_entry_points_is_refused(fake_package: types.ModuleType) -> None:
    with pytest.raises(TypeError, match="defines neither setup"):
        Operator.from_package("fake", fake_package.__name__)


def test_every_listed_operator_loads() -> None:
    operators = load_operators()
    assert [op.name for op in operators] == [name for name, _ in OPERATORS]
    assert all(op.setup or op.setup_agent for op in operators)
