"""Event filters: which Pod and RestartRecord events can change a record at all.

A busy cluster updates pod status constantly (readiness, IPs, conditions); only a changed
UID or restartCount can add a restart, so every other update is dropped before it reaches
the queue. A pod that never restarted wakes the controller only if a record exists for its
name (a recreated pod clears ``podDeletedAt``; a deleted one sets it). Checks are dict
lookups on the raw objects and on the record informer's store.
"""

from __future__ import annotations

from collections.abc import Collection
from typing import Any, Protocol

from controllers.restarts.status import container_statuses, restart_signature

__all__ = ["InspectionRecordEvents", "PodRestartEvents", "RecordEvents", "RecordStore"]

Obj = dict[str, Any]


class RecordStore(Protocol):
    """The RestartRecord informer's store: ``get("namespace/name")``."""

    def get(self, key: str) -> Obj | None: ...


def _meta(obj: Obj) -> dict[str, Any]:
    meta = obj.get("metadata")
    return meta if isinstance(meta, dict) else {}


class _Namespaced:
    """Passes objects of ``namespaces`` only (empty: every namespace)."""

    def __init__(self, namespaces: Collection[str] = ()) -> None:
        self._namespaces = frozenset(namespaces)

    def _wanted(self, obj: Obj) -> bool:
        return not self._namespaces or _meta(obj).get("namespace") in self._namespaces

    def generic(self, obj: Obj) -> bool:
        return self._wanted(obj)


class PodRestartEvents(_Namespaced):
    """Pod events that may add a restart or change whether the pod exists."""

    def __init__(self, records: RecordStore, namespaces: Collection[str] = ()) -> None:
        super().__init__(namespaces)
        self._records = records

    def _has_record(self, obj: Obj) -> bool:
        meta = _meta(obj)
        return self._records.get(f"{meta.get('namespace')}/{meta.get('name')}") is not None

    def _restarted(self, obj: Obj) -> bool:
        return any(count for _, _, count, _ in container_statuses(obj))

    def create(self, obj: Obj) -> bool:
        return self._wanted(obj) and (self._restarted(obj) or self._has_record(obj))

    def update(self, old: Obj, new: Obj) -> bool:
        return self._wanted(new) and restart_signature(old) != restart_signature(new)

    def delete(self, obj: Obj) -> bool:
        return self._wanted(obj) and (self._has_record(obj) or self._restarted(obj))


def _pod_record(obj: Obj) -> bool:
    return bool((obj.get("spec") or {}).get("podName"))


class RecordEvents(_Namespaced):
    """Pod records appearing (the initial list finds records of pods gone meanwhile) or
    their spec edited; the operator's own status writes are dropped."""

    def create(self, obj: Obj) -> bool:
        return self._wanted(obj) and _pod_record(obj)

    def update(self, old: Obj, new: Obj) -> bool:
        return (
            self._wanted(new)
            and _pod_record(new)
            and _meta(old).get("generation") != _meta(new).get("generation")
        )

    def delete(self, obj: Obj) -> bool:
        return False


class InspectionRecordEvents(_Namespaced):
    """Inspection records appearing, so one left in a namespace no longer inspected is
    marked as such."""

    def create(self, obj: Obj) -> bool:
        return self._wanted(obj) and bool((obj.get("spec") or {}).get("inspection"))

    def update(self, old: Obj, new: Obj) -> bool:
        return False

    def delete(self, obj: Obj) -> bool:
        return False
