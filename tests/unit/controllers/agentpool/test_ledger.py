"""Slot operations on the raw ledger: placement, idempotence, start, release, invariants."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from controllers.agentpool import ledger
from controllers.agentpool.ledger import (
    MAX_PENDING,
    Pending,
    PendingFull,
    SlotRef,
    TaskPending,
    UnknownTask,
    WrongPod,
)
from reconcile.timestamps import rfc3339
from tests.unit.controllers.agentpool.builders import NOW, T0, at, entry, idle, reserved, running


def _status(*pods: dict[str, Any], pending: list[str] = ()) -> dict[str, Any]:  # type: ignore[assignment]
    return {"pods": list(pods), "pending": [{"task": t, "since": T0} for t in pending]}


def _tasks(status: dict[str, Any]) -> list[str]:
    """Every task of the ledger, slots first then pending: each must appear once."""
    held = [s["task"] for p in status["pods"] for s in p["slots"] if s.get("task")]
    return held + [c["task"] for c in status["pending"]]


@pytest.mark.parametrize(
    ("pods", "pending", "expected"),
    [
        pytest.param(
            [entry("p-0", idle(0), idle(1)), entry("p-1", reserved(0, "x"), idle(1))],
            [],
            SlotRef("p-1", 1, "Reserved"),
            id="packs-onto-the-fullest-ready-pod",
        ),
        pytest.param(
            [entry("p-0", idle(0), idle(1)), entry("p-1", idle(0), idle(1))],
            [],
            SlotRef("p-0", 0, "Reserved"),
            id="ties-go-to-the-first-pod-lowest-slot",
        ),
        pytest.param(
            [entry("p-0", idle(0), state="Starting"), entry("p-1", idle(0), state="NotReady")],
            [],
            Pending(1),
            id="only-ready-pods-take-claims",
        ),
        pytest.param(
            [entry("p-0", idle(0), state="Removing"), entry("p-1", idle(0), state="Unknown")],
            [],
            Pending(1),
            id="never-a-removing-or-unknown-pod",
        ),
        pytest.param(
            [entry("p-0", running(0, "x"))],
            ["a", "b"],
            Pending(3),
            id="queued-behind-pending-claims",
        ),
    ],
)
def test_claim_places_or_queues(
    pods: list[dict[str, Any]], pending: list[str], expected: ledger.Placement
) -> None:
    status = _status(*pods, pending=pending)
    before = _tasks(status)
    assert ledger.claim(status, "new", now=NOW, ttl=None) == expected
    assert ledger.find(status, "new") == expected
    assert sorted(_tasks(status)) == sorted([*before, "new"])


def test_a_new_claim_never_overtakes_a_pending_one() -> None:
    """A slot freed while claims wait goes to the oldest, even if a newcomer asks first."""
    status = _status(entry("p-0", idle(0)), pending=["waiting"])
    assert ledger.claim(status, "newcomer", now=NOW, ttl=None) == Pending(1)
    assert ledger.find(status, "waiting") == SlotRef("p-0", 0, "Reserved")


def test_a_retried_claim_returns_what_the_first_got() -> None:
    status = _status(entry("p-0", idle(0)))
    first = ledger.claim(status, "t", now=NOW, ttl=None)
    snapshot = repr(status)
    assert ledger.claim(status, "t", now=NOW + dt.timedelta(seconds=5), ttl=None) == first
    assert repr(status) == snapshot  # nothing changed, not even the times
    queued = ledger.claim(status, "u", now=NOW, ttl=None)
    assert ledger.claim(status, "u", now=NOW, ttl=None) == queued == Pending(1)


def test_a_reservation_carries_its_expiry_rounded_up() -> None:
    status = _status(entry("p-0", idle(0)))
    ledger.claim(status, "t", now=NOW + dt.timedelta(microseconds=300), ttl=60)
    slot = status["pods"][0]["slots"][0]
    assert slot == {"index": 0, "state": "Reserved", "task": "t", "since": T0, "expiresAt": at(61)}


def test_claims_beyond_the_pending_limit_are_refused() -> None:
    status = _status(pending=[f"t{i}" for i in range(MAX_PENDING)])
    with pytest.raises(PendingFull, match="512 claims are already pending"):
        ledger.claim(status, "one-more", now=NOW, ttl=None)


def test_start_runs_a_reservation_and_is_idempotent() -> None:
    status = _status(entry("p-0", reserved(0, "t", expires=at(60)), idle(1)))
    later = NOW + dt.timedelta(seconds=7)
    assert ledger.start(status, "t", now=later) == SlotRef("p-0", 0, "Running")
    assert status["pods"][0]["slots"][0] == running(0, "t", since=at(7))
    assert ledger.start(status, "t", now=later + dt.timedelta(seconds=9), pod="p-0") == SlotRef(
        "p-0", 0, "Running"
    )
    assert status["pods"][0]["slots"][0]["since"] == at(7)


@pytest.mark.parametrize(
    ("task", "pod", "error", "message"),
    [
        pytest.param("queued", None, TaskPending, "still pending .position 1.", id="pending"),
        pytest.param("nobody", None, UnknownTask, "claim a slot first", id="unknown"),
        pytest.param("t", "p-1", WrongPod, "on pod 'p-0', not on 'p-1'", id="wrong-pod"),
    ],
)
def test_start_refuses_what_the_ledger_does_not_say(
    task: str, pod: str | None, error: type[Exception], message: str
) -> None:
    status = _status(entry("p-0", reserved(0, "t")), pending=["queued"])
    with pytest.raises(error, match=message):
        ledger.start(status, task, now=NOW, pod=pod)


def test_release_frees_the_slot_for_the_oldest_pending_claim() -> None:
    status = _status(
        entry("p-0", running(0, "t"), idle(1), state="Ready"),
        entry("p-1", reserved(0, "u")),
        pending=["w1", "w2"],
    )
    status["pods"][0]["slots"][1] = reserved(1, "v")
    assert ledger.release(status, "t", now=NOW, ttl=None) == SlotRef("p-0", 0, "Running")
    assert ledger.find(status, "w1") == SlotRef("p-0", 0, "Reserved")
    assert ledger.find(status, "w2") == Pending(1)
    assert ledger.release(status, "w2", now=NOW, ttl=None) == Pending(1)
    assert status["pending"] == []
    assert ledger.release(status, "w2", now=NOW, ttl=None) is None  # idempotent


def test_idle_since_is_set_exactly_when_all_slots_are_idle() -> None:
    status = _status(entry("p-0", reserved(0, "a"), reserved(1, "b")))
    pod = status["pods"][0]
    ledger.release(status, "a", now=NOW, ttl=None)
    assert "idleSince" not in pod
    ledger.release(status, "b", now=NOW + dt.timedelta(seconds=3), ttl=None)
    assert pod["idleSince"] == at(3)
    ledger.claim(status, "c", now=NOW, ttl=None)
    assert "idleSince" not in pod


def test_an_agent_cannot_release_another_pods_slot() -> None:
    status = _status(entry("p-0", running(0, "t")))
    with pytest.raises(WrongPod):
        ledger.release(status, "t", now=NOW, ttl=None, pod="p-1")
    assert ledger.find(status, "t") == SlotRef("p-0", 0, "Running")


def test_times_round_trip() -> None:
    assert ledger.parse_time(rfc3339(NOW)) == NOW
    assert ledger.parse_time("2026-11-24T12:00:00.5+00:00") == NOW + dt.timedelta(seconds=0.5)
    assert ledger.expiry(NOW, 10) == at(10)
