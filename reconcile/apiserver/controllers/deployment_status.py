"""A Deployment's status from its ReplicaSets: the pure part of the Deployment controller.

Replica counts add up the sets' statuses; ``Available`` holds while at least ``replicas -
maxUnavailable`` pods are available; ``Progressing`` says which set is rolling out, that it
finished (``NewReplicaSetAvailable``, what ``kubectl rollout status`` waits for), or that
no progress was made for ``progressDeadlineSeconds`` (``ProgressDeadlineExceeded``, which
makes ``rollout status`` fail, as on a real cluster).
"""

from __future__ import annotations

import datetime as dt
import math
from typing import Any

__all__ = ["deployment_status", "spec_replicas", "status_count", "surge_and_unavailable"]

Condition = dict[str, Any]
_LAYOUT = "%Y-%m-%dT%H:%M:%SZ"


def _resolve(value: Any, total: int, *, round_up: bool) -> int:
    if isinstance(value, str) and value.endswith("%"):
        share = total * int(value[:-1]) / 100
        return math.ceil(share) if round_up else math.floor(share)
    return int(value or 0)


def surge_and_unavailable(deployment: dict[str, Any], replicas: int) -> tuple[int, int]:
    rolling = ((deployment["spec"].get("strategy") or {}).get("rollingUpdate")) or {}
    surge = _resolve(rolling.get("maxSurge", "25%"), replicas, round_up=True)
    unavailable = _resolve(rolling.get("maxUnavailable", "25%"), replicas, round_up=False)
    if surge == 0 and unavailable == 0:
        unavailable = 1
    return surge, min(unavailable, replicas)


def spec_replicas(rs: dict[str, Any]) -> int:
    return int((rs.get("spec") or {}).get("replicas") or 0)


def status_count(rs: dict[str, Any], field: str) -> int:
    return int((rs.get("status") or {}).get(field) or 0)


def _condition(
    previous: list[Condition],
    kind: str,
    status: str,
    reason: str,
    message: str,
    now: str,
    *,
    touched: bool = False,
) -> Condition:
    """The condition, kept as it was when unchanged (``touched``: new lastUpdateTime)."""
    old = next((c for c in previous if c.get("type") == kind), None)
    same = old and (old.get("status"), old.get("reason"), old.get("message")) == (
        status,
        reason,
        message,
    )
    if old and same and not touched:
        return old
    transition = old["lastTransitionTime"] if old and old.get("status") == status else now
    return {
        "type": kind,
        "status": status,
        "lastUpdateTime": now,
        "lastTransitionTime": transition,
        "reason": reason,
        "message": message,
    }


def _stalled_for(previous: list[Condition], message: str, now: dt.datetime) -> float | None:
    """Seconds the Progressing condition has said ``message`` (None: it says something else)."""
    old = next((c for c in previous if c.get("type") == "Progressing"), None)
    if not old or old.get("message") != message or not old.get("lastUpdateTime"):
        return None
    since = dt.datetime.strptime(old["lastUpdateTime"], _LAYOUT).replace(tzinfo=dt.UTC)
    return (now - since).total_seconds()


_COUNTS = ("replicas", "updatedReplicas", "readyReplicas", "availableReplicas")


def deployment_status(
    deployment: dict[str, Any],
    new: dict[str, Any],
    sets: list[dict[str, Any]],
    *,
    created: bool,
    now: dt.datetime | None = None,
) -> tuple[dict[str, Any], float | None]:
    """The status to write, and seconds until the progress deadline needs a new look."""
    moment = now or dt.datetime.now(dt.UTC)
    stamp = moment.strftime(_LAYOUT)
    replicas = int(deployment["spec"].get("replicas", 1))
    _, unavailable = surge_and_unavailable(deployment, replicas)
    total = sum(status_count(rs, "replicas") for rs in sets)
    available = sum(status_count(rs, "availableReplicas") for rs in sets)
    updated = status_count(new, "replicas")
    status: dict[str, Any] = {
        "observedGeneration": deployment["metadata"].get("generation", 1),
        "replicas": total,
        "updatedReplicas": updated,
        "readyReplicas": sum(status_count(rs, "readyReplicas") for rs in sets),
        "availableReplicas": available,
        "unavailableReplicas": max(0, replicas - available),
    }
    status = {k: v for k, v in status.items() if v or k == "observedGeneration"}
    previous = (deployment.get("status") or {}).get("conditions") or []
    name = new["metadata"]["name"]
    complete = updated == replicas and total == replicas and available >= replicas
    recheck: float | None = None
    moved = any((deployment.get("status") or {}).get(k) != status.get(k) for k in _COUNTS)
    progress = ("True", "ReplicaSetUpdated", f'ReplicaSet "{name}" is progressing.')
    if created:
        progress = ("True", "NewReplicaSetCreated", f'Created new replica set "{name}"')
    elif complete:
        progress = ("True", "NewReplicaSetAvailable",
                    f'ReplicaSet "{name}" has successfully progressed.')  # fmt: skip
    elif not deployment["spec"].get("paused"):
        deadline = float(deployment["spec"].get("progressDeadlineSeconds", 600))
        timed_out = f'ReplicaSet "{name}" has timed out progressing.'
        stalled = 0.0 if moved else (_stalled_for(previous, progress[2], moment) or 0.0)
        expired = _stalled_for(previous, timed_out, moment) is not None or stalled >= deadline
        if expired and not moved:
            progress = ("False", "ProgressDeadlineExceeded", timed_out)
        else:
            recheck = max(1.0, deadline - stalled)
    if available >= replicas - unavailable:
        availability = ("True", "MinimumReplicasAvailable", "Deployment has minimum availability.")
    else:
        availability = ("False", "MinimumReplicasUnavailable",
                        "Deployment does not have minimum availability.")  # fmt: skip
    status["conditions"] = [
        _condition(previous, "Available", *availability, stamp),
        _condition(previous, "Progressing", *progress, stamp, touched=moved),
    ]
    return status, recheck
