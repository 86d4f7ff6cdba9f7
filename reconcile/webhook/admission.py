"""Admission reviews (``admission.k8s.io/v1``) in and out, and the handler contract.

A ``Handler`` turns an ``AdmissionRequest`` into an ``AdmissionResponse``; ``Webhook``
adapts it to HTTP the way controller-runtime's ``admission.Webhook`` does:

- the body must be a JSON AdmissionReview (``v1``, or ``v1beta1`` from old API servers);
  anything else is answered with an errored review (code 400), never an HTTP error, so the
  API server reports the webhook's message;
- the answer carries the request's ``uid`` and the review's apiVersion, a ``status`` with
  code 200 when the handler set none, and the JSON patch (``patchType: JSONPatch``) when
  the handler changed the object;
- an exception a handler did not mean to raise (anything but a ``KreconcileError``) is a
  panic: answered with an errored review, code 500, and counted in
  ``controller_runtime_webhook_panics_total``.

While a handler runs, ``request_from_context()`` returns its request (controller-runtime's
``admission.RequestFromContext``), so validators and defaulters that need the user, the
operation or ``dryRun`` read it without a wider signature.
"""

from __future__ import annotations

import base64
import contextvars
import json
import logging
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol

from reconcile.errors import ApiError, KreconcileError
from reconcile.gvk import GroupVersionKind, GroupVersionResource
from reconcile.webhook.jsonpatch import create_patch
from reconcile.webhook.server import HTTPReply

__all__ = [
    "AdmissionRequest",
    "AdmissionResponse",
    "Handler",
    "Webhook",
    "allowed",
    "denied",
    "errored",
    "patch_response",
    "request_from_context",
    "response_from_error",
]

log = logging.getLogger(__name__)

_API_VERSIONS = ("admission.k8s.io/v1", "admission.k8s.io/v1beta1")
_CURRENT: contextvars.ContextVar[AdmissionRequest | None] = contextvars.ContextVar(
    "kreconcile_admission_request", default=None
)


def _gvk(raw: Any) -> GroupVersionKind:
    raw = raw if isinstance(raw, Mapping) else {}
    return GroupVersionKind(str(raw.get("group", "")), str(raw.get("version", "")),
                            str(raw.get("kind", "")))  # fmt: skip


def _gvr(raw: Any) -> GroupVersionResource:
    raw = raw if isinstance(raw, Mapping) else {}
    return GroupVersionResource(
        str(raw.get("group", "")), str(raw.get("version", "")), str(raw.get("resource", ""))
    )


def _object(raw: Any) -> dict[str, Any] | None:
    return raw if isinstance(raw, dict) and raw else None


@dataclass(frozen=True, slots=True)
class AdmissionRequest:
    """One admission request, as the API server sent it (objects are raw dicts)."""

    uid: str
    kind: GroupVersionKind
    """The kind of ``object`` as sent (the webhook's matched version)."""
    resource: GroupVersionResource
    operation: str
    """CREATE, UPDATE, DELETE or CONNECT."""
    name: str = ""
    namespace: str = ""
    sub_resource: str = ""
    request_kind: GroupVersionKind | None = None
    """The kind of the original request, when it differs from ``kind`` (matchPolicy)."""
    user_info: Mapping[str, Any] = field(default_factory=dict)
    object: dict[str, Any] | None = None
    """The new object (CREATE, UPDATE); None for DELETE."""
    old_object: dict[str, Any] | None = None
    """The stored object (UPDATE, DELETE); None for CREATE."""
    dry_run: bool = False
    """The request will not be persisted: a webhook with side effects must make none."""
    options: Mapping[str, Any] = field(default_factory=dict)
    """CreateOptions, UpdateOptions or DeleteOptions of the request."""

    @classmethod
    def from_dict(cls, raw: Mapping[str, Any]) -> AdmissionRequest:
        """A review's ``request`` field; ValueError when it is not one."""
        if not raw.get("uid"):
            raise ValueError("the AdmissionReview request has no uid")
        request_kind = raw.get("requestKind")
        return cls(
            uid=str(raw["uid"]),
            kind=_gvk(raw.get("kind")),
            resource=_gvr(raw.get("resource")),
            operation=str(raw.get("operation", "")),
            name=str(raw.get("name") or ""),
            namespace=str(raw.get("namespace") or ""),
            sub_resource=str(raw.get("subResource") or ""),
            request_kind=_gvk(request_kind) if request_kind else None,
            user_info=raw.get("userInfo") or {},
            object=_object(raw.get("object")),
            old_object=_object(raw.get("oldObject")),
            dry_run=bool(raw.get("dryRun")),
            options=raw.get("options") or {},
        )


@dataclass(slots=True)
class AdmissionResponse:
    """What a handler decides: allowed or not, why, and the changes to make."""

    allowed: bool
    result: dict[str, Any] | None = None
    """A ``metav1.Status``: its code, reason and message reach the client when denied."""
    patches: list[dict[str, Any]] = field(default_factory=list)
    """JSON patch operations on the object (mutating webhooks only)."""
    warnings: list[str] = field(default_factory=list)
    """Shown by kubectl as ``Warning: ...`` lines, whether allowed or not."""
    audit_annotations: dict[str, str] = field(default_factory=dict)

    def with_warnings(self, *warnings: str) -> AdmissionResponse:
        self.warnings.extend(w for w in warnings if w)
        return self

    def to_dict(self, uid: str) -> dict[str, Any]:
        """The review's ``response`` field, completed as controller-runtime completes it."""
        result = dict(self.result or {})
        result.setdefault("code", 200)
        body: dict[str, Any] = {"uid": uid, "allowed": self.allowed, "status": result}
        if self.patches:
            body["patch"] = base64.b64encode(json.dumps(self.patches).encode()).decode()
            body["patchType"] = "JSONPatch"
        if self.warnings:
            body["warnings"] = list(self.warnings)
        if self.audit_annotations:
            body["auditAnnotations"] = dict(self.audit_annotations)
        return body


def allowed(message: str = "") -> AdmissionResponse:
    """Let the request through."""
    result: dict[str, Any] = {"code": 200}
    if message:
        result["message"] = message
    return AdmissionResponse(allowed=True, result=result)


def denied(message: str, *, code: int = 403, reason: str = "Forbidden") -> AdmissionResponse:
    """Refuse the request; the API server answers ``code`` with ``message``."""
    return AdmissionResponse(
        allowed=False, result={"code": code, "reason": reason, "message": message}
    )


def errored(code: int, error: BaseException | str) -> AdmissionResponse:
    """Refuse because the webhook could not decide (bad input, a bug)."""
    return AdmissionResponse(allowed=False, result={"code": code, "message": str(error)})


def response_from_error(error: KreconcileError) -> AdmissionResponse:
    """An API error's Status (422 with its causes, 403, ...) or a 403 with its message."""
    if isinstance(error, ApiError):
        status = dict(error.status) if error.status else {}
        status.setdefault("code", error.code or 403)
        status.setdefault("reason", error.reason)
        status.setdefault("message", error.message)
        status.setdefault("status", "Failure")
        return AdmissionResponse(allowed=False, result=status)
    return denied(str(error))


def patch_response(original: Any, current: Any) -> AdmissionResponse:
    """Allowed, with the JSON patch from ``original`` to ``current`` (none if equal)."""
    response = allowed()
    response.patches = create_patch(original, current)
    return response


def request_from_context() -> AdmissionRequest:
    """The request being handled on this thread; RuntimeError outside a handler."""
    request = _CURRENT.get()
    if request is None:
        raise RuntimeError(
            "no admission request in context: call request_from_context() from a validator "
            "or defaulter while the webhook serves a request"
        )
    return request


class Handler(Protocol):
    """Decides one admission request."""

    def handle(self, request: AdmissionRequest) -> AdmissionResponse: ...


def _review(api_version: str, response: dict[str, Any]) -> bytes:
    return json.dumps(
        {"apiVersion": api_version, "kind": "AdmissionReview", "response": response},
        separators=(",", ":"),
    ).encode()


class Webhook:
    """An admission ``Handler`` served over HTTP (register it on a ``WebhookServer``)."""

    def __init__(self, handler: Handler, *, recover_panic: bool = True) -> None:
        """``recover_panic=False`` lets a handler's unexpected exception close the connection
        (the API server then applies the webhook's failurePolicy), for debugging."""
        self.handler = handler
        self.recover_panic = recover_panic

    def handle(self, request: AdmissionRequest) -> tuple[AdmissionResponse, bool]:
        """The handler's response and whether it panicked."""
        token = _CURRENT.set(request)
        try:
            return self.handler.handle(request), False
        except KreconcileError as error:
            return response_from_error(error), False
        except Exception as error:
            if not self.recover_panic:
                raise
            log.exception(
                "admission webhook panicked",
                extra={"uid": request.uid, "kind": str(request.kind), "object": request.name},
            )
            return errored(500, f"panic: {error} [recovered]"), True
        finally:
            _CURRENT.reset(token)

    def serve_http(self, body: bytes, content_type: str) -> HTTPReply:
        api_version = _API_VERSIONS[0]
        if not body:
            return self._answer(api_version, "", errored(400, "request body is empty"))
        media = content_type.split(";", maxsplit=1)[0].strip()
        if media != "application/json":
            error = f"contentType={content_type}, expected application/json"
            return self._answer(api_version, "", errored(400, error))
        try:
            review = json.loads(body)
            if not isinstance(review, dict):
                raise ValueError("an AdmissionReview is a JSON object")
            if review.get("apiVersion") in _API_VERSIONS:
                api_version = str(review["apiVersion"])
            if review.get("kind") != "AdmissionReview" or api_version != review.get("apiVersion"):
                raise ValueError(
                    f"expected admission.k8s.io/v1 AdmissionReview, got "
                    f"{review.get('apiVersion')} {review.get('kind')}"
                )
            request = AdmissionRequest.from_dict(review.get("request") or {})
        except ValueError as error:
            return self._answer(api_version, "", errored(400, error))
        response, panicked = self.handle(request)
        return self._answer(api_version, request.uid, response, panicked=panicked)

    @staticmethod
    def _answer(
        api_version: str, uid: str, response: AdmissionResponse, *, panicked: bool = False
    ) -> HTTPReply:
        return HTTPReply(200, _review(api_version, response.to_dict(uid)), panicked)
