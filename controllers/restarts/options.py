"""The ``restarts:`` section of the operators' config file, validated into frozen options.

Every field has a default, so an empty section (or none) runs the operator as documented::

    restarts:
      retention: 7d            # how long a record outlives its pod
      historyLimit: 20         # restarts kept per container (at most 32)
      restartEventMetric: false
      workers: 8
      inspection:              # off while it has no targets
        targets:               # the old inspection's shape: cluster_name + one name or a list
        - {cluster_name: prod, namespace: payments}
        - {cluster_name: prod, namespace: [orders, "team-*"]}
        include: []            # glob patterns; empty: every namespace the targets name
        exclude: [kube-system]
        window: 30m
        interval: 1m
        ratioThreshold: 0.2
        riseFactor: 2
        minRestartedPods: 1
        silence: 1h

Durations are seconds or ``1h30m``-style strings (``s``, ``m``, ``h``, ``d``). A mistake
raises ``ValueError`` naming the field, so the config watcher refuses the whole file and
keeps the last good one.
"""

from __future__ import annotations

import fnmatch
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

__all__ = [
    "DEFAULT_HISTORY_LIMIT",
    "DEFAULT_RETENTION",
    "DEFAULT_WORKERS",
    "MAX_HISTORY_LIMIT",
    "InspectionOptions",
    "InspectionTarget",
    "RestartsOptions",
    "parse_duration",
    "parse_options",
]

DEFAULT_RETENTION = 7 * 24 * 3600.0
"""Seconds a record outlives its pod: a week of history for a post-mortem."""
DEFAULT_HISTORY_LIMIT = 20
DEFAULT_WORKERS = 8
MAX_HISTORY_LIMIT = 32
"""The CRD's bound on a container's history (keeps a record far below the size limit)."""

_DURATION = re.compile(r"(\d+(?:\.\d+)?)(d|h|m|s)")
_UNITS = {"d": 86400.0, "h": 3600.0, "m": 60.0, "s": 1.0}


def parse_duration(value: Any, where: str) -> float:
    """``90``, ``"90s"``, ``"1h30m"``, ``"7d"`` -> seconds (> 0); ValueError naming ``where``."""
    if isinstance(value, bool):
        raise ValueError(f"{where}: must be a duration like 30m or 7d, got {value!r}")
    if isinstance(value, int | float):
        seconds = float(value)
    elif isinstance(value, str) and value.strip():
        text = value.strip()
        parts = _DURATION.findall(text)
        if "".join(n + u for n, u in parts) != text:
            raise ValueError(
                f"{where}: cannot read {value!r} as a duration; write seconds or e.g. 45s, "
                "30m, 1h30m, 7d"
            )
        seconds = sum(float(n) * _UNITS[u] for n, u in parts)
    else:
        raise ValueError(f"{where}: must be a duration like 30m or 7d, got {value!r}")
    if seconds <= 0:
        raise ValueError(f"{where}: must be longer than 0, got {value!r}")
    return seconds


def _number(
    section: Mapping[str, Any], key: str, default: float, where: str, *, low: float, high: float
) -> float:
    value = section.get(key, default)
    if isinstance(value, bool) or not isinstance(value, int | float) or not low <= value <= high:
        raise ValueError(f"{where}{key}: must be a number from {low:g} to {high:g}, got {value!r}")
    return float(value)


def _integer(
    section: Mapping[str, Any], key: str, default: int, where: str, *, low: int, high: int
) -> int:
    value = section.get(key, default)
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise ValueError(f"{where}{key}: must be an integer from {low} to {high}, got {value!r}")
    return value


def _patterns(section: Mapping[str, Any], key: str, where: str) -> tuple[str, ...]:
    value = section.get(key) or []
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list) or not all(isinstance(v, str) and v for v in value):
        raise ValueError(f"{where}{key}: must be a list of namespace names or glob patterns")
    return tuple(value)


def _check_keys(section: Mapping[str, Any], allowed: tuple[str, ...], where: str) -> None:
    unknown = sorted(str(k) for k in section if k not in allowed)
    if unknown:
        raise ValueError(
            f"{where}unknown setting(s) {', '.join(unknown)}; settings are: {', '.join(allowed)}"
        )


@dataclass(frozen=True, kw_only=True, slots=True)
class InspectionTarget:
    """One entry of the old inspection's config: a cluster name and its namespaces."""

    cluster_name: str
    """Labels the namespace ratio metric and names the cluster in Events."""
    namespaces: tuple[str, ...]
    """Names or glob patterns (``team-*``)."""

    def matches(self, namespace: str) -> bool:
        return any(fnmatch.fnmatchcase(namespace, pattern) for pattern in self.namespaces)


@dataclass(frozen=True, kw_only=True, slots=True)
class InspectionOptions:
    """When a namespace counts as restarting abnormally, and how often to say so."""

    targets: tuple[InspectionTarget, ...] = ()
    """Namespaces to inspect; none turns the inspection off."""
    include: tuple[str, ...] = ()
    """Glob patterns a target namespace must also match; empty: no further restriction."""
    exclude: tuple[str, ...] = ()
    """Glob patterns of namespaces never inspected, whatever the targets say."""
    window: float = 1800.0
    """Seconds of restarts one inspection looks at (the old inspection's 30 minutes)."""
    interval: float = 60.0
    """Seconds between two inspections of a namespace (measured from the last one recorded
    in status, so an operator restart does not re-inspect early)."""
    ratio_threshold: float = 0.2
    """Share of the namespace's pods that restarted in the window at or above which the
    namespace may be abnormal; it recovers when the share drops below it."""
    rise_factor: float = 2.0
    """The share must also be at least this many times the previous window's share (it
    rose): a namespace that always restarts this much is not news."""
    min_restarted_pods: int = 1
    """Fewer restarted pods than this is never abnormal (one pod in a two-pod namespace)."""
    silence: float = 3600.0
    """Seconds after a Warning Event during which no other is sent for the namespace."""

    def cluster_for(self, namespace: str) -> str | None:
        """The cluster name of the first target naming ``namespace``, if it is inspected."""
        if any(fnmatch.fnmatchcase(namespace, p) for p in self.exclude):
            return None
        if self.include and not any(fnmatch.fnmatchcase(namespace, p) for p in self.include):
            return None
        return next((t.cluster_name for t in self.targets if t.matches(namespace)), None)


@dataclass(frozen=True, kw_only=True, slots=True)
class RestartsOptions:
    """The restarts operator's settings; ``parse_options({})`` gives the defaults."""

    retention: float = DEFAULT_RETENTION
    """Seconds a record is kept after its pod is gone."""
    history_limit: int = DEFAULT_HISTORY_LIMIT
    """Newest restarts kept per container (older ones roll off; counts are kept)."""
    restart_event_metric: bool = False
    """Export ``pod_monitor_container_restart_event``: one series per history entry (up to
    historyLimit per container), labelled with its restart_count. Off by default: it
    multiplies the operator's series by the history length."""
    workers: int = DEFAULT_WORKERS
    """Concurrent reconciles of the pod controller (read at start only). A reconcile is one
    status write, so workers mostly wait on the API server: under a restart storm on a busy
    API server, 8 keep the queue short where 4 let it grow to seconds (bench/restarts.py)."""
    inspection: InspectionOptions = field(default_factory=InspectionOptions)


def _targets(value: Any) -> tuple[InspectionTarget, ...]:
    if value is None:
        return ()
    if not isinstance(value, list):
        raise ValueError("inspection.targets: must be a list of {cluster_name, namespace}")
    targets = []
    for index, entry in enumerate(value):
        where = f"inspection.targets[{index}]"
        if not isinstance(entry, Mapping):
            raise ValueError(f"{where}: must be a mapping with cluster_name and namespace")
        _check_keys(entry, ("cluster_name", "namespace"), f"{where}: ")
        cluster = entry.get("cluster_name")
        if not isinstance(cluster, str) or not cluster or len(cluster) > 63:
            raise ValueError(f"{where}.cluster_name: must be a name of 1 to 63 characters")
        names = entry.get("namespace")
        if isinstance(names, str):
            names = [names]
        if (
            not isinstance(names, list)
            or not names
            or not all(isinstance(n, str) and n for n in names)
        ):
            raise ValueError(f"{where}.namespace: must be a namespace name or a list of names")
        targets.append(InspectionTarget(cluster_name=cluster, namespaces=tuple(names)))
    return tuple(targets)


def _inspection(section: Any) -> InspectionOptions:
    if section is None:
        return InspectionOptions()
    if not isinstance(section, Mapping):
        raise ValueError("inspection: must be a mapping of settings")
    where = "inspection."
    _check_keys(
        section,
        (
            "targets",
            "include",
            "exclude",
            "window",
            "interval",
            "ratioThreshold",
            "riseFactor",
            "minRestartedPods",
            "silence",
        ),
        where,
    )
    defaults = InspectionOptions()
    return InspectionOptions(
        targets=_targets(section.get("targets")),
        include=_patterns(section, "include", where),
        exclude=_patterns(section, "exclude", where),
        window=parse_duration(section.get("window", defaults.window), f"{where}window"),
        interval=parse_duration(section.get("interval", defaults.interval), f"{where}interval"),
        ratio_threshold=_number(
            section, "ratioThreshold", defaults.ratio_threshold, where, low=0.0, high=1.0
        ),
        rise_factor=_number(section, "riseFactor", defaults.rise_factor, where, low=0, high=1e6),
        min_restarted_pods=_integer(
            section, "minRestartedPods", defaults.min_restarted_pods, where, low=1, high=1_000_000
        ),
        silence=parse_duration(section.get("silence", defaults.silence), f"{where}silence"),
    )


def parse_options(section: Mapping[str, Any]) -> RestartsOptions:
    """Validate the ``restarts:`` section; raise ValueError naming the field at fault."""
    _check_keys(
        section, ("retention", "historyLimit", "restartEventMetric", "workers", "inspection"), ""
    )
    event_metric = section.get("restartEventMetric", False)
    if not isinstance(event_metric, bool):
        raise ValueError(f"restartEventMetric: must be true or false, got {event_metric!r}")
    return RestartsOptions(
        retention=parse_duration(section.get("retention", DEFAULT_RETENTION), "retention"),
        history_limit=_integer(
            section, "historyLimit", DEFAULT_HISTORY_LIMIT, "", low=1, high=MAX_HISTORY_LIMIT
        ),
        restart_event_metric=event_metric,
        workers=_integer(section, "workers", DEFAULT_WORKERS, "", low=1, high=64),
        inspection=_inspection(section.get("inspection")),
    )
