"""The AgentPool reconciler: read, plan (``status.plan``), store the ledger, then act on pods.

Safety comes from the order, which every reconcile follows:

1. The controller runs only after the manager's cache has synced pools and pods, so "a pod
   is not in the cache" never means "the cache is still empty". A ledger entry whose pod
   the cache lacks is looked up on the API server before it counts as gone (a pod created a
   moment ago may not have reached the cache yet).
2. The new status, ledger reconciled against those live pods, is stored with the
   resourceVersion it was computed from. A claim written meanwhile makes the write conflict,
   and the plan is made again from the fresh pool (read from the API server, not the cache).
3. Only then are pods created and deleted, and only those the stored status says: a pod is
   deleted only if the stored ledger marks it Removing (idle, Ready, past the window) or
   Failed (its tasks already back to pending), with its UID as a precondition. Claimers
   never hand out a slot of a pod that is not Ready, so no claim can land on it afterwards.

Time comes from ``clock`` (UTC ``datetime``), so tests can place it.
"""

from __future__ import annotations

import datetime as dt
import logging
import threading
from collections.abc import Callable
from typing import Any, Protocol

from controllers.agentpool import status as pool_status
from controllers.agentpool.metrics import AgentPoolMetrics
from controllers.agentpool.options import AgentPoolOptions
from controllers.agentpool.pods import (
    DELETION_COST,
    DELETION_COST_ANNOTATION,
    POD,
    POOL_LABEL,
    build_pod,
    is_controlled_by,
)
from controllers.agentpool.status import Plan
from crds import AgentPool
from reconcile.client import retry_on_conflict
from reconcile.client.interfaces import ObjectClient, Reader
from reconcile.errors import AlreadyExists, ApiError, Conflict, NotFound
from reconcile.reconciler import Request, Result
from reconcile.recorder import EventRecorder

__all__ = ["STATUS_WRITE_ATTEMPTS", "AgentPoolReconciler", "utc_now"]

log = logging.getLogger(__name__)

Obj = dict[str, Any]

STATUS_WRITE_ATTEMPTS = 8
"""Conflicting status writes retried within one reconcile (claimers write the same object);
after that the error requeues the pool with backoff."""
_TIMER_SLACK = 0.05
"""Seconds added to a scheduled wake-up so the moment it waits for has surely passed."""


def utc_now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


class OptionsSource(Protocol):
    """Where the current options come from (the hot-reloaded config section)."""

    @property
    def current(self) -> Any: ...


class AgentPoolReconciler:
    """Keeps each pool's ledger true to its pods, and its pods sized to its work."""

    def __init__(
        self,
        *,
        client: ObjectClient,
        api_reader: Reader,
        recorder: EventRecorder,
        metrics: AgentPoolMetrics,
        options: OptionsSource,
        clock: Callable[[], dt.datetime] = utc_now,
    ) -> None:
        """``client`` reads from the cache and writes to the API server; ``api_reader``
        reads from the API server (fresh reads after a conflict, confirming a pod is gone)."""
        self.client = client
        self.api_reader = api_reader
        self.recorder = recorder
        self.metrics = metrics
        self.options = options
        self.clock = clock
        self._create_errors: dict[Request, str] = {}
        self._lock = threading.Lock()

    def reconcile(self, request: Request) -> Result:
        try:
            pool = self.client.get(AgentPool, request.name, request.namespace)
        except NotFound:
            self.metrics.forget(request.namespace, request.name)
            with self._lock:
                self._create_errors.pop(request, None)
            return Result()
        if pool["metadata"].get("deletionTimestamp"):
            return Result()  # the garbage collector removes its pods
        pods = self._live_pods(pool)
        plan, pool = self._store(request, pool, pods)
        self._record(pool, plan)
        self._create(request, pool, plan.create)
        self._delete(pool, plan.delete)
        return Result(requeue_after=self._next_wake(plan))

    def _live_pods(self, pool: Obj) -> list[Obj]:
        """The pool's pods from the cache, plus ledger pods the cache has not seen yet."""
        meta = pool["metadata"]
        listed = self.client.list(
            POD, namespace=meta["namespace"], label_selector={POOL_LABEL: meta["name"]}
        )
        pods = {p["metadata"]["name"]: p for p in listed["items"] if is_controlled_by(p, pool)}
        for entry in (pool.get("status") or {}).get("pods") or []:
            seen = pods.get(entry["name"])
            if seen is not None and seen["metadata"].get("uid") == entry.get("uid"):
                continue
            try:
                fresh = self.api_reader.get(POD, entry["name"], meta["namespace"])
            except NotFound:
                continue
            if is_controlled_by(fresh, pool):
                pods[entry["name"]] = fresh
        return list(pods.values())

    def _store(self, request: Request, pool: Obj, pods: list[Obj]) -> tuple[Plan, Obj]:
        """Plan and store the status; on a conflict, plan again from a fresh read."""
        attempts = [0]

        def attempt() -> tuple[Plan, Obj]:
            current = pool
            if attempts[0]:
                current = self.api_reader.get(AgentPool, request.name, request.namespace)
            attempts[0] += 1
            with self._lock:
                error = self._create_errors.get(request)
            plan = pool_status.plan(current, pods, self.clock(), create_error=error)
            if plan.status == current.get("status"):
                return plan, current
            stored = self.client.status().update({**current, "status": plan.status})
            return plan, stored

        try:
            return retry_on_conflict(attempt, attempts=STATUS_WRITE_ATTEMPTS)
        except Conflict:
            log.info("ledger write kept conflicting, requeued", extra={"attempts": attempts[0]})
            raise

    def _record(self, pool: Obj, plan: Plan) -> None:
        meta = pool["metadata"]
        for event in plan.events:
            self.recorder.event(pool, event.type, event.reason, event.message)
            log.info("agentpool event", extra={"reason": event.reason, "detail": event.message})
        if plan.scaled is not None:
            self.metrics.scaled(meta["namespace"], meta["name"], plan.scaled)
        self.metrics.observe(meta["namespace"], meta["name"], pool.get("status") or {})

    def _create(self, request: Request, pool: Obj, names: tuple[str, ...]) -> None:
        for name in names:
            try:
                self.client.create(build_pod(pool, name))
            except AlreadyExists:
                continue
            except ApiError as error:
                with self._lock:
                    self._create_errors[request] = error.message
                self.recorder.event(pool, "Warning", "FailedCreate", error.message[:1024])
                raise
            log.info("agent pod created", extra={"pod": name})
        with self._lock:
            self._create_errors.pop(request, None)

    def _delete(self, pool: Obj, targets: tuple[tuple[str, str], ...]) -> None:
        namespace = pool["metadata"]["namespace"]
        states = {e["name"]: e.get("state") for e in (pool.get("status") or {}).get("pods") or []}
        for name, uid in targets:
            stub: Obj = {"apiVersion": "v1", "kind": "Pod"}
            stub["metadata"] = {"name": name, "namespace": namespace}
            try:
                if states.get(name) == "Removing":
                    annotations = {DELETION_COST_ANNOTATION: DELETION_COST}
                    self.client.patch(stub, {"metadata": {"annotations": annotations}})
                self.client.delete(stub, preconditions={"uid": uid} if uid else None)
            except (NotFound, Conflict):
                continue  # already gone, or replaced by a pod with another UID
            log.info("agent pod deleted", extra={"pod": name, "state": states.get(name)})

    def _next_wake(self, plan: Plan) -> float:
        resync = float(_resync(self.options))
        if plan.requeue_at is None:
            return resync
        wait = (plan.requeue_at - self.clock()).total_seconds() + _TIMER_SLACK
        return max(_TIMER_SLACK, min(resync, wait))


def _resync(options: OptionsSource) -> float:
    current = options.current
    if isinstance(current, AgentPoolOptions):
        return current.resync_seconds
    return AgentPoolOptions().resync_seconds
