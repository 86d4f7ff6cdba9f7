"""The generated schemas: structural, described, bounded, with list-map keys that exist."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from crds import DEFINITIONS, KindDefinition
from reconcile.apiserver import cel
from reconcile.apiserver import schema as structural

OBJECT_SIZE_LIMIT = 1_572_864
"""etcd's default request limit (1.5 MiB), which caps an object's size."""
STATUS_BUDGET = 1_048_576
"""At most 1 MiB for status, leaving the rest for spec, metadata and managedFields."""

_SCALAR_SIZE = {"integer": 20, "number": 24, "boolean": 5}


def _nodes(node: dict[str, Any], path: str) -> Iterator[tuple[str, dict[str, Any]]]:
    yield path, node
    for name, sub in (node.get("properties") or {}).items():
        yield from _nodes(sub, f"{path}.{name}")
    if isinstance(node.get("items"), dict):
        yield from _nodes(node["items"], f"{path}[]")
    if isinstance(node.get("additionalProperties"), dict):
        yield from _nodes(node["additionalProperties"], f"{path}{{}}")


def worst_case_size(node: dict[str, Any], path: str = "status") -> int:
    """The largest JSON text a value of this schema can have (every list and string full)."""
    kind = node.get("type")
    if node.get("x-kubernetes-preserve-unknown-fields"):
        raise AssertionError(f"{path}: free-form field in status cannot be bounded")
    if "enum" in node:
        return max(len(str(v)) for v in node["enum"]) + 2
    if kind == "string":
        assert "maxLength" in node, f"{path}: string without maxLength"
        return int(node["maxLength"]) + 2
    if kind in _SCALAR_SIZE:
        return _SCALAR_SIZE[kind]
    if kind == "array":
        assert "maxItems" in node, f"{path}: list without maxItems"
        return 2 + int(node["maxItems"]) * (worst_case_size(node["items"], f"{path}[]") + 1)
    if isinstance(node.get("additionalProperties"), dict):
        assert "maxProperties" in node, f"{path}: map without maxProperties"
        value = worst_case_size(node["additionalProperties"], f"{path}{{}}")
        return 2 + int(node["maxProperties"]) * (63 + 4 + value)
    return 2 + sum(
        len(name) + 4 + worst_case_size(sub, f"{path}.{name}")
        for name, sub in (node.get("properties") or {}).items()
    )


def _ids() -> list[str]:
    return [d.kind for d in DEFINITIONS]


@pytest.mark.parametrize("definition", DEFINITIONS, ids=_ids())
def test_status_is_bounded_under_the_object_size_limit(definition: KindDefinition) -> None:
    size = worst_case_size(definition.openapi_schema()["properties"]["status"])
    assert size <= STATUS_BUDGET, f"{definition.kind} status may reach {size} bytes"
    assert STATUS_BUDGET < OBJECT_SIZE_LIMIT


@pytest.mark.parametrize("definition", DEFINITIONS, ids=_ids())
def test_schema_is_structural_and_its_rules_compile(definition: KindDefinition) -> None:
    schema = definition.openapi_schema()
    assert structural.validate_structural(schema, "openAPIV3Schema") == []
    assert cel.compile_errors(schema, "openAPIV3Schema") == []


@pytest.mark.parametrize("definition", DEFINITIONS, ids=_ids())
def test_every_field_has_a_description(definition: KindDefinition) -> None:
    schema = definition.openapi_schema()
    undocumented = [
        path
        for path, node in _nodes(schema, definition.kind)
        if not path.endswith(("[]", "{}", ".metadata")) and not node.get("description")
    ]
    assert undocumented == []


@pytest.mark.parametrize("definition", DEFINITIONS, ids=_ids())
def test_list_map_keys_are_required_fields(definition: KindDefinition) -> None:
    for path, node in _nodes(definition.openapi_schema(), definition.kind):
        if node.get("x-kubernetes-list-type") != "map":
            continue
        item = node["items"]
        for key in node["x-kubernetes-list-map-keys"]:
            assert key in item["properties"], f"{path}: key {key} is not a field"
            assert key in item.get("required", []) or "default" in item["properties"][key], (
                f"{path}: list-map key {key} must be required or defaulted"
            )


@pytest.mark.parametrize("definition", DEFINITIONS, ids=_ids())
def test_defaults_are_published_only_under_spec(definition: KindDefinition) -> None:
    status = definition.openapi_schema()["properties"]["status"]
    assert [path for path, node in _nodes(status, "status") if "default" in node] == []


def test_spec_defaults_the_issues_promise() -> None:
    by_kind = {d.kind: d.openapi_schema()["properties"]["spec"]["properties"] for d in DEFINITIONS}
    pool = by_kind["AgentPool"]
    assert pool["slotsPerAgent"]["default"] == 3
    assert pool["scaleDownStabilizationSeconds"]["default"] == 300
    assert "default" not in pool["reservationTTLSeconds"]
    policy = by_kind["IOLimitPolicy"]
    assert policy["excludedNamespaces"]["default"] == ["kube-system"]
    assert policy["dryRun"]["default"] is False
    assert policy["rules"]["items"]["properties"]["window"]["enum"] == ["15m", "30m", "60m"]


def test_names_and_subresources() -> None:
    names = {d.kind: (d.plural, d.short_names, d.scope) for d in DEFINITIONS}
    assert names == {
        "RestartRecord": ("restartrecords", ("rr",), "Namespaced"),
        "IOLimitPolicy": ("iolimitpolicies", ("iolp",), "Cluster"),
        "AgentPool": ("agentpools", ("ap",), "Namespaced"),
    }
    for definition in DEFINITIONS:
        version = definition.manifest()["spec"]["versions"][0]
        assert "status" in version["subresources"]
        assert definition.manifest()["spec"]["names"]["categories"] == ["kreconcile"]
    pool = next(d for d in DEFINITIONS if d.kind == "AgentPool").manifest()
    assert pool["spec"]["versions"][0]["subresources"]["scale"] == {
        "specReplicasPath": ".spec.replicas",
        "statusReplicasPath": ".status.replicas",
        "labelSelectorPath": ".status.selector",
    }
