"""metav1.Table output, so ``kubectl get`` prints the columns a real cluster prints.

Custom resources get NAME, their CRD's ``additionalPrinterColumns`` (evaluated with a small
JSONPath subset) and AGE when no column is declared. Built-in kinds get kube-apiserver's
usual columns, computed from the object. Ages are human durations like kube's ``5m`` or
``2d3h``; CRD ``date`` columns carry the timestamp and kubectl turns it into an age.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from collections.abc import Callable
from typing import Any

from reconcile.apiserver.resources import ResourceInfo

__all__ = ["human_duration", "jsonpath", "to_table"]

Row = list[Any]
Column = tuple[str, str, str, int]  # name, type, description, priority


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


def _since(stamp: str, now: dt.datetime) -> str:
    """A timestamp as an age, like kube's ConvertToHumanReadableDateType."""
    try:
        moment = dt.datetime.fromisoformat(stamp.replace("Z", "+00:00"))
    except ValueError:
        return "<invalid>"
    return human_duration((now - moment).total_seconds())


def _age(obj: dict[str, Any], now: dt.datetime) -> str:
    stamp = (obj.get("metadata") or {}).get("creationTimestamp")
    return _since(str(stamp), now) if stamp else "<unknown>"


_SEGMENT = re.compile(
    r"\.?([A-Za-z0-9_\-]+)|\[(\*|\d+)\]|\[\?\(@\.([A-Za-z0-9_.\-]+)\s*==\s*['\"]([^'\"]*)['\"]\)\]"
)


def jsonpath(expression: str, obj: Any) -> list[Any]:
    """Evaluate a printer-column JSONPath (``.spec.x``, ``[0]``, ``[*]``, ``[?(@.a=="b")]``)."""
    expression = expression.strip()
    if expression.startswith("{") and expression.endswith("}"):
        expression = expression[1:-1]
    expression = expression.removeprefix("$")
    nodes = [obj]
    position = 0
    while position < len(expression):
        match = _SEGMENT.match(expression, position)
        if match is None:
            return []
        position = match.end()
        field, index, filter_field, filter_value = match.groups()
        next_nodes: list[Any] = []
        for node in nodes:
            if field is not None and isinstance(node, dict) and field in node:
                next_nodes.append(node[field])
            elif index == "*" and isinstance(node, list):
                next_nodes.extend(node)
            elif index is not None and index != "*" and isinstance(node, list):
                if int(index) < len(node):
                    next_nodes.append(node[int(index)])
            elif filter_field is not None and isinstance(node, list):
                for item in node:
                    found = jsonpath("." + filter_field, item)
                    if found and _text(found[0]) == filter_value:
                        next_nodes.append(item)
        nodes = next_nodes
    return nodes


def _cell(value: list[Any], column_type: str, now: dt.datetime) -> Any:
    if not value:
        return None
    first = value[0]
    if column_type == "date":
        # kube-apiserver renders date columns as ages (ConvertToHumanReadableDateType)
        return _since(first, now) if isinstance(first, str) else None
    if isinstance(first, dict | list):
        return json.dumps(first, separators=(",", ":"))
    if column_type == "string" and not isinstance(first, str):
        return _text(first)
    return first


def _text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _pod_row(obj: dict[str, Any]) -> Row:
    spec, status = obj.get("spec") or {}, obj.get("status") or {}
    statuses = status.get("containerStatuses") or []
    total = len(spec.get("containers") or [])
    ready = sum(1 for c in statuses if c.get("ready"))
    restarts = sum(int(c.get("restartCount") or 0) for c in statuses)
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
    return [int(status.get(f) or 0) for f in fields]


def _event_object(obj: dict[str, Any]) -> str:
    involved = obj.get("involvedObject") or obj.get("regarding") or {}
    return f"{str(involved.get('kind', '')).lower()}/{involved.get('name', '')}"


def _ready_of_desired(obj: dict[str, Any]) -> str:
    ready = int((obj.get("status") or {}).get("readyReplicas") or 0)
    return f"{ready}/{int((obj.get('spec') or {}).get('replicas', 1))}"


def _service_row(obj: dict[str, Any]) -> Row:
    spec = obj.get("spec") or {}
    ports = ",".join(f"{p.get('port')}/{p.get('protocol', 'TCP')}" for p in spec.get("ports") or [])
    return [spec.get("type", "ClusterIP"), spec.get("clusterIP", "<none>"), ports or "<none>"]


def _event_row(obj: dict[str, Any]) -> Row:
    message = obj.get("message") or obj.get("note", "")
    return [obj.get("type", ""), obj.get("reason", ""), _event_object(obj), message]


def _string(*names: str) -> list[Column]:
    return [(name, "string", "", 0) for name in names]


def _integer(*names: str) -> list[Column]:
    return [(name, "integer", "", 0) for name in names]


_BUILTIN: dict[tuple[str, str], tuple[list[Column], Callable[[dict[str, Any]], Row]]] = {
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
            int((o.get("spec") or {}).get("replicas", 1)),
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
}
_BUILTIN[("events.k8s.io", "events")] = _BUILTIN[("", "events")]


def _columns(
    info: ResourceInfo,
) -> tuple[list[Column], Callable[[dict[str, Any], dt.datetime], Row]]:
    if info.custom:
        declared = list(info.printer_columns)
        columns: list[Column] = [("Name", "string", "Name must be unique within a namespace.", 0)]
        for c in declared:
            columns.append(
                (
                    c["name"],
                    c.get("type", "string"),
                    c.get("description", ""),
                    int(c.get("priority", 0)),
                )
            )
        if not declared:
            columns.append(("Age", "date", "", 0))

        def custom_row(obj: dict[str, Any], now: dt.datetime) -> Row:
            cells: Row = [obj["metadata"]["name"]]
            if not declared:
                return [*cells, _age(obj, now)]
            return cells + [
                _cell(jsonpath(c["jsonPath"], obj), c.get("type", "string"), now) for c in declared
            ]

        return columns, custom_row
    builtin = _BUILTIN.get((info.group, info.resource))
    if builtin is None:
        return (
            [("Name", "string", "", 0), ("Created At", "date", "", 0)],
            lambda obj, now: [obj["metadata"]["name"], obj["metadata"].get("creationTimestamp")],
        )
    extra, make = builtin
    columns = [
        ("Name", "string", "Name must be unique within a namespace.", 0),
        *extra,
        ("Age", "string", "", 0),
    ]
    if info.resource == "events":
        columns = [("Last Seen", "string", "", 0), *extra]
        return columns, lambda obj, now: [_age(obj, now), *make(obj)]
    ordered = [c for c in columns if c[3] == 0] + [c for c in columns if c[3] > 0]
    positions = [columns.index(c) for c in ordered]

    def builtin_row(obj: dict[str, Any], now: dt.datetime) -> Row:
        cells = [obj["metadata"]["name"], *make(obj), _age(obj, now)]
        return [cells[p] for p in positions]

    return ordered, builtin_row


def _partial(obj: dict[str, Any]) -> dict[str, Any]:
    return {
        "kind": "PartialObjectMetadata",
        "apiVersion": "meta.k8s.io/v1",
        "metadata": obj.get("metadata", {}),
    }


def to_table(
    info: ResourceInfo,
    objects: list[dict[str, Any]],
    *,
    include_object: str = "Metadata",
    list_meta: dict[str, Any] | None = None,
    now: dt.datetime | None = None,
    with_columns: bool = True,
) -> dict[str, Any]:
    """A ``meta.k8s.io/v1`` Table of ``objects``."""
    moment = now or dt.datetime.now(dt.UTC)
    columns, make_row = _columns(info)
    rows = []
    for obj in objects:
        row: dict[str, Any] = {"cells": make_row(obj, moment)}
        if include_object == "Object":
            row["object"] = obj
        elif include_object != "None":
            row["object"] = _partial(obj)
        rows.append(row)
    table: dict[str, Any] = {
        "kind": "Table",
        "apiVersion": "meta.k8s.io/v1",
        "metadata": list_meta or {},
        "rows": rows,
    }
    if with_columns:
        table["columnDefinitions"] = [
            {
                "name": name,
                "type": kind,
                "format": "name" if name == "Name" else "",
                "description": desc,
                "priority": prio,
            }
            for name, kind, desc, prio in columns
        ]
    return table
