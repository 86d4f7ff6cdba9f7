"""A deep copy for JSON-shaped data: the cache's copy on read, and the controllerutil helpers'.

Objects from the API server are dicts, lists and immutable scalars (str, int, float, bool,
None). Copying the containers is all a deep copy of them needs, and it runs about 2.5x
faster than ``copy.deepcopy``, which keeps a memo for the cycles and shared references
JSON cannot have. Any other value (a cache transform may add one) goes to ``copy.deepcopy``,
so a reader never shares anything mutable with the cache.
"""

from __future__ import annotations

import copy
from typing import Any, TypeVar, cast

__all__ = ["deep_copy"]

T = TypeVar("T")

_IMMUTABLE: frozenset[type] = frozenset({str, int, float, bool, type(None)})


def deep_copy(value: T) -> T:
    """A copy of ``value`` sharing no dict or list with it."""
    return cast(T, _copy(value))


def _copy(value: Any) -> Any:
    kind = type(value)
    if kind is dict:
        return {key: _copy(item) for key, item in value.items()}
    if kind is list:
        return [_copy(item) for item in value]
    if kind in _IMMUTABLE:
        return value
    return copy.deepcopy(value)
