"""Pure: is a namespace restarting abnormally, why, and what changes in its inspection status.

The inputs are what the operator already persisted: the pod records' histories (finish
times, reasons, exit codes), their workloads, and the previous inspection status (state,
the anomaly in progress, silences). Nothing is remembered in memory, so an operator restart,
or a new leader, continues exactly where the last inspection left off.

- ``observe_namespace``: the share of pods that restarted in the last window and in the
  window before it, and the restarts of the last window;
- ``root_cause``: the anomaly entry: top reasons and exit codes, containers killed for
  memory with their memory limit (or none: then the node ran out, not the container),
  the workloads and containers involved, when it started, and a one-paragraph summary;
- ``inspect``: the state machine. Normal -> Abnormal when the share is at least
  ``ratioThreshold``, at least ``riseFactor`` times the previous window's, with at least
  ``minRestartedPods`` pods; a Warning Event fires unless silenced, and silences the
  namespace for ``silence``. Abnormal -> Normal when the share drops below the threshold:
  the anomaly moves to the history with its recovery time and duration. While abnormal,
  a reminder fires each time the silence runs out.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from controllers.restarts.options import InspectionOptions
from reconcile.timestamps import parse_time, rfc3339

__all__ = [
    "MAX_ANOMALY_HISTORY",
    "RestartSeen",
    "Verdict",
    "WindowObservation",
    "inspect",
    "memory_limit",
    "observe_namespace",
    "root_cause",
]

Obj = Mapping[str, Any]

MAX_ANOMALY_HISTORY = 20
_TOP = 10
_SUMMARY_LIMIT = 1024


@dataclass(frozen=True, slots=True)
class RestartSeen:
    """One detailed restart in the window."""

    pod: str
    workload: str
    container: str
    reason: str
    exit_code: int | None
    at: float


@dataclass(frozen=True, slots=True)
class WindowObservation:
    pods_total: int
    pods_restarted: int
    previous_restarted: int
    ratio: float
    previous_ratio: float
    restarts: tuple[RestartSeen, ...]
    started_at: float | None
    """The earliest restart in the window."""


def _workload(record: Obj) -> str:
    workload = (record.get("spec") or {}).get("workload") or {}
    if workload.get("kind") and workload.get("name"):
        return f"{workload['kind']}/{workload['name']}"[:320]
    return f"Pod/{(record.get('spec') or {}).get('podName', '')}"[:320]


def _ratio(part: int, whole: int) -> float:
    return round(min(1.0, part / whole), 4) if whole else 0.0


def observe_namespace(
    records: Iterable[Obj], pods: Iterable[Obj], *, now: float, window: float
) -> WindowObservation:
    """Shares of pods restarted in (now - window, now] and in the window before it.

    A pod counts in a window if a container's history entry finished in it, or its last
    restart (which may have been missed, with no entry) did. Pods gone since they
    restarted still count, in the share's numerator and denominator.
    """
    live = {str(p["metadata"]["name"]) for p in pods}
    current: set[str] = set()
    previous: set[str] = set()
    seen: list[RestartSeen] = []
    for record in records:
        name = (record.get("spec") or {}).get("podName")
        if not name:
            continue
        workload = _workload(record)
        for container in (record.get("status") or {}).get("containers") or ():
            times = [parse_time(container.get("lastRestartTime"))]
            for entry in container.get("history") or ():
                at = parse_time(entry.get("finishedAt"))
                times.append(at)
                if at is not None and now - window < at <= now:
                    seen.append(
                        RestartSeen(
                            pod=name,
                            workload=workload,
                            container=str(container.get("name") or ""),
                            reason=str(entry.get("reason") or "Unknown"),
                            exit_code=entry.get("exitCode"),
                            at=at,
                        )
                    )
            for at in times:
                if at is None:
                    continue
                if now - window < at <= now:
                    current.add(name)
                elif now - 2 * window < at <= now - window:
                    previous.add(name)
    return WindowObservation(
        pods_total=len(live | current),
        pods_restarted=len(current),
        previous_restarted=len(previous),
        ratio=_ratio(len(current), len(live | current)),
        previous_ratio=_ratio(len(previous), len(live | previous)),
        restarts=tuple(seen),
        started_at=min((r.at for r in seen), default=None),
    )


def memory_limit(pod: Obj | None, container: str) -> str:
    """The container's memory limit as written in the pod spec ("" when it has none)."""
    spec = (pod or {}).get("spec") or {}
    for key in ("containers", "initContainers", "ephemeralContainers"):
        for item in spec.get(key) or ():
            if item.get("name") == container:
                limits = (item.get("resources") or {}).get("limits") or {}
                return str(limits.get("memory") or "")[:32]
    return ""


def _percent(ratio: float) -> str:
    return f"{ratio * 100:.0f}%"


def _window_text(seconds: float) -> str:
    if seconds % 3600 == 0:
        return f"{seconds / 3600:g}h"
    if seconds % 60 == 0:
        return f"{seconds / 60:g}m"
    return f"{seconds:g}s"


def _summary(anomaly: dict[str, Any], window: float, cluster: str, namespace: str) -> str:
    parts = [
        f"{anomaly['podsRestarted']} of {anomaly['podsTotal']} pods "
        f"({_percent(anomaly['ratio'])}) of namespace {namespace} in cluster {cluster} "
        f"restarted in the last {_window_text(window)} (previous "
        f"{_window_text(window)}: {_percent(anomaly['previousRatio'])}), since "
        f"{anomaly['startedAt']}."
    ]
    if anomaly["topReasons"]:
        parts.append(
            "Top reasons: "
            + ", ".join(f"{r['reason']} {r['count']}" for r in anomaly["topReasons"])
            + "."
        )
    if anomaly["exitCodes"]:
        parts.append(
            "Exit codes: "
            + ", ".join(f"{c['exitCode']} x{c['count']}" for c in anomaly["exitCodes"])
            + "."
        )
    if anomaly["oomKilled"]:
        parts.append(
            "OOMKilled: "
            + "; ".join(
                f"{o['workload']} container {o['container']} {o['count']}x "
                + (
                    f"at its memory limit {o['memoryLimit']}"
                    if o["memoryLimit"]
                    else "with no memory limit (the node ran out of memory)"
                )
                for o in anomaly["oomKilled"]
            )
            + "."
        )
    if anomaly["workloads"]:
        parts.append(
            "Most restarts: "
            + ", ".join(
                f"{w['workload']}/{w['container']} {w['restarts']}" for w in anomaly["workloads"]
            )
            + "."
        )
    text = " ".join(parts)
    return text if len(text) <= _SUMMARY_LIMIT else text[: _SUMMARY_LIMIT - 3] + "..."


def root_cause(
    observation: WindowObservation,
    pods: Mapping[str, Obj],
    *,
    now: float,
    window: float,
    cluster: str,
    namespace: str,
    started_at: float | None = None,
    not_before: float | None = None,
) -> dict[str, Any]:
    """The anomaly entry for ``observation`` (``pods``: live pods by name, for limits).

    It started at ``started_at`` if given (an anomaly in progress), else with the earliest
    restart of the window, but not before ``not_before`` (the previous anomaly's
    recovery), so history entries stay distinct.
    """
    restarts = observation.restarts
    started = observation.started_at if observation.started_at is not None else now
    if not_before is not None:
        started = max(started, not_before)
    if started_at is not None:
        started = started_at
    reasons = Counter(r.reason for r in restarts)
    codes = Counter(r.exit_code for r in restarts if r.exit_code is not None)
    oom = Counter((r.workload, r.container, r.pod) for r in restarts if r.reason == "OOMKilled")
    oom_by_container: Counter[tuple[str, str]] = Counter()
    limits: dict[tuple[str, str], str] = {}
    for (workload, container, pod), count in oom.items():
        oom_by_container[(workload, container)] += count
        limits[(workload, container)] = limits.get((workload, container)) or memory_limit(
            pods.get(pod), container
        )
    workloads = Counter((r.workload, r.container) for r in restarts)
    anomaly: dict[str, Any] = {
        "startedAt": rfc3339(started),
        "detectedAt": rfc3339(now),
        "ratio": observation.ratio,
        "previousRatio": observation.previous_ratio,
        "podsRestarted": observation.pods_restarted,
        "podsTotal": observation.pods_total,
        "topReasons": [{"reason": r, "count": n} for r, n in reasons.most_common(_TOP)],
        "exitCodes": [{"exitCode": c, "count": n} for c, n in codes.most_common(_TOP)],
        "oomKilled": [
            {"workload": w, "container": c, "count": n, "memoryLimit": limits[(w, c)]}
            for (w, c), n in oom_by_container.most_common(_TOP)
        ],
        "workloads": [
            {"workload": w, "container": c, "restarts": n}
            for (w, c), n in workloads.most_common(_TOP)
        ],
    }
    anomaly["summary"] = _summary(anomaly, window, cluster, namespace)
    return anomaly


@dataclass(frozen=True, slots=True)
class Verdict:
    """The new ``status.inspection`` and what to announce."""

    inspection: dict[str, Any]
    fire: bool
    """Send a Warning Event with ``inspection["current"]["summary"]``."""
    recovered: dict[str, Any] | None
    """The anomaly that just ended (now first in the history), if any."""


def _abnormal(observation: WindowObservation, settings: InspectionOptions) -> bool:
    return (
        observation.pods_restarted >= settings.min_restarted_pods
        and observation.ratio > 0
        and observation.ratio >= settings.ratio_threshold
        and observation.ratio >= settings.rise_factor * observation.previous_ratio
    )


def _recover(inspection: dict[str, Any], now: float) -> dict[str, Any]:
    ended = dict(inspection.pop("current", None) or {})
    ended["recoveredAt"] = rfc3339(now)
    started = parse_time(ended.get("startedAt"))
    ended["durationSeconds"] = max(0, int(now - started)) if started is not None else 0
    history = [
        ended,
        *(
            h
            for h in inspection.get("history") or ()
            if h.get("startedAt") != ended.get("startedAt")
        ),
    ]
    inspection["history"] = history[:MAX_ANOMALY_HISTORY]
    inspection["state"] = "Normal"
    return ended


def inspect(
    previous: Obj | None,
    observation: WindowObservation,
    anomaly: Callable[[float | None, float | None], dict[str, Any]],
    settings: InspectionOptions,
    *,
    now: float,
) -> Verdict:
    """The next inspection status; ``now`` is Unix seconds.

    ``anomaly(started_at, not_before)`` builds a root cause (see ``root_cause``); it is
    called only when one is needed."""
    inspection = dict(previous or {})
    inspection.update(
        lastInspectedAt=rfc3339(now),
        windowSeconds=max(1, int(settings.window)),
        ratio=observation.ratio,
        previousRatio=observation.previous_ratio,
        podsRestarted=observation.pods_restarted,
        podsTotal=observation.pods_total,
    )
    silenced = (parse_time(inspection.get("silencedUntil")) or 0.0) > now
    fire = False
    recovered = None
    if inspection.get("state") != "Abnormal":
        inspection["state"] = "Normal"
        if _abnormal(observation, settings):
            history = inspection.get("history") or [{}]
            inspection["current"] = anomaly(None, parse_time(history[0].get("recoveredAt")))
            inspection["state"] = "Abnormal"
            fire = not silenced
    elif (
        observation.ratio < settings.ratio_threshold
        or observation.pods_restarted < settings.min_restarted_pods
    ):
        recovered = _recover(inspection, now)
    elif not silenced:
        current = inspection.get("current") or {}
        fresh = anomaly(parse_time(current.get("startedAt")), None)
        fresh["detectedAt"] = current.get("detectedAt", fresh["detectedAt"])
        inspection["current"] = fresh
        fire = True
    if fire:
        inspection["lastEventAt"] = rfc3339(now)
        inspection["silencedUntil"] = rfc3339(now + settings.silence)
    return Verdict(inspection=inspection, fire=fire, recovered=recovered)
