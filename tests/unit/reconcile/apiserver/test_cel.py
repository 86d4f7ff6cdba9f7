from __future__ import annotations

from typing import Any

import pytest

from reconcile.apiserver.cel import compile_errors, validate

SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {
        "spec": {
            "type": "object",
            "x-kubernetes-validations": [
                {"rule": "self.minReplicas <= self.maxReplicas", "message": "minReplicas must not exceed maxReplicas"},
                {"rule": "self.mode == oldSelf.mode", "message": "mode is immutable", "fieldPath": ".mode"},
                {"rule": "!has(self.name) || self.name.startsWith('pool-')",
                 "messageExpression": "'name ' + self.name + ' must start with pool-'"},
            ],
            "properties": {
                "minReplicas": {"type": "integer"},
                "maxReplicas": {"type": "integer"},
                "mode": {"type": "string"},
                "name": {"type": "string"},
                "slots": {
                    "type": "array",
                    "x-kubernetes-list-type": "map",
                    "x-kubernetes-list-map-keys": ["id"],
                    "items": {
                        "type": "object",
                        "properties": {"id": {"type": "integer"}, "size": {"type": "integer"}},
                        "x-kubernetes-validations": [
                            {"rule": "self.size > 0", "message": "size must be positive", "reason": "FieldValueForbidden"},
                            {"rule": "self.size >= oldSelf.size", "message": "slots never shrink"},
                        ],
                    },
                },
            },
        }
    },
}  # fmt: skip


def _spec(**spec: Any) -> dict[str, Any]:
    return {"spec": {"minReplicas": 1, "maxReplicas": 3, "mode": "fast", **spec}}


def test_valid_object_passes() -> None:
    assert validate(_spec(name="pool-a", slots=[{"id": 1, "size": 2}]), SCHEMA) == []


@pytest.mark.parametrize(
    ("spec", "field", "reason", "message"),
    [
        ({"minReplicas": 5}, "spec", "FieldValueInvalid", 'Invalid value: "object": minReplicas must not exceed maxReplicas'),
        ({"name": "other"}, "spec", "FieldValueInvalid", 'Invalid value: "object": name other must start with pool-'),
        ({"slots": [{"id": 1, "size": 1}, {"id": 2, "size": 0}]}, "spec.slots[1]", "FieldValueForbidden", "Forbidden: size must be positive"),
    ],
)  # fmt: skip
def test_failing_rules_name_field_reason_and_message(
    spec: dict[str, Any], field: str, reason: str, message: str
) -> None:
    assert validate(_spec(**spec), SCHEMA) == [
        {"reason": reason, "field": field, "message": message}
    ]


def test_transition_rules_skip_create_and_run_on_update() -> None:
    assert validate(_spec(mode="slow"), SCHEMA) == []
    causes = validate(_spec(mode="slow"), SCHEMA, old=_spec(mode="fast"))
    assert causes == [
        {
            "reason": "FieldValueInvalid",
            "field": "spec.mode",
            "message": 'Invalid value: "object": mode is immutable',
        }
    ]


def test_list_map_items_correlate_by_key_for_old_self() -> None:
    old = _spec(slots=[{"id": 1, "size": 4}, {"id": 2, "size": 4}])
    new = _spec(slots=[{"id": 2, "size": 4}, {"id": 1, "size": 3}, {"id": 3, "size": 1}])
    causes = validate(new, SCHEMA, old=old)
    assert [(c["field"], c["message"]) for c in causes] == [
        ("spec.slots[1]", 'Invalid value: "object": slots never shrink')
    ]


def test_evaluation_error_is_a_cause_not_a_crash() -> None:
    schema = {
        "type": "object",
        "properties": {
            "spec": {"type": "object", "x-kubernetes-validations": [{"rule": "self.missing > 1"}]}
        },
    }
    causes = validate({"spec": {}}, schema)
    assert len(causes) == 1 and "evaluation error" in causes[0]["message"]


def test_compile_errors_point_at_the_rule() -> None:
    schema = {
        "type": "object",
        "properties": {
            "spec": {"type": "object", "x-kubernetes-validations": [{"rule": "self.a =="}]}
        },
    }
    causes = compile_errors(schema, "spec.versions[0].schema.openAPIV3Schema")
    assert [c["field"] for c in causes] == [
        "spec.versions[0].schema.openAPIV3Schema.properties[spec].x-kubernetes-validations[0].rule"
    ]


def test_unchanged_values_are_ratcheted_changed_ones_validated() -> None:
    """As kube-apiserver 1.30+: an update keeps a value that fails a (new) rule as long as
    it does not change it; a changed value, and every transition rule, are checked."""
    old = _spec(slots=[{"id": 1, "size": 0}, {"id": 2, "size": 4}])
    assert (
        validate(_spec(slots=[{"id": 1, "size": 0}, {"id": 2, "size": 5}]), SCHEMA, old=old) == []
    )
    touched = _spec(slots=[{"id": 1, "size": -1}, {"id": 2, "size": 3}])
    assert [(c["field"], c["message"]) for c in validate(touched, SCHEMA, old=old)] == [
        ("spec.slots[0]", "Forbidden: size must be positive"),
        ("spec.slots[0]", 'Invalid value: "object": slots never shrink'),
        ("spec.slots[1]", 'Invalid value: "object": slots never shrink'),
    ]
    assert len(validate(old, SCHEMA)) == 1, "a create has no old value: everything is checked"
