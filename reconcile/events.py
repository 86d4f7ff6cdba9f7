"""The ``events.k8s.io/v1`` event recorder (client-go's ``tools/events``), beside ``recorder``.

controller-runtime now prefers this API: an event names what it is about (``regarding``),
optionally a second object (``related``: the Pod a ReplicaSet created), the ``action``
taken and the ``reason`` for it, and a human ``note``. Usage::

    recorder = mgr.get_events_recorder("agentpool-controller")
    recorder.eventf(pool, pod, "Normal", "ScaledUp", "CreatePod", "created pod %s", name)

Like client-go, repeats are folded into an event *series* instead of new objects: an event
is isomorphic to an earlier one with the same regarding, related, type, reason, action and
reporting controller/instance (the note may differ). The first is created; the second,
within ``series_window`` seconds, patches ``series: {count: 2, lastObservedTime}`` onto it;
later ones only count in memory, and every ``refresh_interval`` seconds (and on close) each
series that grew is patched with its count. A series silent for ``series_window`` ends: the
next repeat starts a new event. Writes happen on one background thread; ``eventf`` never
blocks, and memory is bounded by ``cache_size`` series.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from reconcile._lru import LRU
from reconcile._sender import BackgroundSender
from reconcile.client.interfaces import Writer
from reconcile.errors import ApiError, NotFound
from reconcile.timestamps import micro_time

__all__ = ["EventsRecorder", "EventsRecorderOptions", "object_reference"]

log = logging.getLogger(__name__)

NOTE_LIMIT = 1024
"""Bytes of ``note`` the API server accepts (longer notes are cut)."""


@dataclass(frozen=True, kw_only=True)
class EventsRecorderOptions:
    series_window: float = 360.0
    """Seconds after the last repeat during which a repeat joins the series (client-go: 6 min)."""
    refresh_interval: float = 1800.0
    """Seconds between patches of growing series (client-go: 30 min)."""
    cache_size: int = 4096
    """Series remembered at once (least recently seen forgotten first)."""
    queue_size: int = 1000
    """Pending events; beyond this, new events are dropped (and counted)."""
    reporting_instance: str = ""
    """``reportingInstance``; empty means ``<component>-<hostname>``."""
    clock: Callable[[], float] = field(default=time.monotonic)


def object_reference(obj: dict[str, Any]) -> dict[str, Any]:
    """The core/v1 ObjectReference of ``obj`` (what ``regarding`` and ``related`` hold)."""
    meta = obj.get("metadata") or {}
    reference = {
        "apiVersion": obj.get("apiVersion", ""),
        "kind": obj.get("kind", ""),
        "name": meta.get("name", ""),
        "namespace": meta.get("namespace", ""),
        "uid": meta.get("uid", ""),
        "resourceVersion": meta.get("resourceVersion", ""),
    }
    return {key: value for key, value in reference.items() if value}


@dataclass
class _Series:
    name: str
    namespace: str
    count: int
    last_seen: float
    last_observed: str
    patched_count: int


class EventsRecorder:
    """Records events.k8s.io/v1 Events for one reporting controller."""

    def __init__(
        self, client: Writer, component: str, options: EventsRecorderOptions | None = None
    ) -> None:
        if not component:
            raise ValueError("an events recorder needs the reporting controller's name")
        self._client = client
        self.component = component
        self.options = options or EventsRecorderOptions()
        self.instance = (
            self.options.reporting_instance
            or f"{component}-{os.environ.get('HOSTNAME') or socket.gethostname()}"
        )[:128]
        self._series: LRU[tuple[Any, ...], _Series] = LRU(self.options.cache_size)
        self._lock = threading.Lock()
        self.written = 0
        self._sender: BackgroundSender[dict[str, Any]] = BackgroundSender(
            f"events-v1-{component}",
            self._write,
            queue_size=self.options.queue_size,
            tick=self._refresh,
            tick_interval=self.options.refresh_interval,
        )

    @property
    def dropped(self) -> int:
        return self._sender.dropped

    def eventf(
        self,
        regarding: dict[str, Any],
        related: dict[str, Any] | None,
        event_type: str,
        reason: str,
        action: str,
        note: str,
        *args: Any,
    ) -> None:
        """Record that ``action`` was taken on ``regarding`` for ``reason``; ``note`` is
        %-formatted with ``args``. ``event_type`` is Normal or Warning. Never blocks."""
        if event_type not in ("Normal", "Warning"):
            raise ValueError(f"event type must be Normal or Warning, got {event_type!r}")
        if not reason or not action:
            raise ValueError("an events.k8s.io/v1 event needs a reason and an action")
        text = note % args if args else note
        self._sender.submit(
            {
                "regarding": object_reference(regarding),
                "related": object_reference(related) if related is not None else None,
                "type": event_type,
                "reason": reason,
                "action": action,
                "note": text.encode()[:NOTE_LIMIT].decode(errors="ignore"),
            }
        )

    def flush(self, timeout: float = 10.0) -> bool:
        """Wait until every recorded event was written."""
        return self._sender.flush(timeout)

    def close(self, timeout: float = 10.0) -> bool:
        """Write what is queued and the series counts, then stop the sender thread."""
        return self._sender.close(timeout)

    def _key(self, item: dict[str, Any]) -> tuple[Any, ...]:
        def frozen(reference: dict[str, Any] | None) -> tuple[tuple[str, Any], ...]:
            return tuple(sorted((reference or {}).items()))

        return (
            frozen(item["regarding"]),
            frozen(item["related"]),
            item["type"],
            item["reason"],
            item["action"],
        )

    def _write(self, item: dict[str, Any]) -> None:
        now = self.options.clock()
        key = self._key(item)
        with self._lock:
            series = self._series.get(key)
            if series is not None and now - series.last_seen > self.options.series_window:
                self._series.pop(key)
                series = None
            if series is not None:
                series.count += 1
                series.last_seen = now
                series.last_observed = micro_time()
                first_repeat = series.count == 2
        if series is None:
            self._create(key, item, now)
        elif first_repeat:
            self._patch_series(series)

    def _create(self, key: tuple[Any, ...], item: dict[str, Any], now: float) -> None:
        regarding = item["regarding"]
        namespace = regarding.get("namespace") or "default"
        name = f"{regarding.get('name') or 'event'}.{uuid.uuid4().hex[:16]}"
        event: dict[str, Any] = {
            "apiVersion": "events.k8s.io/v1",
            "kind": "Event",
            "metadata": {"name": name, "namespace": namespace},
            "eventTime": micro_time(),
            "reportingController": self.component,
            "reportingInstance": self.instance,
            "action": item["action"],
            "reason": item["reason"],
            "regarding": regarding,
            "note": item["note"],
            "type": item["type"],
        }
        if item["related"]:
            event["related"] = item["related"]
        try:
            self._client.create(event)
        except ApiError as error:
            log.warning(
                "event not recorded", extra={"reason": item["reason"], "error": error.message}
            )
            return
        self.written += 1
        with self._lock:
            self._series.put(key, _Series(name, namespace, 1, now, event["eventTime"], 1))

    def _patch_series(self, series: _Series) -> None:
        with self._lock:
            count, observed = series.count, series.last_observed
        reference = {
            "apiVersion": "events.k8s.io/v1",
            "kind": "Event",
            "metadata": {"name": series.name, "namespace": series.namespace},
        }
        try:
            self._client.patch(
                reference, {"series": {"count": count, "lastObservedTime": observed}}
            )
        except NotFound:
            log.info("event series gone, not refreshed", extra={"event": series.name})
            return
        except ApiError as error:
            log.warning("event series not refreshed", extra={"error": error.message})
            return
        with self._lock:
            series.patched_count = count
        self.written += 1

    def _refresh(self) -> None:
        """Patch every series whose count grew since it was last written."""
        with self._lock:
            growing = [s for _, s in self._series.items() if s.count > s.patched_count]
        for series in growing:
            self._patch_series(series)
