from __future__ import annotations

from typing import Any

import pytest

from reconcile.apiserver.schema import apply_defaults, prune, validate, validate_structural

SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {
        "spec": {
            "type": "object",
            "required": ["slots"],
            "properties": {
                "slots": {"type": "integer", "minimum": 1, "maximum": 8},
                "mode": {"type": "string", "enum": ["fast", "slow"], "default": "fast"},
                "name": {"type": "string", "pattern": "^[a-z]+$", "maxLength": 5},
                "tags": {
                    "type": "array",
                    "maxItems": 2,
                    "items": {"type": "string"},
                    "x-kubernetes-list-type": "set",
                },
                "port": {"x-kubernetes-int-or-string": True},
                "free": {"type": "object", "x-kubernetes-preserve-unknown-fields": True},
                "nested": {
                    "type": "object",
                    "properties": {"inner": {"type": "integer", "default": 7}},
                },
            },
        }
    },
}


@pytest.mark.parametrize(
    ("spec", "field", "reason", "message"),
    [
        ({}, "spec.slots", "FieldValueRequired", "Required value"),
        ({"slots": "x"}, "spec.slots", "FieldValueTypeInvalid", 'Invalid value: "x": spec.slots in body must be of type integer: "x"'),
        ({"slots": 0}, "spec.slots", "FieldValueInvalid", "Invalid value: 0: spec.slots in body should be greater than or equal to 1"),
        ({"slots": 9}, "spec.slots", "FieldValueInvalid", "Invalid value: 9: spec.slots in body should be less than or equal to 8"),
        ({"slots": 1, "mode": "odd"}, "spec.mode", "FieldValueNotSupported", 'Unsupported value: "odd": supported values: "fast", "slow"'),
        ({"slots": 1, "name": "A1"}, "spec.name", "FieldValueInvalid", "Invalid value: \"A1\": spec.name in body should match '^[a-z]+$'"),
        ({"slots": 1, "tags": ["a", "b", "c"]}, "spec.tags", "FieldValueTooMany", "Too many: 3: must have at most 2 items"),
        ({"slots": 1, "tags": ["a", "a"]}, "spec.tags[1]", "FieldValueDuplicate", 'Duplicate value: "a"'),
        ({"slots": 1, "port": 1.5}, "spec.port", "FieldValueTypeInvalid", "Invalid value: 1.5: spec.port in body must be of type integer,string: 1.5"),
    ],
)  # fmt: skip
def test_validation_causes(spec: dict[str, Any], field: str, reason: str, message: str) -> None:
    causes = validate({"spec": spec}, SCHEMA)
    assert {"reason": reason, "field": field, "message": message} in causes, causes


@pytest.mark.parametrize("port", [8080, "http"])
def test_int_or_string_accepts_both(port: Any) -> None:
    assert validate({"spec": {"slots": 1, "port": port}}, SCHEMA) == []


def test_prune_removes_unknown_fields_and_reports_paths() -> None:
    obj = {
        "apiVersion": "x/v1",
        "kind": "K",
        "metadata": {"name": "a"},
        "spec": {"slots": 1, "bogus": 1, "free": {"any": 1}},
        "extra": 2,
    }
    assert sorted(prune(obj, SCHEMA)) == ["extra", "spec.bogus"]
    assert obj == {
        "apiVersion": "x/v1",
        "kind": "K",
        "metadata": {"name": "a"},
        "spec": {"slots": 1, "free": {"any": 1}},
    }


def test_prune_drops_null_in_non_nullable_field() -> None:
    obj: dict[str, Any] = {"spec": {"slots": 1, "mode": None}}
    prune(obj, SCHEMA)
    assert obj == {"spec": {"slots": 1}}


def test_defaults_fill_absent_fields_only_under_present_parents() -> None:
    obj: dict[str, Any] = {"spec": {"slots": 1, "mode": "slow"}}
    apply_defaults(obj, SCHEMA)
    assert obj == {"spec": {"slots": 1, "mode": "slow"}}
    obj = {"spec": {"slots": 1, "nested": {}}}
    apply_defaults(obj, SCHEMA)
    assert obj == {"spec": {"slots": 1, "mode": "fast", "nested": {"inner": 7}}}


def test_structural_check_names_the_untyped_field() -> None:
    schema = {"type": "object", "properties": {"spec": {"properties": {"a": {"type": "string"}}}}}
    causes = validate_structural(schema, "spec.versions[0].schema.openAPIV3Schema")
    assert [c["field"] for c in causes] == [
        "spec.versions[0].schema.openAPIV3Schema.properties[spec].type"
    ]
