from __future__ import annotations

import pytest

from reconcile.client import ignore_already_exists, ignore_not_found
from reconcile.errors import AlreadyExists, Conflict, NotFound


def test_ignore_not_found_swallows_only_not_found() -> None:
    with ignore_not_found():
        raise NotFound("gone")
    with pytest.raises(Conflict), ignore_not_found():
        raise Conflict("stale")


def test_ignore_already_exists_swallows_only_already_exists() -> None:
    with ignore_already_exists():
        raise AlreadyExists("taken")
    with pytest.raises(Conflict), ignore_already_exists():
        raise Conflict("a conflict that is not AlreadyExists")
