"""The pod controller: one RestartRecord per pod that restarted, kept after the pod is gone.

A record is named after its pod and lives in the pod's namespace, so a Pod event and a
RestartRecord event map to the same Request. Each reconcile reads both from the cache
(shared objects, never mutated), lets ``status.observe_pod`` compute the new status, and
writes it with the record's resourceVersion (a full status update): the API server refuses
a write based on an older record with 409, and the retry re-reads the record from the API
server, so two replicas, or a stale cache, can never double-count. The pod read from the
cache may lag the record; the counting rules make a lagging pod add nothing.

The record is not owned by the pod. When the pod is gone, ``podDeletedAt`` is set once; the
record is deleted a retention period later (preconditions on its UID and resourceVersion,
so a record that changed meanwhile is re-examined instead).
"""

from __future__ import annotations

import logging
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from typing import Any

from controllers.restarts.options import RestartsOptions
from controllers.restarts.status import Observed, expires_at, observe_pod, observe_pod_gone
from controllers.restarts.workload import WorkloadResolver, workload_labels
from crds.restartrecord import RestartRecord
from reconcile.cache import InformerCache
from reconcile.client import ObjectClient, Reader, retry_on_conflict
from reconcile.errors import AlreadyExists, NotFound
from reconcile.gvk import GroupVersionKind, KindLike
from reconcile.reconciler import Request, Result
from reconcile.timestamps import rfc3339

__all__ = [
    "POD",
    "RECORD",
    "RecentWrites",
    "RestartRecordReconciler",
    "StatusFunc",
    "cached",
    "write_status",
]

log = logging.getLogger(__name__)

POD = GroupVersionKind("", "v1", "Pod")
RECORD = RestartRecord.GVK

StatusFunc = Callable[[dict[str, Any] | None, int | None], dict[str, Any] | None]
"""(current status, metadata.generation) -> new status, or None when nothing changes."""


class RecentWrites:
    """The records this process wrote last, until the cache has caught up with them.

    Right after a status write the cache still holds the record it was based on; the next
    restart of the same pod would be computed on that and refused with 409. Remembering
    (the resourceVersion a write replaced, the record it produced) lets ``fresh`` hand out
    the written record while the cache shows exactly the replaced version; any other
    version (ours arrived, or another writer's) is the cache's to give. Bounded: the least
    recently written records are forgotten first (they only cost a conflict then).
    """

    def __init__(self, size: int = 4096) -> None:
        self._size = size
        self._items: OrderedDict[tuple[str, str], tuple[str, dict[str, Any]]] = OrderedDict()
        self._lock = threading.Lock()

    @staticmethod
    def _key(obj: dict[str, Any]) -> tuple[str, str]:
        meta = obj["metadata"]
        return str(meta.get("namespace") or ""), str(meta["name"])

    def fresh(self, cached: dict[str, Any]) -> dict[str, Any]:
        """The newest record known: ``cached``, or what we wrote over that very version."""
        key = self._key(cached)
        with self._lock:
            known = self._items.get(key)
            if known is None:
                return cached
            replaced, written = known
            if cached["metadata"].get("resourceVersion") == replaced:
                return written
            del self._items[key]
            return cached

    def wrote(self, replaced: str, written: dict[str, Any]) -> None:
        key = self._key(written)
        with self._lock:
            self._items[key] = (replaced, written)
            self._items.move_to_end(key)
            if len(self._items) > self._size:
                self._items.popitem(last=False)


def write_status(
    client: ObjectClient,
    api_reader: Reader,
    record: dict[str, Any],
    compute: StatusFunc,
    recent: RecentWrites | None = None,
) -> dict[str, Any]:
    """Write ``compute(status)`` with optimistic concurrency; return the record as stored.

    The first attempt uses ``record`` (usually from the cache, or from ``recent``); after a
    409 the record is read again from the API server, since the cache may lag.
    """
    meta = record["metadata"]
    first = [recent.fresh(record) if recent is not None else record]

    def attempt() -> dict[str, Any]:
        current = first.pop() if first else api_reader.get(RECORD, meta["name"], meta["namespace"])
        status = compute(current.get("status"), current["metadata"].get("generation"))
        if status is None:
            return current
        written = client.status().update({**current, "status": status})
        if recent is not None:
            recent.wrote(str(current["metadata"].get("resourceVersion") or ""), written)
        return written

    return retry_on_conflict(attempt)


def cached(cache: InformerCache, kind: KindLike, request: Request) -> dict[str, Any] | None:
    """The shared cached object (read-only), or None."""
    try:
        return cache.get(kind, request.name, request.namespace, copy=False)
    except NotFound:
        return None


class RestartRecordReconciler:
    """Reconciles ``namespace/name`` of a pod and of its record."""

    def __init__(
        self,
        *,
        cache: InformerCache,
        client: ObjectClient,
        api_reader: Reader,
        workloads: WorkloadResolver,
        options: Callable[[], RestartsOptions],
        clock: Callable[[], float] = time.time,
    ) -> None:
        """``options`` returns the settings in force (hot-reloaded); ``clock`` Unix seconds."""
        self._cache = cache
        self._client = client
        self._api_reader = api_reader
        self._workloads = workloads
        self._options = options
        self._clock = clock
        self._recent = RecentWrites()

    def reconcile(self, request: Request) -> Result:
        pod = cached(self._cache, POD, request)
        record = cached(self._cache, RECORD, request)
        if record is not None and not (record.get("spec") or {}).get("podName"):
            return Result()  # the namespace's inspection record, not a pod's
        options = self._options()
        now = self._clock()
        if pod is None:
            return Result() if record is None else self._pod_gone(record, now, options.retention)
        stamp = rfc3339(now)
        if record is None:
            first = observe_pod(None, pod, now=stamp, history_limit=options.history_limit)
            if first is None or not first.counted:
                return Result()  # never restarted: no record
            record = self._create(pod)

        outcome: list[Observed] = []

        def compute(status: dict[str, Any] | None, generation: int | None) -> dict[str, Any] | None:
            outcome.clear()
            observed = observe_pod(
                status, pod, now=stamp, history_limit=options.history_limit, generation=generation
            )
            if observed is None:
                return None
            outcome.append(observed)
            return observed.status

        write_status(self._client, self._api_reader, record, compute, self._recent)
        for observed in outcome:
            if observed.counted:
                log.info("restarts recorded", extra={"counted": observed.counted})
            if observed.skipped:
                log.warning(
                    "pod has more containers than a record holds; not recorded",
                    extra={"containers": ",".join(observed.skipped)},
                )
        return Result()

    def _create(self, pod: dict[str, Any]) -> dict[str, Any]:
        meta = pod["metadata"]
        workload = self._workloads.resolve(pod)
        spec: dict[str, Any] = {"podName": meta["name"]}
        if workload is not None:
            spec["workload"] = {"kind": workload.kind, "name": workload.name}
        body = {
            "apiVersion": RECORD.api_version,
            "kind": RECORD.kind,
            "metadata": {
                "name": meta["name"],
                "namespace": meta["namespace"],
                "labels": workload_labels(workload),
            },
            "spec": spec,
        }
        try:
            return self._client.create(body)
        except AlreadyExists:  # another replica, or a cache that has not seen it yet
            return self._api_reader.get(RECORD, meta["name"], meta["namespace"])

    def _pod_gone(self, record: dict[str, Any], now: float, retention: float) -> Result:
        stamp = rfc3339(now)
        record = write_status(
            self._client,
            self._api_reader,
            record,
            lambda status, generation: observe_pod_gone(status, now=stamp, generation=generation),
            self._recent,
        )
        expiry = expires_at(record.get("status"), retention)
        if expiry is None:
            return Result()
        if now < expiry:
            return Result(requeue_after=expiry - now)
        meta = record["metadata"]
        try:
            self._client.delete(
                record,
                preconditions={"uid": meta["uid"], "resourceVersion": meta["resourceVersion"]},
            )
        except NotFound:
            return Result()
        log.info(
            "record deleted after retention",
            extra={"podDeletedAt": record["status"]["podDeletedAt"]},
        )
        return Result()
