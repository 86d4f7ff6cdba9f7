"""A Writer that keeps what recorders create and patch, in memory."""

from __future__ import annotations

from typing import Any


class MemoryWriter:
    def __init__(self) -> None:
        self.created: list[dict[str, Any]] = []
        self.patched: list[tuple[str, Any]] = []
        """(name of the patched object, the patch)"""

    def create(self, obj: dict[str, Any], **options: Any) -> dict[str, Any]:
        self.created.append(obj)
        return obj

    def update(self, obj: dict[str, Any], **options: Any) -> dict[str, Any]:
        return obj

    def patch(self, obj: dict[str, Any], patch: Any, **options: Any) -> dict[str, Any]:
        self.patched.append((obj["metadata"]["name"], patch))
        return obj

    def delete(self, obj: dict[str, Any], **options: Any) -> None: ...
