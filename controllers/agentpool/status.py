"""Observed state -> the pool's next status and what to do: the pure heart of the reconciler.

``plan(pool, pods, now)`` takes the AgentPool as read and its live pods, and returns the
status to write plus the pod actions to take once that status is stored. In order:

1. the ledger is reconciled against the live pods: a pod that vanished (or was replaced
   by a pod of the same name, another UID) gives its reserved and running tasks back to
   pending, oldest first, never dropping one (when pending is full, the rest stay on the
   gone pod's entry, marked Failed, and move as room frees up); new pods get idle slots;
   each pod's state follows what its status says; slot counts follow slotsPerAgent;
2. reservations past their ``expiresAt`` go back to idle (with an Event);
3. pending claims get the idle slots of Ready pods;
4. the autoscaler (``autoscaler.py``) picks pods to add, or idle pods to remove, which are
   marked Removing in the same status: the reconciler deletes a pod only after a status
   saying so has been stored, so a claimer that raced it made the write conflict instead;
5. counts and conditions (Ready, ScalingLimited, Degraded) are recomputed.

Nothing here does I/O or reads a clock: the same inputs give the same plan.
"""

from __future__ import annotations

import copy
import datetime as dt
from dataclasses import dataclass
from typing import Any, Literal

from controllers.agentpool import autoscaler
from controllers.agentpool.autoscaler import ACTIVE, ScaleDecision, Scaling
from controllers.agentpool.ledger import (
    BUSY,
    MAX_PENDING,
    busy_in,
    busy_slots,
    expiry,
    idle_ready_slots,
    make_idle,
    parse_time,
    place_pending,
    update_idle_since,
)
from controllers.agentpool.pods import (
    MAX_POOL_NAME,
    free_names,
    observed_state,
    ordinal,
    selector,
)
from reconcile.conditions import set_condition
from reconcile.timestamps import rfc3339

__all__ = ["Plan", "PoolEvent", "plan", "summarize"]

Obj = dict[str, Any]
_LIST_IN_MESSAGE = 10
"""Pod or task names quoted in one message before it says "and N more"."""


@dataclass(frozen=True, slots=True)
class PoolEvent:
    """An Event to record on the pool once the status is stored."""

    type: Literal["Normal", "Warning"]
    reason: str
    message: str


@dataclass(frozen=True, kw_only=True, slots=True)
class Plan:
    status: Obj
    """The status to store (with the resourceVersion the pool was read at)."""
    create: tuple[str, ...] = ()
    """Pods to create, by name."""
    delete: tuple[tuple[str, str], ...] = ()
    """(name, uid) of pods to delete: marked Removing, or Failed with their tasks requeued."""
    events: tuple[PoolEvent, ...] = ()
    requeue_at: dt.datetime | None = None
    """When time alone changes the plan (a reservation expires, an idle pod may go)."""
    scaled: Literal["up", "down"] | None = None


def _names(names: list[str]) -> str:
    shown = ", ".join(names[:_LIST_IN_MESSAGE])
    more = len(names) - _LIST_IN_MESSAGE
    return f"{shown} and {more} more" if more > 0 else shown


def _requeue(entry: Obj, pending: list[Obj], now: dt.datetime) -> list[str]:
    """Move the entry's reserved and running tasks to pending while there is room."""
    moved = []
    for slot in entry.get("slots") or []:
        if slot.get("state") not in BUSY or len(pending) >= MAX_PENDING:
            continue
        pending.append({"task": slot["task"], "since": slot.get("since") or rfc3339(now)})
        moved.append(str(slot["task"]))
        make_idle(entry, slot, now)
    return moved


def _resize(entry: Obj, slots_per_agent: int) -> None:
    """Slots 0..slotsPerAgent-1, plus any busy slot beyond (kept until released)."""
    slots = {int(s["index"]): s for s in entry.get("slots") or []}
    for index in range(slots_per_agent):
        slots.setdefault(index, {"index": index, "state": "Idle"})
    entry["slots"] = [
        slots[i] for i in sorted(slots) if i < slots_per_agent or slots[i].get("state") in BUSY
    ]


def _new_entry(name: str, uid: str, state: str, slots_per_agent: int, now: dt.datetime) -> Obj:
    entry: Obj = {"name": name, "uid": uid, "state": state, "slots": []}
    _resize(entry, slots_per_agent)
    update_idle_since(entry, now)
    return entry


def _observe(entry: Obj, pod: Obj | None, now: dt.datetime) -> Obj | None:
    """Update one entry from its live pod (None: not found); return None to drop it."""
    previous = entry.get("state")
    if pod is None and not entry.get("uid"):
        entry["state"] = "Starting"  # recorded before its create: created again if needed
        return entry
    entry["state"] = "Failed" if pod is None else observed_state(pod, previous)
    if pod is not None:
        entry["uid"] = pod["metadata"].get("uid", "")
    if entry["state"] == "Ready" and previous != "Ready" and not busy_in(entry):
        entry["idleSince"] = rfc3339(now)  # the window counts from when it can take work
    if pod is None and not busy_in(entry):
        return None
    return entry


def _sync_pods(
    status: Obj, pool_name: str, live: dict[str, Obj], slots_per_agent: int, now: dt.datetime
) -> list[PoolEvent]:
    """Step 1: the ledger follows the live pods without losing a task."""
    events = []
    pending: list[Obj] = status.setdefault("pending", [])
    entries = []
    for entry in status.get("pods") or []:
        pod = live.get(entry["name"])
        if pod is not None and entry.get("uid") not in ("", None, pod["metadata"].get("uid")):
            pod = None  # replaced by a new pod of the same name: the old one is gone
        if _observe(entry, pod, now) is None:
            continue
        if entry["state"] == "Failed":
            moved = _requeue(entry, pending, now)
            if moved:
                why = "is gone" if pod is None else "has failed"
                events.append(
                    PoolEvent(
                        "Warning",
                        "TasksRequeued",
                        f"pod {entry['name']} {why}; tasks back to pending: {_names(moved)}",
                    )
                )
            if pod is None and not busy_in(entry):
                continue
        _resize(entry, slots_per_agent)
        update_idle_since(entry, now)
        entries.append(entry)
    known = {entry["name"] for entry in entries}
    for name, pod in live.items():
        if name in known or pod["metadata"].get("deletionTimestamp"):
            continue
        uid = str(pod["metadata"].get("uid", ""))
        entries.append(_new_entry(name, uid, observed_state(pod, None), slots_per_agent, now))
    status["pods"] = _sorted(pool_name, entries)
    pending.sort(key=lambda claim: parse_time(claim["since"]))
    return events


def _sorted(pool_name: str, entries: list[Obj]) -> list[Obj]:
    return sorted(entries, key=lambda e: (ordinal(pool_name, e["name"]), e["name"]))


def _expire(status: Obj, ttl: int | None, now: dt.datetime) -> list[PoolEvent]:
    """Step 2: reservations past expiresAt go back to idle, each with an Event."""
    events = []
    for entry in status.get("pods") or []:
        for slot in entry.get("slots") or []:
            if slot.get("state") != "Reserved":
                continue
            if ttl and not slot.get("expiresAt") and slot.get("since"):
                slot["expiresAt"] = expiry(parse_time(slot["since"]), ttl)
            if not slot.get("expiresAt") or parse_time(slot["expiresAt"]) > now:
                continue
            events.append(
                PoolEvent(
                    "Warning",
                    "ReservationExpired",
                    f"reservation of slot {slot['index']} on pod {entry['name']} for task "
                    f"{slot['task']} expired at {slot['expiresAt']} without a start; slot idle",
                )
            )
            make_idle(entry, slot, now)
    return events


def _next_expiry(status: Obj) -> dt.datetime | None:
    """When the earliest reservation still standing expires."""
    times = [
        parse_time(slot["expiresAt"])
        for entry in status.get("pods") or []
        for slot in entry.get("slots") or []
        if slot.get("state") == "Reserved" and slot.get("expiresAt")
    ]
    return min(times, default=None)


def summarize(status: Obj, spec: Obj) -> tuple[int, int]:
    """Recompute the counts a ledger change moves; return (desired, wanted) replicas."""
    pods = status.get("pods") or []
    pending = len(status.get("pending") or [])
    desired, wanted = autoscaler.desired_replicas(Scaling.from_spec(spec), pods, pending)
    status["busySlots"] = busy_slots(status)
    status["idleSlots"] = idle_ready_slots(status)
    status["pendingClaims"] = pending
    status["desiredReplicas"] = desired
    return desired, wanted


def _conditions(
    status: Obj,
    *,
    problem: tuple[str, str] | None,
    wanted: int,
    max_replicas: int,
    generation: int,
    now: str,
) -> None:
    conditions: list[Obj] = status.setdefault("conditions", [])

    def put(kind: str, state: bool, reason: str, message: str) -> None:
        set_condition(
            conditions,
            kind,
            "True" if state else "False",
            reason,
            message,
            observed_generation=generation,
            now=now,
        )

    ready, desired = status["readyReplicas"], status["desiredReplicas"]
    put(
        "Ready",
        ready >= desired,
        "AgentsReady" if ready >= desired else "AgentsStarting",
        f"{ready} of {desired} agent pods Ready",
    )
    limited = status["pendingClaims"] > 0 and wanted > max_replicas
    put(
        "ScalingLimited",
        limited,
        "MaxReplicasReached" if limited else "WithinLimits",
        f"{status['pendingClaims']} claims pending; the work needs {wanted} agent pods, "
        f"maxReplicas is {max_replicas}"
        if limited
        else "",
    )
    if problem is None:
        put("Degraded", False, "AsExpected", "")
    else:
        put("Degraded", True, *problem)


def _problem(status: Obj, name_ok: bool, create_error: str | None) -> tuple[str, str] | None:
    """(reason, message) of the Degraded condition, or None when all is well."""
    if not name_ok:
        return (
            "PoolNameTooLong",
            f"the pool's name is longer than {MAX_POOL_NAME} characters, so it cannot be the "
            "value of its pods' label; recreate the pool with a shorter name",
        )
    if create_error:
        return ("FailedCreate", f"creating an agent pod failed: {create_error}"[:1024])
    sick = [
        e["name"] for e in status["pods"] if e.get("state") in ("NotReady", "Unknown", "Failed")
    ]
    if sick:
        return ("PodsNotHealthy", f"pods not Ready, Unknown or failed: {_names(sick)}")
    return None


def _scale(
    status: Obj,
    pool_name: str,
    live: dict[str, Obj],
    decision: ScaleDecision,
    slots_per_agent: int,
    now: dt.datetime,
) -> list[PoolEvent]:
    """Step 4: record the pods to add (uid "" until created) and mark those to remove."""
    events = []
    if decision.create:
        taken = set(live) | {e["name"] for e in status["pods"]}
        added = free_names(pool_name, taken, decision.create)
        status["pods"] = _sorted(
            pool_name,
            status["pods"] + [_new_entry(n, "", "Starting", slots_per_agent, now) for n in added],
        )
        events.append(PoolEvent("Normal", "ScaledUp", f"adding agent pods {_names(added)}"))
    if decision.remove:
        for entry in status["pods"]:
            if entry["name"] in decision.remove:
                entry["state"] = "Removing"
        removed = list(decision.remove)
        events.append(
            PoolEvent("Normal", "ScaledDown", f"removing idle agent pods {_names(removed)}")
        )
    if decision.create or decision.remove:
        status["lastScaleTime"] = rfc3339(now)
    return events


def plan(pool: Obj, pods: list[Obj], now: dt.datetime, *, create_error: str | None = None) -> Plan:
    """The next status of ``pool`` given its live ``pods`` (those it controls) at ``now``.

    ``create_error``: why the last pod create failed, if it did (Degraded says so).
    """
    meta, spec = pool["metadata"], pool["spec"]
    name = str(meta["name"])
    scaling = Scaling.from_spec(spec)
    ttl = spec.get("reservationTTLSeconds")
    status: Obj = copy.deepcopy(pool.get("status") or {})
    live = {p["metadata"]["name"]: p for p in pods}
    events = _sync_pods(status, name, live, scaling.slots_per_agent, now)
    events += _expire(status, ttl, now)
    place_pending(status, now=now, ttl=ttl)
    desired, wanted = summarize(status, spec)
    name_ok = len(name) <= MAX_POOL_NAME
    decision = autoscaler.decide(scaling, status["pods"], desired, now, name)
    if not name_ok:
        decision = ScaleDecision(remove=decision.remove, next_check=decision.next_check)
    events += _scale(status, name, live, decision, scaling.slots_per_agent, now)
    summarize(status, spec)
    create = tuple(e["name"] for e in status["pods"] if not e.get("uid") and e["name"] not in live)
    delete = tuple(
        (e["name"], str(e.get("uid", "")))
        for e in status["pods"]
        if e["state"] in ("Removing", "Failed")
        and e["name"] in live
        and not live[e["name"]]["metadata"].get("deletionTimestamp")
    )
    active = [e for e in status["pods"] if e.get("state") in ACTIVE]
    status["replicas"] = len(active)
    status["readyReplicas"] = sum(1 for e in active if e["state"] == "Ready")
    status["selector"] = selector(name)
    status["observedGeneration"] = int(meta.get("generation") or 0)
    _conditions(
        status,
        problem=_problem(status, name_ok, create_error),
        wanted=wanted,
        max_replicas=scaling.max_replicas,
        generation=status["observedGeneration"],
        now=rfc3339(now),
    )
    times = [t for t in (_next_expiry(status), decision.next_check) if t is not None]
    return Plan(
        status=status,
        create=create,
        delete=delete,
        events=tuple(events),
        requeue_at=min(times) if times else None,
        scaled="up" if decision.create else "down" if decision.remove else None,
    )
