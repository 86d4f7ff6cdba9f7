"""Mutating admission from a ``CustomDefaulter`` (controller-runtime's
``admission.CustomDefaulter`` and ``WithCustomDefaulter``).

The defaulter changes a copy of the object in place; the answer is the JSON patch from the
object as received to the object as left (``jsonpatch.py``), so the API server applies
exactly the fields the defaulter set. DELETE is allowed without a call: there is no new
object to default. Refusing works as for validators (raise a ``KreconcileError``).
"""

from __future__ import annotations

import copy
from typing import Any, Protocol

from reconcile.webhook.admission import (
    AdmissionRequest,
    AdmissionResponse,
    allowed,
    errored,
    patch_response,
)

__all__ = ["CustomDefaulter", "DefaulterHandler"]


class CustomDefaulter(Protocol):
    """Fills in defaults on objects of one kind, in place."""

    def default(self, obj: dict[str, Any]) -> None: ...


class DefaulterHandler:
    """An admission handler calling a ``CustomDefaulter`` and answering with a patch."""

    def __init__(self, defaulter: CustomDefaulter) -> None:
        self.defaulter = defaulter

    def handle(self, request: AdmissionRequest) -> AdmissionResponse:
        if request.operation == "DELETE":
            return allowed()
        if request.object is None:
            return errored(400, f"a {request.operation} review carries the object")
        current = copy.deepcopy(request.object)
        self.defaulter.default(current)
        return patch_response(request.object, current)
