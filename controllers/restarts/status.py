"""Pure: a pod as the kubelet reports it + a RestartRecord's status -> the new status.

Nothing here reads the clock or the API: the reconciler passes ``now`` and raw dicts, and
gets back a new status dict (inputs are never mutated: they are shared cache objects) or
None when nothing changed, so a replayed pod, a relist or a second replica adds nothing.

Counting rules, per container (regular, init and ephemeral alike):

- the key of a restart is pod UID + container + restartCount. Each container entry keeps a
  watermark (``podUID``, ``restartCount``): a restartCount at or below it for the same pod
  UID was counted already;
- a pod recreated under the same name has a new UID and starts again from restartCount 0:
  its restarts are added to the same counts, its history entries carry the new UID, so the
  two pods' histories never mix. The replaced UIDs are remembered (``previousPodUIDs``): a
  late view of an older pod (another replica's lagging cache) is ignored, never recounted;
- a jump of the restartCount by N > 1 (restarts while nobody watched) counts N restarts:
  the newest is detailed from ``lastState.terminated``, the N - 1 before it are ``missed``
  and counted under the reason Unknown, so the counts always add up to the kubelet's
  restartCount (what kube-state-metrics exports) and nothing is dropped.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from crds.restartrecord import REASONS
from reconcile.conditions import set_condition
from reconcile.timestamps import parse_time

__all__ = [
    "CONTAINER_STATUS_LISTS",
    "MAX_CONTAINERS",
    "MAX_PREVIOUS_UIDS",
    "POD_PRESENT",
    "Observed",
    "classify",
    "container_statuses",
    "expires_at",
    "observe_pod",
    "observe_pod_gone",
    "restart_entry",
    "restart_signature",
    "set_status_condition",
    "signal_of",
]

Obj = Mapping[str, Any]

CONTAINER_STATUS_LISTS = (
    ("containerStatuses", "Regular"),
    ("initContainerStatuses", "Init"),
    ("ephemeralContainerStatuses", "Ephemeral"),
)
"""Where the kubelet reports each kind of container, and the record's name for the kind."""
MAX_CONTAINERS = 16
"""The CRD's bound on containers per record; further containers of a pod are not recorded."""
MAX_PREVIOUS_UIDS = 8
MESSAGE_LIMIT = 256
CONTAINER_ID_LIMIT = 96
POD_PRESENT = "PodPresent"
"""Condition: True while the pod exists, False once it is gone (retention running)."""

_REASON_ALIASES = {
    **{reason.lower(): reason for reason in REASONS},
    "containerstatusunknown": "Unknown",
    "starterror": "ContainerCannotRun",
    "createcontainererror": "ContainerCannotRun",
    "runcontainererror": "ContainerCannotRun",
    "livenessprobefailed": "LivenessProbe",
    "startupprobefailed": "StartupProbe",
    "oomkilling": "OOMKilled",
}


def classify(reason: str, message: str = "") -> str:
    """The kubelet's termination reason -> one of the bounded ``REASONS``.

    Exact names first (``Error`` stays Error, whatever its message says); then hints: a
    reason or message naming a liveness or startup probe (how the kubelet and runtimes word
    a probe kill), OOM, a deadline or an eviction. Anything else is ``Other``; no reason at
    all is ``Unknown``.
    """
    if not reason:
        return "Unknown"
    exact = _REASON_ALIASES.get(reason.lower())
    if exact is not None:
        return exact
    text = f"{reason} {message}".lower()
    for hint, name in (
        ("liveness", "LivenessProbe"),
        ("startup", "StartupProbe"),
        ("oom", "OOMKilled"),
        ("deadline", "DeadlineExceeded"),
        ("evict", "Evicted"),
    ):
        if hint in text:
            return name
    return "Other"


def signal_of(exit_code: int) -> int | None:
    """Exit codes above 128 mean "killed by signal exitCode - 128" (137 -> 9, SIGKILL)."""
    return exit_code - 128 if 128 < exit_code < 256 else None


def restart_entry(pod_uid: str, restart_count: int, terminated: Obj | None) -> dict[str, Any]:
    """A history entry from the container's ``lastState.terminated`` (Unknown without one)."""
    entry: dict[str, Any] = {"podUID": pod_uid, "restartCount": restart_count}
    if not terminated:
        entry["reason"] = "Unknown"
        return entry
    message = str(terminated.get("message") or "")
    entry["reason"] = classify(str(terminated.get("reason") or ""), message)
    for key in ("startedAt", "finishedAt"):
        if terminated.get(key):
            entry[key] = terminated[key]
    code = terminated.get("exitCode")
    if isinstance(code, int) and not isinstance(code, bool):
        entry["exitCode"] = code
        signal = signal_of(code)
        given = terminated.get("signal")
        if signal is None and isinstance(given, int) and 0 < given < 128:
            signal = given
        if signal is not None:
            entry["signal"] = signal
    if message:
        entry["message"] = message[:MESSAGE_LIMIT]
    if terminated.get("containerID"):
        entry["containerID"] = str(terminated["containerID"])[:CONTAINER_ID_LIMIT]
    return entry


def container_statuses(pod: Obj) -> Iterator[tuple[str, str, int, Obj]]:
    """(name, type, restartCount, status) of every container the kubelet reports."""
    status = pod.get("status") or {}
    for key, kind in CONTAINER_STATUS_LISTS:
        for container in status.get(key) or ():
            count = container.get("restartCount") or 0
            yield str(container.get("name") or ""), kind, int(count), container


def restart_signature(pod: Obj) -> tuple[str, tuple[int, ...]]:
    """What must change for a pod update to matter: its UID or a restartCount."""
    uid = str((pod.get("metadata") or {}).get("uid") or "")
    return uid, tuple(count for _, _, count, _ in container_statuses(pod))


@dataclass(frozen=True, slots=True)
class Observed:
    """The outcome of observing a pod that changed the record."""

    status: dict[str, Any]
    """The record's new status."""
    counted: int
    """Restarts newly counted (including missed ones)."""
    skipped: tuple[str, ...] = ()
    """Containers not recorded because the record already holds ``MAX_CONTAINERS``."""


def _new_container(name: str, kind: str) -> dict[str, Any]:
    return {"name": name, "type": kind, "restarts": 0, "missed": 0, "reasons": {}, "history": []}


def _count(
    entry: Obj, uid: str, base: int, count: int, container: Obj, now: str, history_limit: int
) -> dict[str, Any]:
    """``entry`` with restarts base+1..count of pod ``uid`` counted."""
    updated = dict(entry)
    delta = count - base
    terminated = (container.get("lastState") or {}).get("terminated")
    detail = restart_entry(uid, count, terminated)
    missed = delta - 1
    reasons = dict(entry.get("reasons") or {})
    if missed:
        reasons["Unknown"] = reasons.get("Unknown", 0) + missed
    reasons[detail["reason"]] = reasons.get(detail["reason"], 0) + 1
    updated["reasons"] = reasons
    updated["restarts"] = int(entry.get("restarts") or 0) + delta
    updated["missed"] = int(entry.get("missed") or 0) + missed
    updated["podUID"] = uid
    updated["restartCount"] = count
    updated["lastRestartTime"] = max(
        detail.get("finishedAt") or now, str(entry.get("lastRestartTime") or "")
    )
    history = [
        detail,
        *(
            h
            for h in entry.get("history") or ()
            if not (h.get("podUID") == uid and h.get("restartCount") == count)
        ),
    ]
    updated["history"] = history[:history_limit]
    return updated


def _summarize(status: dict[str, Any]) -> None:
    """Record-wide totals and the newest restart, from the container entries."""
    containers = status.get("containers") or []
    status["restarts"] = sum(int(c.get("restarts") or 0) for c in containers)
    status["missed"] = sum(int(c.get("missed") or 0) for c in containers)
    restarted = [c for c in containers if c.get("lastRestartTime")]
    if restarted:
        latest = max(restarted, key=lambda c: parse_time(c["lastRestartTime"]) or 0.0)
        status["lastRestartTime"] = latest["lastRestartTime"]
        history = latest.get("history") or [{}]
        status["lastReason"] = history[0].get("reason", "Unknown")


def set_status_condition(
    status: dict[str, Any], kind: str, state: str, reason: str, message: str, now: str
) -> None:
    """Set a condition in ``status`` on a copy of its list (the old list may be cached)."""
    conditions = [dict(c) for c in status.get("conditions") or ()]
    set_condition(conditions, kind, state, reason, message, now=now)
    status["conditions"] = conditions


def observe_pod(
    status: Obj | None,
    pod: Obj,
    *,
    now: str,
    history_limit: int,
    generation: int | None = None,
) -> Observed | None:
    """The record's status after seeing ``pod``; None when it adds nothing.

    ``now`` (RFC 3339) stands in for a finish time the kubelet did not report.
    """
    old: Obj = status or {}
    uid = str((pod.get("metadata") or {}).get("uid") or "")
    previous = list(old.get("previousPodUIDs") or ())
    if uid in previous:
        return None  # a stale view of a pod this name carried before
    new = dict(old)
    if old.get("podUID") != uid:
        if old.get("podUID"):
            new["previousPodUIDs"] = [old["podUID"], *previous][:MAX_PREVIOUS_UIDS]
        new["podUID"] = uid
    new.pop("podDeletedAt", None)
    containers = list(old.get("containers") or ())
    index = {c.get("name"): i for i, c in enumerate(containers)}
    counted = 0
    skipped = []
    for name, kind, count, container in container_statuses(pod):
        position = index.get(name)
        entry = containers[position] if position is not None else None
        base = int(entry.get("restartCount") or 0) if entry and entry.get("podUID") == uid else 0
        if count <= base:
            continue
        if position is None:
            if len(containers) >= MAX_CONTAINERS:
                skipped.append(name)
                continue
            position = index[name] = len(containers)
            containers.append(_new_container(name, kind))
        updated = _count(containers[position], uid, base, count, container, now, history_limit)
        updated["type"] = kind
        containers[position] = updated
        counted += count - base
    new["containers"] = containers
    _summarize(new)
    set_status_condition(new, POD_PRESENT, "True", "PodFound", f"following pod UID {uid}", now)
    if generation is not None:
        new["observedGeneration"] = generation
    if new == old:
        return None
    return Observed(status=new, counted=counted, skipped=tuple(skipped))


def observe_pod_gone(
    status: Obj | None, *, now: str, generation: int | None = None
) -> dict[str, Any] | None:
    """The status once the pod is gone: ``podDeletedAt`` set once; None when already so."""
    old: Obj = status or {}
    if old.get("podDeletedAt"):
        return None
    new = dict(old)
    new["podDeletedAt"] = now
    set_status_condition(
        new,
        POD_PRESENT,
        "False",
        "PodDeleted",
        "the pod is gone; the record is deleted a retention period after podDeletedAt",
        now,
    )
    if generation is not None:
        new["observedGeneration"] = generation
    return new


def expires_at(status: Obj | None, retention: float) -> float | None:
    """Unix time at which the record may be deleted; None while its pod exists."""
    deleted = parse_time((status or {}).get("podDeletedAt"))
    return None if deleted is None else deleted + retention
