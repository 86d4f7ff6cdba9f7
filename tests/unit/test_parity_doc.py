"""docs/controller-runtime-parity.md stays true: every name imports, every test exists."""

from __future__ import annotations

import ast
import dataclasses
import importlib
import inspect
import re
import textwrap
from functools import cache
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PAGE = ROOT / "docs" / "controller-runtime-parity.md"
NAME = re.compile(r"`(reconcile(?:\.\w+)*):([\w.]+)`")
TEST = re.compile(r"`(tests/[\w/]+\.py)::(\w+)`")


def _rows() -> list[str]:
    return [
        line
        for line in PAGE.read_text().splitlines()
        if line.startswith("|") and not line.startswith("| ---") and "`reconcile" in line
    ]


def _pairs(pattern: re.Pattern[str]) -> list[tuple[str, str]]:
    return sorted(
        {(match.group(1), match.group(2)) for row in _rows() for match in pattern.finditer(row)}
    )


def _names() -> list[tuple[str, str]]:
    return _pairs(NAME)


def _tests() -> list[tuple[str, str]]:
    return _pairs(TEST)


@cache
def _functions(path: str) -> set[str]:
    tree = ast.parse((ROOT / path).read_text())
    return {
        node.name
        for node in ast.walk(tree)
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef)
    }


def _assigned_in_init(owner: type) -> set[str]:
    """Instance attributes a class's ``__init__`` sets (``self.x = ...``)."""
    init = owner.__dict__.get("__init__")
    if init is None:
        return set()
    tree = ast.parse(textwrap.dedent(inspect.getsource(init)))
    return {
        node.attr
        for node in ast.walk(tree)
        if isinstance(node, ast.Attribute)
        and isinstance(node.ctx, ast.Store)
        and isinstance(node.value, ast.Name)
        and node.value.id == "self"
    }


def _has(owner: object, attribute: str) -> bool:
    if hasattr(owner, attribute):
        return True
    if dataclasses.is_dataclass(owner):
        return attribute in {f.name for f in dataclasses.fields(owner)}
    if isinstance(owner, type):
        return attribute in _assigned_in_init(owner)
    return False


def test_every_row_names_a_kreconcile_name_and_a_test() -> None:
    rows = _rows()
    assert len(rows) >= 60
    for row in rows:
        assert NAME.search(row) and TEST.search(row), f"row without a name or a test: {row}"


@pytest.mark.parametrize(("module", "path"), _names(), ids=str)
def test_every_listed_name_imports(module: str, path: str) -> None:
    owner: object = importlib.import_module(module)
    *parents, last = path.split(".")
    for part in parents:
        owner = getattr(owner, part)
    assert _has(owner, last), f"{module}:{path} does not exist"


def test_every_listed_test_exists() -> None:
    missing = [
        f"{path}::{name}"
        for path, name in _tests()
        if not (ROOT / path).exists() or name not in _functions(path)
    ]
    assert missing == []
