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

from reconcile.apiserver.printers import BUILTIN_COLUMNS, Column, Row, human_duration, text
from reconcile.apiserver.resources import ResourceInfo

__all__ = ["human_duration", "jsonpath", "to_table"]


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
                    if found and text(found[0]) == filter_value:
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
        return text(first)
    return first


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
    builtin = BUILTIN_COLUMNS.get((info.group, info.resource))
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
