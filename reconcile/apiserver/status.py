"""metav1.Status failures with kube-apiserver's codes, reasons and message wording.

Handlers raise ``StatusError``; the server turns it into the JSON body a client expects.
The messages follow kube-apiserver's so that kubectl prints what users know, e.g.
``Operation cannot be fulfilled on pods "x": the object has been modified; ...``.
"""

from __future__ import annotations

from typing import Any

from reconcile.apiserver.resources import ResourceInfo

__all__ = [
    "StatusError",
    "already_exists",
    "bad_request",
    "conflict",
    "expired",
    "forbidden",
    "invalid",
    "method_not_allowed",
    "not_found",
    "status_body",
    "success_status",
]

CONFLICT_SUFFIX = (
    "the object has been modified; please apply your changes to the latest version and try again"
)


def status_body(
    code: int, reason: str, message: str, details: dict[str, Any] | None = None
) -> dict[str, Any]:
    body: dict[str, Any] = {
        "kind": "Status",
        "apiVersion": "v1",
        "metadata": {},
        "status": "Failure",
        "message": message,
        "reason": reason,
        "code": code,
    }
    if details:
        body["details"] = details
    return body


class StatusError(Exception):
    """A failure to send as a Status body with HTTP ``code``."""

    def __init__(
        self,
        code: int,
        reason: str,
        message: str,
        details: dict[str, Any] | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.code = code
        self.reason = reason
        self.message = message
        self.details = details
        self.headers = headers or {}

    def body(self) -> dict[str, Any]:
        return status_body(self.code, self.reason, self.message, self.details)


def _details(info: ResourceInfo | None, name: str, **extra: Any) -> dict[str, Any]:
    details: dict[str, Any] = {"name": name} if name else {}
    if info is not None:
        if info.group:
            details["group"] = info.group
        details["kind"] = info.resource
    details.update(extra)
    return details


def not_found(info: ResourceInfo, name: str) -> StatusError:
    return StatusError(
        404, "NotFound", f'{info.group_resource} "{name}" not found', _details(info, name)
    )


def already_exists(info: ResourceInfo, name: str) -> StatusError:
    return StatusError(
        409,
        "AlreadyExists",
        f'{info.group_resource} "{name}" already exists',
        _details(info, name),
    )


def conflict(info: ResourceInfo, name: str, why: str = CONFLICT_SUFFIX) -> StatusError:
    return StatusError(
        409,
        "Conflict",
        f'Operation cannot be fulfilled on {info.group_resource} "{name}": {why}',
        _details(info, name),
    )


def invalid(info: ResourceInfo, name: str, causes: list[dict[str, str]]) -> StatusError:
    """422 listing every cause as ``field: message`` like kube-apiserver's aggregate."""
    parts = [f"{c['field']}: {c['message']}" if c.get("field") else c["message"] for c in causes]
    summary = parts[0] if len(parts) == 1 else "[" + ", ".join(parts) + "]"
    qualified = f"{info.kind}.{info.group}" if info.group else info.kind
    return StatusError(
        422,
        "Invalid",
        f'{qualified} "{name}" is invalid: {summary}',
        _details(info, name, kind=info.kind, causes=causes),
    )


def bad_request(message: str) -> StatusError:
    return StatusError(400, "BadRequest", message)


def forbidden(info: ResourceInfo, name: str, why: str, **details: Any) -> StatusError:
    return StatusError(
        403,
        "Forbidden",
        f'{info.group_resource} "{name}" is forbidden: {why}',
        _details(info, name, **details),
    )


def method_not_allowed(message: str) -> StatusError:
    return StatusError(405, "MethodNotAllowed", message)


def expired(message: str) -> StatusError:
    return StatusError(410, "Expired", message)


def success_status(info: ResourceInfo, name: str, uid: str) -> dict[str, Any]:
    return {
        "kind": "Status",
        "apiVersion": "v1",
        "metadata": {},
        "status": "Success",
        "details": _details(info, name, uid=uid),
    }
