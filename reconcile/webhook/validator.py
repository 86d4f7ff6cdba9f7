"""Validating admission from a ``CustomValidator`` (controller-runtime's
``admission.CustomValidator`` and ``WithCustomValidator``).

A validator sees raw object dicts and answers with warnings (shown by kubectl, the request
still goes through) or refuses by raising: ``invalid(kind, name, FieldError(...))`` builds
the 422 kube-apiserver would answer for a bad field, naming it (kubectl prints
``AgentPool.kreconcile.io "ci" is invalid: spec.slotsPerAgent: Forbidden: ...``); any other
``ApiError`` (``Forbidden``, ``Conflict``...) is answered with its own status, and any other
``KreconcileError`` with a 403 carrying its message. An exception of another class is a bug
in the validator: a 500 review, counted as a panic.

On DELETE the object being deleted arrives as the review's ``oldObject``; that is what
``validate_delete`` gets.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Literal, Protocol

from reconcile.errors import Invalid
from reconcile.gvk import GroupVersionKind
from reconcile.webhook.admission import (
    AdmissionRequest,
    AdmissionResponse,
    allowed,
    errored,
)

__all__ = ["CustomValidator", "FieldError", "ValidatorHandler", "invalid"]

Warnings = Sequence[str] | None
"""What a validator returns: warnings for the client, or None."""

FieldErrorType = Literal[
    "Invalid", "Required", "Forbidden", "Duplicate", "NotSupported", "TooLong", "TooMany"
]
_LABELS = {
    "Invalid": "Invalid value",
    "Required": "Required value",
    "Forbidden": "Forbidden",
    "Duplicate": "Duplicate value",
    "NotSupported": "Unsupported value",
    "TooLong": "Too long",
    "TooMany": "Too many",
}
_WITH_VALUE = frozenset({"Invalid", "Duplicate", "NotSupported"})
_NO_VALUE = object()


class CustomValidator(Protocol):
    """Checks objects of one kind beyond what the schema says; raise to refuse."""

    def validate_create(self, obj: dict[str, Any]) -> Warnings: ...

    def validate_update(self, old: dict[str, Any], new: dict[str, Any]) -> Warnings: ...

    def validate_delete(self, obj: dict[str, Any]) -> Warnings: ...


@dataclass(frozen=True, slots=True)
class FieldError:
    """One refused field, as apimachinery's ``field.Error``.

    Usage::

        FieldError("Forbidden", "spec.slotsPerAgent", "pod ci-0 holds slot 2")
        FieldError("Invalid", "spec.maxReplicas", "below the busy pods", value=1)
    """

    type: FieldErrorType
    field: str
    """The field's path, e.g. ``spec.rules[0].window``."""
    detail: str = ""
    value: Any = _NO_VALUE
    """The refused value (Invalid, Duplicate, NotSupported)."""

    def body(self) -> str:
        """``Forbidden: detail`` / ``Invalid value: 3: detail`` (kube's ErrorBody)."""
        text = _LABELS[self.type]
        if self.type in _WITH_VALUE and self.value is not _NO_VALUE:
            text += f": {json.dumps(self.value)}"
        return f"{text}: {self.detail}" if self.detail else text

    def __str__(self) -> str:
        return f"{self.field}: {self.body()}"


def invalid(kind: GroupVersionKind, name: str, *errors: FieldError) -> Invalid:
    """The 422 kube-apiserver answers for ``errors`` on object ``name`` of ``kind``."""
    qualified = f"{kind.kind}.{kind.group}" if kind.group else kind.kind
    messages = [str(e) for e in errors]
    aggregate = messages[0] if len(messages) == 1 else "[" + ", ".join(messages) + "]"
    message = f'{qualified} "{name}" is invalid' + (f": {aggregate}" if messages else "")
    status = {
        "kind": "Status",
        "apiVersion": "v1",
        "metadata": {},
        "status": "Failure",
        "message": message,
        "reason": "Invalid",
        "code": 422,
        "details": {
            "name": name,
            "group": kind.group,
            "kind": kind.kind,
            "causes": [
                {"reason": f"FieldValue{e.type}", "message": e.body(), "field": e.field}
                for e in errors
            ],
        },
    }
    return Invalid(message, code=422, reason="Invalid", status=status)


class ValidatorHandler:
    """An admission handler calling a ``CustomValidator`` for each operation."""

    def __init__(self, validator: CustomValidator) -> None:
        self.validator = validator

    def handle(self, request: AdmissionRequest) -> AdmissionResponse:
        operation = request.operation
        if operation == "CREATE":
            if request.object is None:
                return errored(400, "a CREATE review carries the object")
            warnings = self.validator.validate_create(request.object)
        elif operation == "UPDATE":
            if request.object is None or request.old_object is None:
                return errored(400, "an UPDATE review carries the object and oldObject")
            warnings = self.validator.validate_update(request.old_object, request.object)
        elif operation == "DELETE":
            if request.old_object is None:
                return errored(400, "a DELETE review carries the deleted object as oldObject")
            warnings = self.validator.validate_delete(request.old_object)
        else:
            return errored(400, f"unknown operation {operation!r}")
        return allowed().with_warnings(*(str(w) for w in warnings or ()))
