"""Overload protection the way kube-apiserver's flow control answers it: bounded in-flight work.

kube-apiserver caps the requests it serves at once (``--max-requests-inflight`` 400
read-only, ``--max-mutating-requests-inflight`` 200 mutating; API Priority and Fairness
splits the same budget into priority levels). Beyond the cap it does not queue forever: it
answers 429 with a Status body and ``Retry-After: 1``, and clients back off. That is what
lets controllers run without a client-side rate limiter (controller-runtime's default
since v0.21), so the embedded server does the same. Long-running requests (watches) and
health probes are exempt, as in kube-apiserver.

Every response carries ``X-Kubernetes-PF-FlowSchema-UID`` and
``X-Kubernetes-PF-PriorityLevel-UID``, the headers by which clients see that flow control
is on (client-go's throttling message mentions Priority and Fairness when they are set).

Everything runs on the server's one event loop, so the counters need no lock.
"""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Literal

from aiohttp import web

from reconcile.apiserver.status import status_body
from reconcile.errors import reason_for

__all__ = [
    "DEFAULT_MAX_MUTATING_REQUESTS_INFLIGHT",
    "DEFAULT_MAX_REQUESTS_INFLIGHT",
    "FLOW_SCHEMA_UID",
    "PRIORITY_LEVEL_UID",
    "FlowControl",
    "InflightLimits",
]

DEFAULT_MAX_REQUESTS_INFLIGHT = 400
"""kube-apiserver's ``--max-requests-inflight``: read-only requests served at once."""
DEFAULT_MAX_MUTATING_REQUESTS_INFLIGHT = 200
"""kube-apiserver's ``--max-mutating-requests-inflight``: writes served at once."""

FLOW_SCHEMA_UID = str(uuid.uuid5(uuid.NAMESPACE_URL, "kreconcile/flowschemas/global-default"))
"""Stable UID of the one flow schema every request matches (named like kube's catch-all)."""
PRIORITY_LEVEL_UID = str(
    uuid.uuid5(uuid.NAMESPACE_URL, "kreconcile/prioritylevelconfigurations/global-default")
)
"""Stable UID of the one priority level whose seats are the in-flight limits."""

RETRY_AFTER_SECONDS = 1
"""What kube-apiserver tells a rejected client to wait."""

_MUTATING = frozenset({"POST", "PUT", "PATCH", "DELETE"})
_EXEMPT_PATHS = frozenset({"/healthz", "/livez", "/readyz"})

Kind = Literal["readonly", "mutating"]
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


@dataclass(frozen=True, kw_only=True, slots=True)
class InflightLimits:
    """How many requests of each kind may be served at once; 0 means no limit."""

    max_requests_inflight: int = DEFAULT_MAX_REQUESTS_INFLIGHT
    """Read-only requests (get, list) served at once; more are answered 429."""
    max_mutating_requests_inflight: int = DEFAULT_MAX_MUTATING_REQUESTS_INFLIGHT
    """Mutating requests (create, update, patch, delete) served at once; more get 429."""

    def __post_init__(self) -> None:
        for name in ("max_requests_inflight", "max_mutating_requests_inflight"):
            if getattr(self, name) < 0:
                raise ValueError(f"{name} must be >= 0 (0: no limit), got {getattr(self, name)}")

    def limit(self, kind: Kind) -> int:
        if kind == "mutating":
            return self.max_mutating_requests_inflight
        return self.max_requests_inflight


def _kind(request: web.Request) -> Kind | None:
    """Which budget a request draws on; None for exempt (long-running or probe) requests."""
    if request.path in _EXEMPT_PATHS:
        return None
    if request.method in _MUTATING:
        return "mutating"
    if request.query.get("watch") in ("true", "1") or "/watch/" in request.path:
        return None
    return "readonly"


class FlowControl:
    """Counts in-flight requests per kind and rejects those over the limit with a 429."""

    def __init__(self, limits: InflightLimits | None = None) -> None:
        self.limits = limits or InflightLimits()
        self._inflight: dict[Kind, int] = {"readonly": 0, "mutating": 0}
        self.rejected = 0
        """Requests answered 429 so far."""

    def inflight(self, kind: Kind) -> int:
        """Requests of ``kind`` being served now."""
        return self._inflight[kind]

    def install(self, app: web.Application) -> None:
        """Add the limiter to ``app`` (before it starts): a middleware and response headers."""
        app.middlewares.append(self._middleware)
        app.on_response_prepare.append(self._add_headers)

    @web.middleware
    async def _middleware(self, request: web.Request, handler: Handler) -> web.StreamResponse:
        kind = _kind(request)
        if kind is None:
            return await handler(request)
        limit = self.limits.limit(kind)
        if limit and self._inflight[kind] >= limit:
            self.rejected += 1
            return _too_many_requests()
        self._inflight[kind] += 1
        try:
            return await handler(request)
        finally:
            self._inflight[kind] -= 1

    async def _add_headers(self, request: web.Request, response: web.StreamResponse) -> None:
        response.headers["X-Kubernetes-PF-FlowSchema-UID"] = FLOW_SCHEMA_UID
        response.headers["X-Kubernetes-PF-PriorityLevel-UID"] = PRIORITY_LEVEL_UID


def _too_many_requests() -> web.Response:
    body = status_body(
        429,
        reason_for(429),
        "Too many requests, please try again later.",
        {"retryAfterSeconds": RETRY_AFTER_SECONDS},
    )
    response = web.json_response(body, status=429)
    response.headers["Retry-After"] = str(RETRY_AFTER_SECONDS)
    return response
