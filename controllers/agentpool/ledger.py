"""The slot ledger of an AgentPool's status, as raw dicts: which task holds which slot.

Every writer (the claim API in ``slots.py`` and the reconciler) changes a copy of the status
it read with these functions, then writes it back carrying the resourceVersion it read, so
a concurrent writer makes the write fail with a conflict instead of being overwritten.

Invariants every function keeps (and the tests check):

- a task is in at most one place: one slot, or the pending list;
- a Reserved or Running slot names its task; an Idle slot carries nothing else;
- pending is never non-empty while a Ready pod has an idle slot: claims are placed oldest
  first, and a new claim never overtakes a pending one;
- a pod's ``idleSince`` is set exactly when all its slots are idle.

Only Ready pods' slots are handed out; a claim lands on the Ready pod with the fewest idle
slots (then the lowest ordinal), so work packs onto few pods and the others can go idle and
be scaled down.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from reconcile.timestamps import rfc3339

__all__ = [
    "BUSY",
    "MAX_PENDING",
    "LedgerError",
    "Pending",
    "PendingFull",
    "Placement",
    "SlotRef",
    "TaskPending",
    "UnknownTask",
    "WrongPod",
    "busy_in",
    "busy_slots",
    "claim",
    "expiry",
    "find",
    "idle_ready_slots",
    "make_idle",
    "parse_time",
    "place_pending",
    "release",
    "start",
    "update_idle_since",
]

Obj = dict[str, Any]

MAX_PENDING = 512
"""The most claims that may wait (the CRD's maxItems on status.pending)."""
BUSY = ("Reserved", "Running")
"""Slot states that hold a task."""


def expiry(start: dt.datetime, ttl: int) -> str:
    """``start`` + ``ttl`` seconds, rounded up to a whole second (never earlier than due)."""
    due = start + dt.timedelta(seconds=ttl)
    if due.microsecond:
        due += dt.timedelta(microseconds=1_000_000 - due.microsecond)
    return rfc3339(due)


def parse_time(text: str) -> dt.datetime:
    """The moment of an RFC 3339 string (whole or fractional seconds, any offset)."""
    return dt.datetime.fromisoformat(text.replace("Z", "+00:00")).astimezone(dt.UTC)


class LedgerError(ValueError):
    """A slot operation that cannot be done on the ledger as it stands."""


class UnknownTask(LedgerError):
    """The task holds no slot and is not pending: claim it first."""


class TaskPending(LedgerError):
    """The task is still waiting for a slot, so it cannot start."""


class WrongPod(LedgerError):
    """The task's slot is on another pod than the one reporting it."""


class PendingFull(LedgerError):
    """No slot is free and the pending list is at its limit."""


@dataclass(frozen=True, slots=True)
class SlotRef:
    """Where a task runs: pod, slot index, and the slot's state."""

    pod: str
    index: int
    state: str


@dataclass(frozen=True, slots=True)
class Pending:
    """A task waiting for a slot: its 1-based position in the queue."""

    position: int


Placement = SlotRef | Pending


def _pods(status: Obj) -> list[Obj]:
    pods: list[Obj] = status.setdefault("pods", [])
    return pods


def _pending(status: Obj) -> list[Obj]:
    pending: list[Obj] = status.setdefault("pending", [])
    return pending


def _slots(status: Obj) -> Iterator[tuple[Obj, Obj]]:
    for pod in _pods(status):
        for slot in pod.get("slots") or []:
            yield pod, slot


def find(status: Obj, task: str) -> Placement | None:
    """Where ``task`` is: its slot, its pending position, or None."""
    for pod, slot in _slots(status):
        if slot.get("task") == task:
            return SlotRef(pod["name"], int(slot["index"]), str(slot["state"]))
    for position, claim_ in enumerate(_pending(status), start=1):
        if claim_.get("task") == task:
            return Pending(position)
    return None


def busy_slots(status: Obj) -> int:
    """Reserved and running slots of the whole ledger."""
    return sum(busy_in(pod) for pod in _pods(status))


def busy_in(pod: Obj) -> int:
    """Reserved and running slots of one pod's entry."""
    return sum(1 for slot in pod.get("slots") or [] if slot.get("state") in BUSY)


def idle_ready_slots(status: Obj) -> int:
    """Slots a claim could get right now: idle slots of Ready pods."""
    return sum(
        1
        for pod, slot in _slots(status)
        if pod.get("state") == "Ready" and slot.get("state", "Idle") == "Idle"
    )


def _free_slot(status: Obj) -> tuple[Obj, Obj] | None:
    """The idle slot a new claim gets: on the fullest Ready pod that has one, lowest index."""
    best: tuple[int, Obj, Obj] | None = None
    for pod in _pods(status):
        if pod.get("state") != "Ready":
            continue
        idle = [s for s in pod.get("slots") or [] if s.get("state", "Idle") == "Idle"]
        if idle and (best is None or len(idle) < best[0]):
            best = (len(idle), pod, min(idle, key=lambda s: int(s["index"])))
    return None if best is None else (best[1], best[2])


def _reserve(pod: Obj, slot: Obj, task: str, now: dt.datetime, ttl: int | None) -> SlotRef:
    index = int(slot["index"])
    slot.clear()
    slot.update({"index": index, "state": "Reserved", "task": task, "since": rfc3339(now)})
    if ttl:
        slot["expiresAt"] = expiry(now, ttl)
    pod.pop("idleSince", None)
    return SlotRef(pod["name"], index, "Reserved")


def make_idle(pod: Obj, slot: Obj, now: dt.datetime) -> None:
    """Free ``slot`` of ``pod`` (dropping its task and times) and update ``idleSince``."""
    index = slot["index"]
    slot.clear()
    slot.update({"index": index, "state": "Idle"})
    update_idle_since(pod, now)


def update_idle_since(pod: Obj, now: dt.datetime) -> None:
    """Set ``idleSince`` once every slot of ``pod`` is idle (an earlier one stays); else drop it."""
    if busy_in(pod):
        pod.pop("idleSince", None)
    elif not pod.get("idleSince"):
        pod["idleSince"] = rfc3339(now)


def place_pending(status: Obj, *, now: dt.datetime, ttl: int | None) -> list[tuple[str, SlotRef]]:
    """Give idle slots of Ready pods to pending claims, oldest first; return what was placed."""
    placed = []
    pending = _pending(status)
    while pending:
        free = _free_slot(status)
        if free is None:
            break
        claim_ = pending.pop(0)
        placed.append((str(claim_["task"]), _reserve(*free, str(claim_["task"]), now, ttl)))
    return placed


def claim(status: Obj, task: str, *, now: dt.datetime, ttl: int | None) -> Placement:
    """Reserve a slot for ``task``, or queue it; a task already known keeps its place."""
    place_pending(status, now=now, ttl=ttl)
    known = find(status, task)
    if known is not None:
        return known
    if not _pending(status):
        free = _free_slot(status)
        if free is not None:
            return _reserve(*free, task, now, ttl)
    pending = _pending(status)
    if len(pending) >= MAX_PENDING:
        raise PendingFull(
            f"no slot is free and {MAX_PENDING} claims are already pending; retry later, or "
            "raise the pool's maxReplicas"
        )
    pending.append({"task": task, "since": rfc3339(now)})
    return Pending(len(pending))


def _locate(status: Obj, task: str) -> tuple[Obj, Obj] | None:
    for pod, slot in _slots(status):
        if slot.get("task") == task:
            return pod, slot
    return None


def _check_pod(pod: Obj, task: str, reporter: str | None) -> None:
    if reporter is not None and pod["name"] != reporter:
        raise WrongPod(
            f"task {task!r} holds a slot on pod {pod['name']!r}, not on {reporter!r}; the "
            "ledger is the source of truth: run the task where it was placed"
        )


def start(status: Obj, task: str, *, now: dt.datetime, pod: str | None = None) -> SlotRef:
    """Turn ``task``'s reservation into a running slot (a running one stays as it is).

    ``pod``: the pod reporting the start (an agent); it must be the one holding the slot.
    """
    found = _locate(status, task)
    if found is None:
        where = find(status, task)
        if isinstance(where, Pending):
            raise TaskPending(
                f"task {task!r} is still pending (position {where.position}); claim again "
                "until it gets a slot, then start it"
            )
        raise UnknownTask(f"task {task!r} holds no slot in this pool; claim a slot first")
    holder, slot = found
    _check_pod(holder, task, pod)
    if slot["state"] == "Reserved":
        slot.pop("expiresAt", None)
        slot["state"], slot["since"] = "Running", rfc3339(now)
    return SlotRef(holder["name"], int(slot["index"]), "Running")


def release(
    status: Obj, task: str, *, now: dt.datetime, ttl: int | None, pod: str | None = None
) -> Placement | None:
    """Free ``task``'s slot (or drop its pending claim); return where it was, None if nowhere.

    The freed slot goes to the oldest pending claim at once, if any.
    """
    found = _locate(status, task)
    if found is None:
        where = find(status, task)
        if isinstance(where, Pending):
            del _pending(status)[where.position - 1]
        return where
    holder, slot = found
    _check_pod(holder, task, pod)
    was = SlotRef(holder["name"], int(slot["index"]), str(slot["state"]))
    make_idle(holder, slot, now)
    place_pending(status, now=now, ttl=ttl)
    return was
