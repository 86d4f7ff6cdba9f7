"""A server shared by the tests of one module, for tables of cases that each use their
own object names (starting a server per case would dominate their run time)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from reconcile.apiserver import APIServer


@pytest.fixture(scope="module")
def server() -> Iterator[APIServer]:
    started = APIServer()
    started.start()
    try:
        yield started
    finally:
        started.stop()
