"""One list/watch of a kind: a namespace (or all) with its selectors and transform.

An informer runs one reflector per scope into a single store; a relist of one scope
replaces only the objects that scope holds (``holds``), never another scope's.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

__all__ = ["ListScope", "Transform"]

Transform = Callable[[dict[str, Any]], dict[str, Any]]


@dataclass(frozen=True, slots=True)
class ListScope:
    """Where and what one reflector lists: ``namespace`` None means every namespace."""

    namespace: str | None = None
    label_selector: str | None = None
    field_selector: str | None = None
    transform: Transform | None = None
    excluded: frozenset[str] = frozenset()
    """For the all-other-namespaces scope: the namespaces other scopes watch."""

    def holds(self, obj: dict[str, Any]) -> bool:
        """Whether ``obj`` belongs to this scope's list (a relist replaces only those)."""
        namespace = (obj.get("metadata") or {}).get("namespace") or ""
        if self.namespace is not None:
            return namespace == self.namespace
        return namespace not in self.excluded
