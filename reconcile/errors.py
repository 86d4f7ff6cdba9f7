"""Every exception kreconcile raises, in one tree.

::

    KreconcileError                  base of everything raised on purpose
    ├── ApiError                     the API server answered with a metav1.Status failure
    │   ├── BadRequest               400  malformed request
    │   ├── Unauthorized             401  credentials missing or rejected
    │   ├── Forbidden                403  RBAC denies the verb
    │   ├── NotFound                 404  object or resource does not exist
    │   ├── MethodNotSupported       405  verb not served for the resource
    │   ├── Conflict                 409  stale resourceVersion or apply conflict
    │   │   └── AlreadyExists        409  create of a name that is taken
    │   ├── Gone                     410  resourceVersion or continue token compacted
    │   ├── UnsupportedMediaType     415  patch type not accepted for the resource
    │   ├── Invalid                  422  object fails validation (see ``causes``)
    │   ├── TooManyRequests          429  throttled (see ``retry_after``)
    │   ├── InternalError            500  the server failed
    │   ├── ServiceUnavailable       503  the server is not ready
    │   │   └── ServerUnreachable    ---  no connection could be opened: nothing was sent
    │   └── ServerTimeout            504  the server gave up waiting
    ├── InvalidSelector              a label or field selector cannot be parsed (a ValueError)
    ├── CacheSyncTimeout             an informer did not sync in time
    ├── NotCached                    a read of a kind or namespace the cache does not hold
    ├── LeaderElectionLost           this replica stopped leading
    ├── ConfigError                  a configuration file or option is invalid
    └── TerminalError                a reconcile failure that retrying cannot fix

``ApiError.from_status`` turns a Status body into the most specific class, so callers
catch what they can handle (``except NotFound``) and let the rest propagate. The classes are
the one table of HTTP code -> Status reason: ``reason_for(code)`` reads it, and the embedded
API server answers with it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

__all__ = [
    "AlreadyExists",
    "ApiError",
    "BadRequest",
    "CacheSyncTimeout",
    "Cause",
    "ConfigError",
    "Conflict",
    "Forbidden",
    "Gone",
    "InternalError",
    "Invalid",
    "InvalidSelector",
    "KreconcileError",
    "LeaderElectionLost",
    "MethodNotSupported",
    "NotCached",
    "NotFound",
    "ServerTimeout",
    "ServerUnreachable",
    "ServiceUnavailable",
    "TerminalError",
    "TooManyRequests",
    "Unauthorized",
    "UnsupportedMediaType",
    "reason_for",
]


class KreconcileError(Exception):
    """Base of every exception kreconcile raises on purpose."""


@dataclass(frozen=True, slots=True)
class Cause:
    """One entry of ``Status.details.causes``: which field failed and why."""

    reason: str
    message: str
    field: str


class ApiError(KreconcileError):
    """The API server answered with a failure Status.

    ``code`` is the HTTP status, ``reason`` the Status reason (``NotFound``,
    ``Conflict``...), ``status`` the whole Status body as received.
    """

    code: int = 0
    default_reason: str = ""

    def __init__(
        self,
        message: str,
        *,
        code: int | None = None,
        reason: str | None = None,
        status: Mapping[str, Any] | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        if code is not None:
            self.code = code
        self.reason = reason if reason is not None else self.default_reason
        self.status: Mapping[str, Any] = status if status is not None else {}

    @property
    def details(self) -> Mapping[str, Any]:
        """``Status.details`` (name, group, kind, causes, retryAfterSeconds), or empty."""
        details = self.status.get("details")
        return details if isinstance(details, Mapping) else {}

    @property
    def causes(self) -> list[Cause]:
        """The field-level causes the server listed, most often for ``Invalid``."""
        return [
            Cause(
                reason=str(c.get("reason", "")),
                message=str(c.get("message", "")),
                field=str(c.get("field", "")),
            )
            for c in self.details.get("causes", []) or []
            if isinstance(c, Mapping)
        ]

    @classmethod
    def from_status(cls, status: Mapping[str, Any], *, code: int | None = None) -> ApiError:
        """Build the most specific error for a Status body (reason first, then code)."""
        http_code = int(status.get("code") or code or 0)
        reason = str(status.get("reason") or "")
        message = str(status.get("message") or reason or f"HTTP {http_code}")
        error_class = _BY_REASON.get(reason) or _BY_CODE.get(http_code)
        if error_class is None:
            # 502 from a proxy, 507...: still a server-side failure callers may retry.
            error_class = InternalError if http_code >= 500 else ApiError
        if error_class is TooManyRequests:
            return TooManyRequests(message, code=http_code, reason=reason, status=status)
        return error_class(message, code=http_code, reason=reason, status=status)


class BadRequest(ApiError):
    """400: the request was malformed (bad JSON, bad selector, wrong apiVersion)."""

    code = 400
    default_reason = "BadRequest"


class Unauthorized(ApiError):
    """401: the credentials were missing or rejected; check the kubeconfig."""

    code = 401
    default_reason = "Unauthorized"


class Forbidden(ApiError):
    """403: RBAC denies this verb; grant it in config/rbac/role.yaml."""

    code = 403
    default_reason = "Forbidden"


class NotFound(ApiError):
    """404: the object, or its whole resource type, does not exist."""

    code = 404
    default_reason = "NotFound"


class MethodNotSupported(ApiError):
    """405: the resource does not serve this verb."""

    code = 405
    default_reason = "MethodNotAllowed"


class Conflict(ApiError):
    """409: a write raced another; re-read the object and retry (see retry_on_conflict)."""

    code = 409
    default_reason = "Conflict"


class AlreadyExists(Conflict):
    """409: create of a name that is already taken."""

    default_reason = "AlreadyExists"


class Gone(ApiError):
    """410: the resourceVersion or continue token is older than the server keeps; re-list."""

    code = 410
    default_reason = "Expired"


class UnsupportedMediaType(ApiError):
    """415: the patch type is not accepted (strategic merge on a custom resource)."""

    code = 415
    default_reason = "UnsupportedMediaType"


class Invalid(ApiError):
    """422: the object failed validation; ``causes`` names each field."""

    code = 422
    default_reason = "Invalid"


class TooManyRequests(ApiError):
    """429: the server throttled the request; wait ``retry_after`` seconds."""

    code = 429
    default_reason = "TooManyRequests"

    @property
    def retry_after(self) -> float | None:
        """Seconds the server asked us to wait, if it said."""
        value = self.details.get("retryAfterSeconds")
        return float(value) if isinstance(value, int | float) else None


class InternalError(ApiError):
    """500: the server failed while handling the request."""

    code = 500
    default_reason = "InternalError"


class ServiceUnavailable(ApiError):
    """503: the server is not ready to serve."""

    code = 503
    default_reason = "ServiceUnavailable"


class ServerTimeout(ApiError):
    """504 (or reason ServerTimeout/Timeout): the server gave up; retry later."""

    code = 504
    default_reason = "Timeout"


class ServerUnreachable(ServiceUnavailable):
    """No connection to the API server could be opened, so the request was never sent.

    The one transport failure after which a write may be repeated safely."""


_CANONICAL: tuple[type[ApiError], ...] = (
    BadRequest,
    Unauthorized,
    Forbidden,
    NotFound,
    MethodNotSupported,
    Conflict,
    Gone,
    UnsupportedMediaType,
    Invalid,
    TooManyRequests,
    InternalError,
    ServiceUnavailable,
    ServerTimeout,
)
_BY_CODE: dict[int, type[ApiError]] = {cls.code: cls for cls in _CANONICAL}
"""The class for each HTTP code; its ``default_reason`` is the code's Status reason."""

_BY_REASON: dict[str, type[ApiError]] = {
    **{cls.default_reason: cls for cls in _CANONICAL},
    AlreadyExists.default_reason: AlreadyExists,
    "Gone": Gone,
    "ServerTimeout": ServerTimeout,
}
"""Reasons as sent by kube-apiserver, plus the aliases older servers use."""


def reason_for(code: int) -> str:
    """The Status reason kube-apiserver sends with HTTP ``code`` ("" if it has none)."""
    error_class = _BY_CODE.get(code)
    return error_class.default_reason if error_class is not None else ""


class InvalidSelector(KreconcileError, ValueError):
    """A label or field selector cannot be parsed; the message names the bad requirement."""


class CacheSyncTimeout(KreconcileError):
    """An informer did not finish its initial list in time; the message names the likely cause."""


class NotCached(KreconcileError):
    """A cache read of a kind it has no informer for (with ``reader_fail_on_missing_informer``)
    or of a namespace it does not watch; the message says how to cache it or where to read."""


class LeaderElectionLost(KreconcileError):
    """This replica could not renew its Lease in time and stopped all leader-only work."""


class ConfigError(KreconcileError):
    """A configuration file or option is invalid; the last good configuration stays in force."""


class TerminalError(KreconcileError):
    """A reconcile failure that retrying cannot fix: logged and counted, never requeued.

    Raise it ``from`` the underlying exception so the cause stays in the log::

        raise TerminalError("spec.slots must be positive") from exc
    """
