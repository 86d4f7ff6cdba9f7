"""A Deployment's status from its ReplicaSets, including the progress deadline."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from reconcile.apiserver.controllers.deployment_status import deployment_status

NOW = dt.datetime(2026, 1, 1, 12, 0, 0, tzinfo=dt.UTC)


def _deployment(status: dict[str, Any] | None = None, **spec: Any) -> dict[str, Any]:
    return {
        "metadata": {"name": "web", "generation": 2},
        "spec": {"replicas": 3, "progressDeadlineSeconds": 600, **spec},
        "status": status or {},
    }


def _rs(name: str, replicas: int, available: int) -> dict[str, Any]:
    return {
        "metadata": {"name": name},
        "spec": {"replicas": replicas},
        "status": {
            "replicas": replicas,
            "availableReplicas": available,
            "readyReplicas": available,
        },
    }


def _progressing(message: str, minutes_ago: int) -> dict[str, Any]:
    stamp = (NOW - dt.timedelta(minutes=minutes_ago)).strftime("%Y-%m-%dT%H:%M:%SZ")
    return {"type": "Progressing", "status": "True", "reason": "ReplicaSetUpdated",
            "message": message, "lastUpdateTime": stamp, "lastTransitionTime": stamp}  # fmt: skip


STUCK = {"replicas": 3, "updatedReplicas": 1, "readyReplicas": 2, "availableReplicas": 2}


@pytest.mark.parametrize(
    ("deployment", "sets", "created", "reason", "recheck"),
    [
        pytest.param(_deployment(), [_rs("new", 3, 3)], False, "NewReplicaSetAvailable", None,
                     id="complete"),
        pytest.param(_deployment(), [_rs("new", 1, 0)], True, "NewReplicaSetCreated", None,
                     id="just-created"),
        pytest.param(_deployment({**STUCK, "unavailableReplicas": 1, "conditions": [
            _progressing('ReplicaSet "new" is progressing.', 5)]}),
            [_rs("new", 1, 0), _rs("old", 2, 2)], False, "ReplicaSetUpdated", 300.0,
            id="stalled-within-deadline"),
        pytest.param(_deployment({**STUCK, "unavailableReplicas": 1, "conditions": [
            _progressing('ReplicaSet "new" is progressing.', 11)]}),
            [_rs("new", 1, 0), _rs("old", 2, 2)], False, "ProgressDeadlineExceeded", None,
            id="deadline-exceeded"),
        pytest.param(_deployment({"conditions": [
            _progressing('ReplicaSet "new" is progressing.', 11)]}),
            [_rs("new", 1, 0), _rs("old", 2, 2)], False, "ReplicaSetUpdated", 600.0,
            id="progress-resets-the-deadline"),
    ],
)  # fmt: skip
def test_progressing_condition(
    deployment: dict[str, Any],
    sets: list[dict[str, Any]],
    created: bool,
    reason: str,
    recheck: float | None,
) -> None:
    status, again = deployment_status(deployment, sets[0], sets, created=created, now=NOW)
    conditions = {c["type"]: c for c in status["conditions"]}
    assert conditions["Progressing"]["reason"] == reason
    assert again == recheck
    assert status["observedGeneration"] == 2


def test_counts_and_availability() -> None:
    status, _ = deployment_status(
        _deployment(), _rs("new", 2, 1), [_rs("new", 2, 1), _rs("old", 1, 1)], created=False,
        now=NOW,
    )  # fmt: skip
    assert (status["replicas"], status["updatedReplicas"], status["availableReplicas"]) == (3, 2, 2)
    assert status["unavailableReplicas"] == 1
    available = next(c for c in status["conditions"] if c["type"] == "Available")
    # maxUnavailable 25% of 3 rounds down to 0: all three must be available
    assert (available["status"], available["reason"]) == ("False", "MinimumReplicasUnavailable")
