"""``status.plan``: observed pool and pods -> next ledger and actions, one row per behaviour."""

from __future__ import annotations

import copy
from dataclasses import dataclass, field
from typing import Any

import pytest

from controllers.agentpool.status import plan, summarize
from tests.unit.controllers.agentpool.builders import (
    NOW,
    at,
    entry,
    idle,
    pod,
    pool,
    reserved,
    running,
)

LONG_NAME = "p" * 64


@dataclass(frozen=True, kw_only=True)
class Case:
    pool: dict[str, Any]
    pods: list[dict[str, Any]] = field(default_factory=list)
    create_error: str | None = None
    # expectations (None: not checked)
    states: dict[str, str] | None = None
    busy: dict[str, list[str]] | None = None
    slots: dict[str, list[int]] | None = None
    pending: list[str] | None = None
    create: tuple[str, ...] = ()
    delete: tuple[str, ...] = ()
    events: tuple[str, ...] = ()
    counts: dict[str, int] = field(default_factory=dict)
    conditions: dict[str, tuple[str, str]] = field(default_factory=dict)
    requeue_in: float | None = None


def _pending(*tasks: str, since: str = at(-10)) -> list[dict[str, Any]]:
    return [{"task": t, "since": since} for t in tasks]


def _one_idle_pod(*, idle_for: int) -> dict[str, Any]:
    """A pool that may shrink to nothing, with one pod idle for ``idle_for`` s (window 60 s)."""
    return pool(
        minReplicas=0,
        slotsPerAgent=1,
        scaleDownStabilizationSeconds=60,
        pods=[entry("p-0", idle(0), idle_since=at(-idle_for))],
    )


CASES = [
    pytest.param(
        Case(
            pool=pool(minReplicas=2),
            states={"p-0": "Starting", "p-1": "Starting"},
            create=("p-0", "p-1"),
            events=("ScaledUp",),
            counts={"replicas": 2, "readyReplicas": 0, "desiredReplicas": 2, "idleSlots": 0},
            conditions={"Ready": ("False", "AgentsStarting"), "Degraded": ("False", "AsExpected")},
        ),
        id="new-pool-records-then-creates-min-replicas",
    ),
    pytest.param(
        Case(
            pool=pool(pods=[entry("p-0", idle(0), state="Starting", uid="")]),
            create=("p-0",),
            states={"p-0": "Starting"},
        ),
        id="recorded-pod-not-yet-created-is-created-again-without-a-scale-event",
    ),
    pytest.param(
        Case(
            pool=pool(pods=[entry("p-0", idle(0), state="Starting", uid="")]),
            pods=[pod("p-0", "Pending", None)],
            states={"p-0": "Starting"},
        ),
        id="created-pod-gets-its-uid",
    ),
    pytest.param(
        Case(
            pool=pool(
                slotsPerAgent=2,
                pods=[entry("p-0", idle(0), idle(1), state="Starting")],
                pending=_pending("a"),
            ),
            pods=[pod("p-0")],
            states={"p-0": "Ready"},
            busy={"p-0": ["a"]},
            pending=[],
            counts={"busySlots": 1, "idleSlots": 1, "pendingClaims": 0, "readyReplicas": 1},
            conditions={"Ready": ("True", "AgentsReady")},
        ),
        id="pod-turning-ready-takes-pending-claims",
    ),
    pytest.param(
        Case(
            pool=pool(
                slotsPerAgent=2,
                pods=[
                    entry("p-0", reserved(0, "a"), running(1, "b")),
                    entry("p-1", idle(0), idle(1), idle_since=at(-5)),
                ],
            ),
            pods=[pod("p-1")],
            states={"p-1": "Ready"},
            busy={"p-1": ["a", "b"]},
            pending=[],
            events=("TasksRequeued",),
        ),
        id="vanished-pod-tasks-move-to-a-ready-pod",
    ),
    pytest.param(
        Case(
            pool=pool(
                slotsPerAgent=2,
                pods=[entry("p-0", reserved(0, "a", since=at(-5)), running(1, "b", at(-9)))],
            ),
            states={"p-0": "Starting"},
            pending=["b", "a"],
            create=("p-0",),
            events=("TasksRequeued", "ScaledUp"),
        ),
        id="vanished-pod-tasks-wait-oldest-first-for-a-new-pod",
    ),
    pytest.param(
        Case(
            pool=pool(pods=[entry("p-0", reserved(0, "a"), idle(1), idle(2), uid="old")]),
            pods=[pod("p-0", uid="new")],
            states={"p-0": "Ready"},
            busy={"p-0": ["a"]},
            events=("TasksRequeued",),
        ),
        id="pod-replaced-under-the-same-name-is-a-new-pod",
    ),
    pytest.param(
        Case(
            pool=pool(slotsPerAgent=1, pods=[entry("p-0", running(0, "a"))]),
            pods=[pod("p-0", "Failed", "False")],
            states={"p-0": "Failed", "p-1": "Starting"},
            pending=["a"],
            delete=("p-0",),
            create=("p-1",),
            events=("TasksRequeued", "ScaledUp"),
            conditions={"Degraded": ("True", "PodsNotHealthy")},
        ),
        id="failed-pod-requeues-its-tasks-is-deleted-and-replaced",
    ),
    pytest.param(
        Case(
            pool=pool(slotsPerAgent=1, pods=[entry("p-0", running(0, "a"))]),
            pods=[pod("p-0", deleting=True)],
            states={"p-0": "Terminating", "p-1": "Starting"},
            busy={"p-0": ["a"]},
            create=("p-1",),
            events=("ScaledUp",),
        ),
        id="pod-deleted-by-someone-keeps-its-tasks-until-gone",
    ),
    pytest.param(
        Case(
            pool=pool(slotsPerAgent=2, pods=[entry("p-0", running(0, "a"), idle(1))]),
            pods=[pod("p-0", "Running", "Unknown")],
            states={"p-0": "Unknown"},
            busy={"p-0": ["a"]},
            counts={"idleSlots": 0, "replicas": 1},
            conditions={"Degraded": ("True", "PodsNotHealthy")},
        ),
        id="unknown-pod-is-kept-and-takes-no-work",
    ),
    pytest.param(
        Case(
            pool=pool(
                slotsPerAgent=2,
                pods=[entry("p-0", running(0, "a"), idle(1), state="Ready")],
                pending=_pending("b"),
            ),
            pods=[pod("p-0", "Running", "False")],
            states={"p-0": "NotReady", "p-1": "Starting"},
            pending=["b"],
            create=("p-1",),
            events=("ScaledUp",),
        ),
        id="not-ready-pod-holds-its-task-pending-work-gets-a-new-pod",
    ),
    pytest.param(
        Case(
            pool=pool(
                slotsPerAgent=1,
                reservationTTLSeconds=60,
                pods=[entry("p-0", reserved(0, "a", since=at(-61), expires=at(-1)))],
                pending=_pending("b"),
            ),
            pods=[pod("p-0")],
            busy={"p-0": ["b"]},
            pending=[],
            events=("ReservationExpired",),
            requeue_in=60,
        ),
        id="expired-reservation-frees-its-slot-for-pending-work",
    ),
    pytest.param(
        Case(
            pool=pool(
                slotsPerAgent=1,
                reservationTTLSeconds=60,
                pods=[entry("p-0", reserved(0, "a", expires=at(30)))],
            ),
            pods=[pod("p-0")],
            busy={"p-0": ["a"]},
            requeue_in=30,
        ),
        id="reservation-expiry-schedules-a-reconcile",
    ),
    pytest.param(
        Case(
            pool=pool(
                slotsPerAgent=1,
                reservationTTLSeconds=60,
                pods=[entry("p-0", reserved(0, "a", since=at(-100)))],
            ),
            pods=[pod("p-0")],
            busy={"p-0": []},
            events=("ReservationExpired",),
        ),
        id="ttl-set-later-applies-to-old-reservations",
    ),
    pytest.param(
        Case(
            pool=pool(
                slotsPerAgent=1,
                pods=[entry("p-0", reserved(0, "a", since=at(-99999)))],
            ),
            pods=[pod("p-0")],
            busy={"p-0": ["a"]},
            requeue_in=None,
        ),
        id="without-ttl-a-reservation-waits-as-long-as-it-takes",
    ),
    pytest.param(
        Case(
            pool=_one_idle_pod(idle_for=61),
            pods=[pod("p-0")],
            states={"p-0": "Removing"},
            delete=("p-0",),
            events=("ScaledDown",),
            counts={"replicas": 0, "desiredReplicas": 0, "idleSlots": 0},
        ),
        id="idle-pod-past-the-window-is-marked-then-deleted",
    ),
    pytest.param(
        Case(
            pool=_one_idle_pod(idle_for=30),
            pods=[pod("p-0")],
            states={"p-0": "Ready"},
            requeue_in=31,
        ),
        id="idle-pod-within-the-window-waits-for-it",
    ),
    pytest.param(
        Case(
            pool=pool(
                minReplicas=0,
                slotsPerAgent=1,
                scaleDownStabilizationSeconds=0,
                pods=[
                    entry("p-0", reserved(0, "a")),
                    entry("p-1", idle(0), state="Starting", idle_since=at(-999)),
                    entry("p-2", idle(0), state="NotReady", idle_since=at(-999)),
                ],
            ),
            pods=[pod("p-0"), pod("p-1", "Pending", None), pod("p-2", "Running", "False")],
            states={"p-0": "Ready", "p-1": "Starting", "p-2": "NotReady"},
            counts={"desiredReplicas": 2},
        ),
        id="never-removes-a-busy-starting-or-not-ready-pod",
    ),
    pytest.param(
        Case(
            pool=pool(
                minReplicas=2,
                slotsPerAgent=1,
                scaleDownStabilizationSeconds=10,
                pods=[
                    entry("p-0", idle(0), idle_since=at(-500)),
                    entry("p-1", idle(0), idle_since=at(-900)),
                    entry("p-2", reserved(0, "a")),
                ],
            ),
            pods=[pod("p-0"), pod("p-1"), pod("p-2")],
            states={"p-0": "Ready", "p-1": "Removing", "p-2": "Ready"},
            delete=("p-1",),
            events=("ScaledDown",),
        ),
        id="longest-idle-goes-first",
    ),
    pytest.param(
        Case(
            pool=pool(minReplicas=1, replicas=3),
            create=("p-0", "p-1", "p-2"),
            events=("ScaledUp",),
            counts={"desiredReplicas": 3},
        ),
        id="spec-replicas-is-a-floor-above-min",
    ),
    pytest.param(
        Case(
            pool=pool(
                maxReplicas=1,
                slotsPerAgent=1,
                pods=[entry("p-0", reserved(0, "a"))],
                pending=_pending("b", "c"),
            ),
            pods=[pod("p-0")],
            pending=["b", "c"],
            counts={"desiredReplicas": 1, "pendingClaims": 2},
            conditions={"ScalingLimited": ("True", "MaxReplicasReached")},
        ),
        id="pending-work-at-max-replicas-is-scaling-limited",
    ),
    pytest.param(
        Case(
            pool=pool(slotsPerAgent=1, pods=[entry("p-0", idle(0), reserved(1, "a"), idle(2))]),
            pods=[pod("p-0")],
            slots={"p-0": [0, 1]},
            busy={"p-0": ["a"]},
        ),
        id="fewer-slots-per-agent-keeps-busy-slots-until-released",
    ),
    pytest.param(
        Case(
            pool=pool(slotsPerAgent=3, pods=[entry("p-0", idle(0))]),
            pods=[pod("p-0")],
            slots={"p-0": [0, 1, 2]},
            counts={"idleSlots": 3},
        ),
        id="more-slots-per-agent-adds-idle-slots",
    ),
    pytest.param(
        Case(
            pool=pool(LONG_NAME),
            conditions={"Degraded": ("True", "PoolNameTooLong")},
        ),
        id="pool-name-too-long-for-a-label-creates-nothing",
    ),
    pytest.param(
        Case(
            pool=pool(pods=[entry("p-0", idle(0), state="Starting", uid="")]),
            create_error='pods "p-0" is invalid: spec.containers: Required value',
            create=("p-0",),
            conditions={"Degraded": ("True", "FailedCreate")},
        ),
        id="failed-create-degrades-the-pool",
    ),
    pytest.param(
        Case(
            pool=pool(
                maxReplicas=1,
                slotsPerAgent=2,
                pods=[entry("p-0", running(0, "a"), running(1, "b"))],
                pending=_pending(*(f"w{i}" for i in range(511))),
            ),
            states={"p-0": "Failed", "p-1": "Starting"},
            busy={"p-0": ["b"]},
            create=("p-1",),
            events=("TasksRequeued", "ScaledUp"),
            counts={"pendingClaims": 512},
        ),
        id="no-task-dropped-when-pending-is-full",
    ),
]


@pytest.mark.parametrize("case", CASES)
def test_plan(case: Case) -> None:
    result = plan(case.pool, case.pods, NOW, create_error=case.create_error)
    status = result.status
    entries = {e["name"]: e for e in status["pods"]}
    if case.states is not None:
        assert {n: e["state"] for n, e in entries.items()} == case.states
    if case.busy is not None:
        for name, tasks in case.busy.items():
            held = [s["task"] for s in entries[name]["slots"] if s.get("task")]
            assert held == tasks, f"{name} holds {held}, expected {tasks}"
        others = {n for n, e in entries.items() if any(s.get("task") for s in e["slots"])}
        assert others <= set(case.busy), f"unexpected busy pods {others - set(case.busy)}"
    if case.slots is not None:
        for name, indices in case.slots.items():
            assert [s["index"] for s in entries[name]["slots"]] == indices
    if case.pending is not None:
        assert [c["task"] for c in status["pending"]] == case.pending
    assert result.create == case.create
    assert tuple(name for name, _ in result.delete) == case.delete
    assert tuple(e.reason for e in result.events) == case.events
    for key, value in case.counts.items():
        assert status[key] == value, f"{key}: expected {value}, got {status[key]}"
    conditions = {c["type"]: (c["status"], c["reason"]) for c in status["conditions"]}
    for kind, expected in case.conditions.items():
        assert conditions[kind] == expected, f"{kind}: {conditions[kind]}"
    waited = None if result.requeue_at is None else (result.requeue_at - NOW).total_seconds()
    assert waited == case.requeue_in


@pytest.mark.parametrize("case", CASES)
def test_plan_is_stable(case: Case) -> None:
    """Planning again from the stored status changes nothing: no write, no new event."""
    first = plan(case.pool, case.pods, NOW, create_error=case.create_error)
    stored = {**case.pool, "status": copy.deepcopy(first.status)}
    second = plan(stored, case.pods, NOW, create_error=case.create_error)
    assert second.status == first.status
    assert second.events == ()
    assert second.create == first.create
    assert second.delete == first.delete


@pytest.mark.parametrize("case", CASES)
def test_summarize_agrees_with_plan(case: Case) -> None:
    """Claimers recompute the counts with summarize; the operator must not disagree."""
    status = plan(case.pool, case.pods, NOW).status
    recount = copy.deepcopy(status)
    summarize(recount, case.pool["spec"])
    assert recount == status
