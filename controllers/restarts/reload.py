"""What a config reload re-enqueues, on the replica that leads.

Every reconcile reads the settings in force, so most edits apply at the next event. Two
kinds of work wait on a timer computed from the old settings, and are re-enqueued when the
section changes: records whose pod is gone (a new ``retention`` must apply now, not at the
deletion time the old one gave) and namespace inspections (targets, filters and windows may
have changed; a namespace dropped from the config is marked as no longer inspected).

Only the leading replica does this (``Leading`` is a leader-only runnable): a standby's
controllers are not running, and when it takes over their initial lists enqueue
everything anyway, so nothing is buffered for it meanwhile.
"""

from __future__ import annotations

import threading
from typing import Any

from controllers.restarts.inspector import INSPECTION_RECORD, NAMESPACE
from controllers.restarts.reconciler import RECORD
from reconcile.cache import InformerCache
from reconcile.cache.store import Store
from reconcile.source import Channel

__all__ = ["Leading", "RecheckRetention", "Reinspect"]


class Leading:
    """A leader-only runnable that only says whether it runs (controllers run too)."""

    def __init__(self) -> None:
        self._running = threading.Event()

    def start(self, stop: threading.Event) -> None:
        self._running.set()
        try:
            stop.wait()
        finally:
            self._running.clear()

    def is_set(self) -> bool:
        return self._running.is_set()

    def __repr__(self) -> str:
        return "restarts.Leading"


class RecheckRetention:
    """Re-enqueues the records whose pod is gone into the pod controller."""

    def __init__(self, records: Store, channel: Channel, leading: Leading) -> None:
        self._records = records
        self._channel = channel
        self._leading = leading

    def __call__(self, _options: object) -> None:
        if not self._leading.is_set():
            return
        for record in self._records.items():
            if (record.get("status") or {}).get("podDeletedAt"):
                self._channel.send(record)


class Reinspect:
    """Re-enqueues every namespace, and every one holding an inspection record."""

    def __init__(self, cache: InformerCache, channel: Channel, leading: Leading) -> None:
        self._cache = cache
        self._channel = channel
        self._leading = leading

    def __call__(self, _options: object) -> None:
        if not self._leading.is_set():
            return
        namespaces: list[dict[str, Any]] = self._cache.get_informer(NAMESPACE).store.items()
        records = self._cache.get_informer(RECORD).store.items()
        names = {n["metadata"]["name"] for n in namespaces} | {
            r["metadata"]["namespace"]
            for r in records
            if r["metadata"]["name"] == INSPECTION_RECORD
        }
        for name in sorted(names):
            self._channel.send({"metadata": {"namespace": name, "name": INSPECTION_RECORD}})
