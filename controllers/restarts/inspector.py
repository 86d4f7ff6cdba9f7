"""The namespace inspection controller: one inspection record per inspected namespace.

Requests are ``<namespace>/namespace-inspection``. They come from Namespaces appearing,
inspection records appearing, every config reload (``reload.Reinspect``), and each reconcile's
own ``requeue_after``: the next inspection is due ``interval`` after the
``lastInspectedAt`` written in status, so a restarted operator (or a new leader) keeps the
rhythm instead of inspecting everything at once.

Each inspection reads the namespace's records and pods from the cache, runs the pure
``inspection.inspect``, writes the status with the record's resourceVersion, and only
then sends the Warning Event: a silence is persisted before its Event exists, so a crash
between the two may lose one Event but never sends two. A conflicting write (another
replica inspected meanwhile) is retried through the queue's backoff, by which time the
status says the inspection is not due.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Collection
from typing import Any

from controllers.restarts.inspection import inspect, observe_namespace, root_cause
from controllers.restarts.options import RestartsOptions
from controllers.restarts.reconciler import POD, RECORD, cached
from controllers.restarts.status import set_status_condition
from reconcile.cache import InformerCache
from reconcile.client import ObjectClient, Reader
from reconcile.conditions import find_condition
from reconcile.errors import AlreadyExists
from reconcile.gvk import GroupVersionKind
from reconcile.reconciler import Request, Result
from reconcile.recorder import EventRecorder
from reconcile.timestamps import parse_time, rfc3339

__all__ = [
    "ABNORMAL",
    "INSPECTING",
    "INSPECTION_RECORD",
    "NAMESPACE",
    "NamespaceInspector",
]

log = logging.getLogger(__name__)

NAMESPACE = GroupVersionKind("", "v1", "Namespace")
INSPECTION_RECORD = "namespace-inspection"
"""Name of the inspection record in each inspected namespace."""
INSPECTING = "Inspecting"
"""Condition: True while the namespace is inspected, False once the config drops it."""
ABNORMAL = "Abnormal"
"""Condition: True while an anomaly lasts."""


class NamespaceInspector:
    """Reconciles ``<namespace>/namespace-inspection``."""

    def __init__(
        self,
        *,
        cache: InformerCache,
        client: ObjectClient,
        api_reader: Reader,
        recorder: EventRecorder,
        options: Callable[[], RestartsOptions],
        namespaces: Collection[str] = (),
        clock: Callable[[], float] = time.time,
    ) -> None:
        """``namespaces``: the operator's watch namespaces (empty: all)."""
        self._cache = cache
        self._client = client
        self._api_reader = api_reader
        self._recorder = recorder
        self._options = options
        self._namespaces = frozenset(namespaces)
        self._clock = clock

    def cluster_for(self, namespace: str) -> str | None:
        """The cluster name ``namespace`` is inspected under, or None if it is not."""
        if self._namespaces and namespace not in self._namespaces:
            return None
        return self._options().inspection.cluster_for(namespace)

    def requests_for_namespace(self, namespace: dict[str, Any]) -> list[Request]:
        name = str((namespace.get("metadata") or {}).get("name") or "")
        return [Request(name, INSPECTION_RECORD)] if self.cluster_for(name) else []

    def reconcile(self, request: Request) -> Result:
        if request.name != INSPECTION_RECORD:
            return Result()
        record = cached(self._cache, RECORD, request)
        if record is not None and not (record.get("spec") or {}).get("inspection"):
            log.warning("a pod record has the inspection record's name; namespace not inspected")
            return Result()
        cluster = self.cluster_for(request.namespace)
        if cluster is None:
            if record is not None:
                self._mark(record, "False", "NotConfigured", "the config no longer names it")
            return Result()
        record = self._ensure(request.namespace, cluster, record)
        settings = self._options().inspection
        now = self._clock()
        status = record.get("status") or {}
        last = parse_time((status.get("inspection") or {}).get("lastInspectedAt"))
        if last is not None and now < last + settings.interval and self._inspecting(record):
            return Result(requeue_after=last + settings.interval - now)
        self._inspect(record, cluster, now)
        return Result(requeue_after=settings.interval)

    def _inspecting(self, record: dict[str, Any]) -> bool:
        conditions = (record.get("status") or {}).get("conditions") or []
        found = find_condition(conditions, INSPECTING)
        return found is not None and found.get("status") == "True"

    def _ensure(
        self, namespace: str, cluster: str, record: dict[str, Any] | None
    ) -> dict[str, Any]:
        if record is None:
            body = {
                "apiVersion": RECORD.api_version,
                "kind": RECORD.kind,
                "metadata": {"name": INSPECTION_RECORD, "namespace": namespace},
                "spec": {"inspection": {"clusterName": cluster}},
            }
            try:
                return self._client.create(body)
            except AlreadyExists:
                return self._api_reader.get(RECORD, INSPECTION_RECORD, namespace)
        if record["spec"]["inspection"].get("clusterName") != cluster:
            return self._client.patch(record, {"spec": {"inspection": {"clusterName": cluster}}})
        return record

    def _mark(self, record: dict[str, Any], state: str, reason: str, message: str) -> None:
        status = dict(record.get("status") or {})
        set_status_condition(status, INSPECTING, state, reason, message, rfc3339(self._clock()))
        if status != (record.get("status") or {}):
            self._client.status().update({**record, "status": status})

    def _inspect(self, record: dict[str, Any], cluster: str, now: float) -> None:
        namespace = record["metadata"]["namespace"]
        settings = self._options().inspection
        records = self._cache.list(RECORD, namespace=namespace, copy=False)["items"]
        pods = self._cache.list(POD, namespace=namespace, copy=False)["items"]
        observation = observe_namespace(records, pods, now=now, window=settings.window)
        by_name = {p["metadata"]["name"]: p for p in pods}

        def anomaly(started_at: float | None, not_before: float | None) -> dict[str, Any]:
            return root_cause(
                observation,
                by_name,
                now=now,
                window=settings.window,
                cluster=cluster,
                namespace=namespace,
                started_at=started_at,
                not_before=not_before,
            )

        old = record.get("status") or {}
        verdict = inspect(old.get("inspection"), observation, anomaly, settings, now=now)
        status = {**old, "inspection": verdict.inspection}
        stamp = rfc3339(now)
        set_status_condition(status, INSPECTING, "True", "Configured", f"cluster {cluster}", stamp)
        abnormal = verdict.inspection["state"] == "Abnormal"
        set_status_condition(
            status,
            ABNORMAL,
            "True" if abnormal else "False",
            "AbnormalRestarts" if abnormal else "Normal",
            (verdict.inspection.get("current") or {}).get("summary", "")[:1024],
            stamp,
        )
        self._client.status().update({**record, "status": status})
        self._announce(namespace, verdict.inspection, verdict.fire, verdict.recovered)

    def _announce(
        self,
        namespace: str,
        inspection: dict[str, Any],
        fire: bool,
        recovered: dict[str, Any] | None,
    ) -> None:
        target = self._namespace_object(namespace)
        if fire:
            summary = inspection["current"]["summary"]
            log.info("namespace restarting abnormally", extra={"summary": summary})
            self._recorder.event(target, "Warning", "AbnormalRestarts", summary)
        if recovered is not None:
            message = (
                f"restarts back to normal at {recovered['recoveredAt']} after "
                f"{recovered['durationSeconds']}s (abnormal since {recovered['startedAt']})"
            )
            log.info("namespace recovered", extra={"detail": message})
            self._recorder.event(target, "Normal", "RestartsRecovered", message)

    def _namespace_object(self, namespace: str) -> dict[str, Any]:
        found = cached(self._cache, NAMESPACE, Request("", namespace)) or {}
        meta = found.get("metadata") or {}
        return {
            "apiVersion": "v1",
            "kind": "Namespace",
            "metadata": {
                "name": namespace,
                "uid": meta.get("uid", ""),
                "resourceVersion": meta.get("resourceVersion", ""),
            },
        }
