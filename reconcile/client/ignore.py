"""``with ignore_not_found(): client.delete(obj)``: errors a reconciler expects, swallowed.

controller-runtime's ``client.IgnoreNotFound(err)`` and ``client.IgnoreAlreadyExists(err)``
turn the expected error into nil. In Python the same intent is a block that suppresses
exactly that class (and its subclasses) and lets everything else propagate.
"""

from __future__ import annotations

import contextlib

from reconcile.errors import AlreadyExists, NotFound

__all__ = ["ignore_already_exists", "ignore_not_found"]


def ignore_not_found() -> contextlib.suppress:
    """Suppress ``NotFound`` in the block: deleting or reading what is already gone is fine."""
    return contextlib.suppress(NotFound)


def ignore_already_exists() -> contextlib.suppress:
    """Suppress ``AlreadyExists`` in the block: creating what someone else just created."""
    return contextlib.suppress(AlreadyExists)
