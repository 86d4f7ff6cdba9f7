from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.unit.reconcile.controller.harness import Harness


@pytest.fixture
def harnesses() -> Iterator[list[Harness]]:
    """Harnesses a test creates; each is stopped after the test."""
    created: list[Harness] = []
    yield created
    for harness in created:
        harness.close()
