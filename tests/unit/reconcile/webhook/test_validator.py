"""CustomValidator through its handler: the operation picks the method, warnings pass
through, and ``invalid`` builds kube-apiserver's 422."""

from __future__ import annotations

from typing import Any

import pytest

from reconcile.gvk import GroupVersionKind, GroupVersionResource
from reconcile.webhook import AdmissionRequest, FieldError, ValidatorHandler, invalid

KIND = GroupVersionKind("example.com", "v1", "Gadget")


class Recorder:
    def __init__(self) -> None:
        self.calls: list[tuple[str, Any, Any]] = []

    def validate_create(self, obj: dict[str, Any]) -> list[str]:
        self.calls.append(("create", obj, None))
        return ["created"]

    def validate_update(self, old: dict[str, Any], new: dict[str, Any]) -> None:
        self.calls.append(("update", old, new))

    def validate_delete(self, obj: dict[str, Any]) -> None:
        self.calls.append(("delete", obj, None))


def _request(operation: str, obj: Any = None, old: Any = None) -> AdmissionRequest:
    return AdmissionRequest(uid="u", kind=KIND, resource=GroupVersionResource("example.com", "v1",
                            "gadgets"), operation=operation, object=obj, old_object=old)  # fmt: skip


@pytest.mark.parametrize(
    ("operation", "obj", "old", "call"),
    [
        pytest.param("CREATE", {"a": 1}, None, ("create", {"a": 1}, None), id="create"),
        pytest.param("UPDATE", {"a": 2}, {"a": 1}, ("update", {"a": 1}, {"a": 2}), id="update"),
        pytest.param("DELETE", None, {"a": 1}, ("delete", {"a": 1}, None),
                     id="delete-gets-the-old-object"),
    ],
)  # fmt: skip
def test_operation_picks_the_method(operation: str, obj: Any, old: Any, call: Any) -> None:
    recorder = Recorder()
    response = ValidatorHandler(recorder).handle(_request(operation, obj, old))
    assert recorder.calls == [call]
    assert response.allowed
    assert response.warnings == (["created"] if operation == "CREATE" else [])


def test_a_review_without_its_objects_is_a_400() -> None:
    response = ValidatorHandler(Recorder()).handle(_request("UPDATE", {"a": 1}))
    assert not response.allowed and response.result is not None
    assert response.result["code"] == 400


def test_invalid_is_kube_apiservers_422() -> None:
    error = invalid(
        KIND,
        "g",
        FieldError("Forbidden", "spec.size", "too big"),
        FieldError("Invalid", "spec.color", "not a color", value="mauve"),
    )
    assert error.code == 422 and error.reason == "Invalid"
    assert error.message == (
        'Gadget.example.com "g" is invalid: [spec.size: Forbidden: too big, '
        'spec.color: Invalid value: "mauve": not a color]'
    )
    assert [(c.reason, c.field, c.message) for c in error.causes] == [
        ("FieldValueForbidden", "spec.size", "Forbidden: too big"),
        ("FieldValueInvalid", "spec.color", 'Invalid value: "mauve": not a color'),
    ]
    assert error.details["kind"] == "Gadget" and error.details["group"] == "example.com"
    single = invalid(GroupVersionKind("", "v1", "Pod"), "p", FieldError("Required", "spec"))
    assert single.message == 'Pod "p" is invalid: spec: Required value'
