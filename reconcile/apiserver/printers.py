"""The columns ``kubectl get`` prints for built-in kinds, as kube-apiserver's printers do.

One entry per resource: the extra columns (between NAME and AGE) and a function computing
their cells from the object; ``table.py`` wraps them into a metav1.Table.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

__all__ = ["BUILTIN_COLUMNS", "Column", "Row", "count", "human_duration", "text"]

Row = list[Any]
Column = tuple[str, str, str, int]  # name, type, description, priority


def count(value: Any) -> int:
    """An integer field as a cell; a value stored before validation existed reads as 0, so
    one bad object never breaks ``kubectl get`` of the whole list."""
    try:
        return int(value)
    except (TypeError, ValueError):
        return 0


def human_duration(seconds: float) -> str:
    """kube's duration.HumanDuration."""
    if seconds < -1:
        return "<invalid>"
    s = max(0, int(seconds))
    minutes, hours, days = s // 60, s // 3600, s // 86400
    if s < 120:
        return f"{s}s"
    if minutes < 10:
        return f"{minutes}m{s % 60}s" if s % 60 else f"{minutes}m"
    if minutes < 180:
        return f"{minutes}m"
    if hours < 8:
        return f"{hours}h{minutes % 60}m" if minutes % 60 else f"{hours}h"
    if hours < 48:
        return f"{hours}h"
    if hours < 24 * 8:
        return f"{days}d{hours % 24}h" if hours % 24 else f"{days}d"
    if hours < 24 * 365 * 2:
        return f"{days}d"
    if hours < 24 * 365 * 8:
        return f"{days // 365}y{days % 365}d"
    return f"{days // 365}y"


def text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _pod_row(obj: dict[str, Any]) -> Row:
    spec, status = obj.get("spec") or {}, obj.get("status") or {}
    statuses = status.get("containerStatuses") or []
    total = len(spec.get("containers") or [])
    ready = sum(1 for c in statuses if c.get("ready"))
    restarts = sum(count(c.get("restartCount") or 0) for c in statuses)
    reason = status.get("reason") or status.get("phase") or "Pending"
    for container in statuses:
        state = container.get("state") or {}
        if "waiting" in state and state["waiting"].get("reason"):
            reason = state["waiting"]["reason"]
        elif "terminated" in state and state["terminated"].get("reason"):
            reason = state["terminated"]["reason"]
    if (obj.get("metadata") or {}).get("deletionTimestamp"):
        reason = "Terminating"
    return [
        f"{ready}/{total}",
        reason,
        restarts,
        status.get("podIP") or "<none>",
        spec.get("nodeName") or "<none>",
    ]


def _node_row(obj: dict[str, Any]) -> Row:
    conditions = (obj.get("status") or {}).get("conditions") or []
    ready = next((c for c in conditions if c.get("type") == "Ready"), None)
    state = "Ready" if ready and ready.get("status") == "True" else "NotReady"
    if (obj.get("spec") or {}).get("unschedulable"):
        state += ",SchedulingDisabled"
    labels = (obj.get("metadata") or {}).get("labels") or {}
    roles = sorted(k.split("/", 1)[1] for k in labels if k.startswith("node-role.kubernetes.io/"))
    version = ((obj.get("status") or {}).get("nodeInfo") or {}).get("kubeletVersion", "")
    return [state, ",".join(roles) or "<none>", version]


def _replicas(obj: dict[str, Any], *fields: str) -> Row:
    status = obj.get("status") or {}
    return [count(status.get(f) or 0) for f in fields]


def _event_object(obj: dict[str, Any]) -> str:
    involved = obj.get("involvedObject") or obj.get("regarding") or {}
    return f"{str(involved.get('kind', '')).lower()}/{involved.get('name', '')}"


def _ready_of_desired(obj: dict[str, Any]) -> str:
    ready = count((obj.get("status") or {}).get("readyReplicas") or 0)
    return f"{ready}/{count((obj.get('spec') or {}).get('replicas', 1))}"


def _service_row(obj: dict[str, Any]) -> Row:
    spec = obj.get("spec") or {}
    ports = ",".join(f"{p.get('port')}/{p.get('protocol', 'TCP')}" for p in spec.get("ports") or [])
    return [spec.get("type", "ClusterIP"), spec.get("clusterIP", "<none>"), ports or "<none>"]


def _event_row(obj: dict[str, Any]) -> Row:
    message = obj.get("message") or obj.get("note", "")
    return [obj.get("type", ""), obj.get("reason", ""), _event_object(obj), message]


def _job_row(obj: dict[str, Any]) -> Row:
    spec, status = obj.get("spec") or {}, obj.get("status") or {}
    done = {c.get("type") for c in status.get("conditions") or [] if c.get("status") == "True"}
    state = next((s for s in ("Complete", "Failed", "Suspended") if s in done), "Running")
    completions = f"{count(status.get('succeeded') or 0)}/{count(spec.get('completions') or 1)}"
    start, end = status.get("startTime"), status.get("completionTime")
    duration = ""
    if start:
        finished = dt.datetime.fromisoformat(end.replace("Z", "+00:00")) if end else None
        began = dt.datetime.fromisoformat(start.replace("Z", "+00:00"))
        duration = human_duration(((finished or dt.datetime.now(dt.UTC)) - began).total_seconds())
    return [state, completions, duration]


def _cron_job_row(obj: dict[str, Any]) -> Row:
    spec, status = obj.get("spec") or {}, obj.get("status") or {}
    return [
        spec.get("schedule", ""),
        spec.get("timeZone") or "<none>",
        text(bool(spec.get("suspend"))),
        len(status.get("active") or []),
        status.get("lastScheduleTime") or "<none>",
    ]


def _hpa_row(obj: dict[str, Any]) -> Row:
    spec, status = obj.get("spec") or {}, obj.get("status") or {}
    target = spec.get("scaleTargetRef") or {}
    metrics = spec.get("metrics") or []
    return [
        f"{target.get('kind', '')}/{target.get('name', '')}",
        f"<unknown>/{len(metrics)} metrics" if metrics else "<none>",
        count(spec.get("minReplicas") or 1),
        count(spec.get("maxReplicas") or 0),
        count(status.get("currentReplicas") or 0),
    ]


def _string(*names: str) -> list[Column]:
    return [(name, "string", "", 0) for name in names]


def _integer(*names: str) -> list[Column]:
    return [(name, "integer", "", 0) for name in names]


BUILTIN_COLUMNS: dict[tuple[str, str], tuple[list[Column], Callable[[dict[str, Any]], Row]]] = {
    ("", "pods"): (
        [
            *_string("Ready", "Status", "Restarts"),
            ("IP", "string", "", 1),
            ("Node", "string", "", 1),
        ],
        _pod_row,
    ),
    ("", "nodes"): (_string("Status", "Roles", "Version"), _node_row),
    ("", "namespaces"): (
        _string("Status"),
        lambda o: [(o.get("status") or {}).get("phase", "Active")],
    ),
    ("", "configmaps"): (
        _integer("Data"),
        lambda o: [len(o.get("data") or {}) + len(o.get("binaryData") or {})],
    ),
    ("", "secrets"): (
        [*_string("Type"), *_integer("Data")],
        lambda o: [o.get("type", "Opaque"), len(o.get("data") or {})],
    ),
    ("", "serviceaccounts"): (_integer("Secrets"), lambda o: [len(o.get("secrets") or [])]),
    ("", "services"): (_string("Type", "Cluster-IP", "Port(s)"), _service_row),
    ("apps", "deployments"): (
        [*_string("Ready"), *_integer("Up-to-date", "Available")],
        lambda o: [_ready_of_desired(o), *_replicas(o, "updatedReplicas", "availableReplicas")],
    ),
    ("apps", "replicasets"): (
        _integer("Desired", "Current", "Ready"),
        lambda o: [
            count((o.get("spec") or {}).get("replicas", 1)),
            *_replicas(o, "replicas", "readyReplicas"),
        ],
    ),
    ("apps", "daemonsets"): (
        _integer("Desired", "Current", "Ready", "Up-to-date", "Available"),
        lambda o: _replicas(
            o,
            "desiredNumberScheduled",
            "currentNumberScheduled",
            "numberReady",
            "updatedNumberScheduled",
            "numberAvailable",
        ),
    ),
    ("apps", "statefulsets"): (_string("Ready"), lambda o: [_ready_of_desired(o)]),
    ("coordination.k8s.io", "leases"): (
        _string("Holder"),
        lambda o: [(o.get("spec") or {}).get("holderIdentity") or ""],
    ),
    ("", "events"): (_string("Type", "Reason", "Object", "Message"), _event_row),
    ("", "replicationcontrollers"): (
        _integer("Desired", "Current", "Ready"),
        lambda o: [
            count((o.get("spec") or {}).get("replicas", 1)),
            *_replicas(o, "replicas", "readyReplicas"),
        ],
    ),
    ("", "persistentvolumeclaims"): (
        _string("Status", "Volume", "Capacity", "Access Modes", "StorageClass"),
        lambda o: [
            (o.get("status") or {}).get("phase", "Pending"),
            (o.get("spec") or {}).get("volumeName", ""),
            ((o.get("status") or {}).get("capacity") or {}).get("storage", ""),
            ",".join((o.get("status") or {}).get("accessModes") or []),
            (o.get("spec") or {}).get("storageClassName") or "<unset>",
        ],
    ),
    ("batch", "jobs"): (_string("Status", "Completions", "Duration"), _job_row),
    ("batch", "cronjobs"): (
        [
            *_string("Schedule", "Timezone", "Suspend"),
            *_integer("Active"),
            *_string("Last Schedule"),
        ],
        _cron_job_row,
    ),
    ("autoscaling", "horizontalpodautoscalers"): (
        [*_string("Reference", "Targets"), *_integer("MinPods", "MaxPods", "Replicas")],
        _hpa_row,
    ),
    ("policy", "poddisruptionbudgets"): (
        [*_string("Min Available", "Max Unavailable"), *_integer("Allowed Disruptions")],
        lambda o: [
            text((o.get("spec") or {}).get("minAvailable", "N/A")),
            text((o.get("spec") or {}).get("maxUnavailable", "N/A")),
            count((o.get("status") or {}).get("disruptionsAllowed") or 0),
        ],
    ),
}
BUILTIN_COLUMNS[("events.k8s.io", "events")] = BUILTIN_COLUMNS[("", "events")]
