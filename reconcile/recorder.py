"""Event recorder: core/v1 Events with client-go's aggregation, never blocking a reconcile.

``event(obj, type, reason, message)`` puts the event on a bounded queue and returns; one
sender thread writes it. Like client-go's EventCorrelator:

- a repeat of the same (object, type, reason, message) patches ``count`` and
  ``lastTimestamp`` of the existing Event instead of creating another;
- more than ``similar_threshold`` different messages for the same (object, type, reason)
  within ``similar_window`` seconds collapse into one "(combined from similar events)" Event;
- each object gets a token bucket (``burst`` events, refilled one per ``refill_interval``
  seconds) so a hot loop cannot flood the API server; dropped events are counted.

What it remembers per object (aggregates, similar-message windows, buckets) is bounded by
``cache_size`` entries each (client-go's LRU of 4096): the least recently used object is
forgotten first, so a controller that touches millions of objects keeps constant memory.
``close`` stops the sender thread after it has written what was queued.
"""

from __future__ import annotations

import logging
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
from reconcile.timestamps import rfc3339

__all__ = ["DEFAULT_CACHE_SIZE", "EventRecorder", "RecorderOptions"]

DEFAULT_CACHE_SIZE = 4096
"""client-go's ``maxLruCacheEntries`` for the event correlator."""

log = logging.getLogger(__name__)
_COMBINED = "(combined from similar events): "


@dataclass(frozen=True, kw_only=True)
class RecorderOptions:
    burst: int = 25
    """Events one object may emit at once (client-go's spam filter burst)."""
    refill_interval: float = 300.0
    """Seconds per token refilled (client-go: one per 5 minutes)."""
    similar_threshold: int = 10
    similar_window: float = 600.0
    queue_size: int = 1000
    """Pending events; beyond this, new events are dropped (and counted)."""
    cache_size: int = DEFAULT_CACHE_SIZE
    """Objects (or event keys) remembered for aggregation and spam filtering."""
    clock: Callable[[], float] = field(default=time.monotonic)


@dataclass
class _Aggregate:
    name: str
    namespace: str
    count: int


class _Bucket:
    def __init__(self, burst: int, now: float) -> None:
        self.tokens = float(burst)
        self.last = now


class EventRecorder:
    """Records Events for one component (the ``source.component`` field)."""

    def __init__(
        self, client: Writer, component: str, options: RecorderOptions | None = None
    ) -> None:
        self._client = client
        self.component = component
        self.options = options or RecorderOptions()
        size = self.options.cache_size
        self._aggregates: LRU[tuple[str, ...], _Aggregate] = LRU(size)
        self._similar: LRU[tuple[str, ...], list[tuple[float, str]]] = LRU(size)
        self._buckets: LRU[str, _Bucket] = LRU(size)
        self._lock = threading.Lock()
        self.written = 0
        self._sender: BackgroundSender[dict[str, Any]] = BackgroundSender(
            f"events-{component}", self._write, queue_size=self.options.queue_size
        )

    @property
    def dropped(self) -> int:
        """Events not written: the queue was full, or the object's spam filter refused."""
        return self._sender.dropped

    def event(self, obj: dict[str, Any], event_type: str, reason: str, message: str) -> None:
        """Record an event about ``obj`` (``Normal`` or ``Warning``); never blocks."""
        if event_type not in ("Normal", "Warning"):
            raise ValueError(f"event type must be Normal or Warning, got {event_type!r}")
        meta = obj.get("metadata") or {}
        item = {
            "involvedObject": {
                "apiVersion": obj.get("apiVersion", ""),
                "kind": obj.get("kind", ""),
                "name": meta.get("name", ""),
                "namespace": meta.get("namespace", ""),
                "uid": meta.get("uid", ""),
                "resourceVersion": meta.get("resourceVersion", ""),
            },
            "type": event_type,
            "reason": reason,
            "message": message[:1024],
        }
        self._sender.submit(item)

    def eventf(
        self, obj: dict[str, Any], event_type: str, reason: str, fmt: str, *args: Any
    ) -> None:
        self.event(obj, event_type, reason, fmt % args)

    def flush(self, timeout: float = 10.0) -> bool:
        """Wait until every queued event was written (tests and shutdown)."""
        return self._sender.flush(timeout)

    def close(self, timeout: float = 10.0) -> bool:
        """Write what is queued, then stop the sender thread; True if it ended in time."""
        return self._sender.close(timeout)

    def remembered(self) -> int:
        """Objects the recorder keeps state for (bounded by ``cache_size``)."""
        with self._lock:
            return max(len(self._aggregates), len(self._similar), len(self._buckets))

    def _allowed(self, uid: str, now: float) -> bool:
        options = self.options
        bucket = self._buckets.get(uid)
        if bucket is None:
            bucket = _Bucket(options.burst, now)
            self._buckets.put(uid, bucket)
        bucket.tokens = min(
            options.burst, bucket.tokens + (now - bucket.last) / options.refill_interval
        )
        bucket.last = now
        if bucket.tokens < 1:
            return False
        bucket.tokens -= 1
        return True

    def _correlate(self, item: dict[str, Any], now: float) -> tuple[tuple[str, ...], str]:
        involved = item["involvedObject"]
        similar_key = (involved["uid"] or involved["name"], item["type"], item["reason"])
        window = [
            (t, m)
            for t, m in self._similar.get(similar_key) or []
            if now - t < self.options.similar_window
        ]
        if item["message"] not in {m for _, m in window}:
            window.append((now, item["message"]))
        self._similar.put(similar_key, window)
        if len(window) > self.options.similar_threshold:
            return (*similar_key, _COMBINED), _COMBINED + item["message"]
        return (*similar_key, item["message"]), item["message"]

    def _write(self, item: dict[str, Any]) -> None:
        now = self.options.clock()
        involved = item["involvedObject"]
        with self._lock:
            if not self._allowed(involved["uid"] or involved["name"], now):
                self._sender.count_drop()
                return
            key, message = self._correlate(item, now)
            aggregate = self._aggregates.get(key)
        stamp = rfc3339()
        if aggregate is not None:
            try:
                self._client.patch(
                    {
                        "apiVersion": "v1",
                        "kind": "Event",
                        "metadata": {"name": aggregate.name, "namespace": aggregate.namespace},
                    },
                    {"count": aggregate.count + 1, "lastTimestamp": stamp, "message": message},
                )
                aggregate.count += 1
                self.written += 1
                return
            except NotFound:
                pass
        namespace = involved["namespace"] or "default"
        name = f"{involved['name']}.{uuid.uuid4().hex[:16]}"
        event = {
            "apiVersion": "v1",
            "kind": "Event",
            "metadata": {"name": name, "namespace": namespace},
            "involvedObject": involved,
            "reason": item["reason"],
            "message": message,
            "type": item["type"],
            "source": {"component": self.component},
            "firstTimestamp": stamp,
            "lastTimestamp": stamp,
            "count": 1,
            "reportingComponent": self.component,
        }
        try:
            self._client.create(event)
        except ApiError as error:
            log.warning(
                "event not recorded", extra={"reason": item["reason"], "error": error.message}
            )
            return
        with self._lock:
            self._aggregates.put(key, _Aggregate(name, namespace, 1))
        self.written += 1
