"""The session's record of what the operators used, and its check run last.

The operator tests hand their servers' authorization logs to ``rbac_usage``;
``test_rbac_usage.py`` reads it, so it runs after every other test of the session, and it
knows which tests were deselected (a partial run cannot prove that a grant is unused).
"""

from __future__ import annotations

import pytest

from tests.integration.controllers.rbac import Usage

USAGE_CHECK = "tests/integration/controllers/test_rbac_usage.py"
DESELECTED = pytest.StashKey[set[str]]()
"""Node ids deselected in this session (``-k``, ``-m``, ``--deselect``)."""


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    checks = [item for item in items if item.nodeid.startswith(USAGE_CHECK)]
    for item in checks:
        items.remove(item)
    items.extend(checks)


def pytest_deselected(items: list[pytest.Item]) -> None:
    if items:
        config = items[0].config
        config.stash.setdefault(DESELECTED, set()).update(item.nodeid for item in items)


@pytest.fixture(scope="session")
def rbac_usage() -> Usage:
    return Usage()


@pytest.fixture(scope="session")
def deselected(pytestconfig: pytest.Config) -> set[str]:
    return pytestconfig.stash.get(DESELECTED, set())
