"""Small builders of pools, ledgers and pods for the pure AgentPool tests."""

from __future__ import annotations

import datetime as dt
from typing import Any

NOW = dt.datetime(2026, 11, 24, 12, 0, 0, tzinfo=dt.UTC)
T0 = "2026-11-24T12:00:00Z"


def at(seconds: float) -> str:
    """NOW + seconds, as the ledger writes times."""
    return (NOW + dt.timedelta(seconds=seconds)).strftime("%Y-%m-%dT%H:%M:%SZ")


def idle(index: int) -> dict[str, Any]:
    return {"index": index, "state": "Idle"}


def reserved(index: int, task: str, since: str = T0, expires: str | None = None) -> dict[str, Any]:
    slot = {"index": index, "state": "Reserved", "task": task, "since": since}
    if expires:
        slot["expiresAt"] = expires
    return slot


def running(index: int, task: str, since: str = T0) -> dict[str, Any]:
    return {"index": index, "state": "Running", "task": task, "since": since}


def entry(
    name: str,
    *slots: dict[str, Any],
    state: str = "Ready",
    uid: str | None = None,
    idle_since: str | None = None,
) -> dict[str, Any]:
    found: dict[str, Any] = {
        "name": name,
        "uid": f"uid-{name}" if uid is None else uid,
        "state": state,
        "slots": list(slots),
    }
    if idle_since:
        found["idleSince"] = idle_since
    return found


def pool(
    name: str = "p",
    *,
    pods: list[dict[str, Any]] | None = None,
    pending: list[dict[str, Any]] | None = None,
    **spec: Any,
) -> dict[str, Any]:
    status: dict[str, Any] = {}
    if pods is not None:
        status["pods"] = pods
    if pending is not None:
        status["pending"] = pending
    return {
        "apiVersion": "kreconcile.io/v1alpha1",
        "kind": "AgentPool",
        "metadata": {"name": name, "namespace": "ns", "uid": "pool-uid", "generation": 1},
        "spec": {"template": {"spec": {"containers": []}}, "maxReplicas": 5, **spec},
        "status": status,
    }


def pod(
    name: str,
    phase: str = "Running",
    ready: str | None = "True",
    *,
    uid: str | None = None,
    deleting: bool = False,
) -> dict[str, Any]:
    meta: dict[str, Any] = {"name": name, "namespace": "ns", "uid": uid or f"uid-{name}"}
    if deleting:
        meta["deletionTimestamp"] = T0
    status: dict[str, Any] = {"phase": phase}
    if ready is not None:
        status["conditions"] = [{"type": "Ready", "status": ready}]
    return {"apiVersion": "v1", "kind": "Pod", "metadata": meta, "status": status}
