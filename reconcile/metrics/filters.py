"""Who may scrape /metrics: authentication and authorization delegated to the API server.

controller-runtime's ``filters.WithAuthenticationAndAuthorization``, the default of
kubebuilder projects: a scrape must carry ``Authorization: Bearer <token>``; the token is
checked with a ``TokenReview`` (authentication.k8s.io/v1) and the user it names with a
``SubjectAccessReview`` (authorization.k8s.io/v1) for the non-resource URL, e.g. verb
``get`` on ``/metrics`` (granted by a ClusterRole rule ``nonResourceURLs: ["/metrics"]``).

- no or malformed token, or a token the API server does not authenticate: 401;
- a user the API server does not authorize: 403 ``Authorization denied for user <name>``;
- the API server unreachable or failing: 500, and nothing is cached.

Results are cached like kube's delegating authenticator and authorizer: token reviews for
``authentication_ttl`` (1 min), allowed decisions for ``allow_ttl`` (5 min) and denied ones
for ``deny_ttl`` (30 s), at most ``cache_size`` entries each (least recently used dropped
first). Tokens are kept only as SHA-256 digests.

Usage (serve metrics over HTTPS too, or tokens travel in clear)::

    ManagerOptions(metrics_cert_file=..., metrics_key_file=...,
                   metrics_filter=with_authentication_and_authorization)
"""

from __future__ import annotations

import hashlib
import json
import logging
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Generic, Protocol, TypeVar

from reconcile.errors import ApiError

__all__ = [
    "AuthFilterOptions",
    "Filter",
    "FilterProvider",
    "Reviewer",
    "with_authentication_and_authorization",
]

log = logging.getLogger(__name__)

Response = tuple[int, str, bytes]
Filter = Callable[[str, str, Mapping[str, str]], Response | None]
"""(method, path, headers) -> None to serve the request, or the response that refuses it."""

TOKEN_REVIEWS = "/apis/authentication.k8s.io/v1/tokenreviews"
SUBJECT_ACCESS_REVIEWS = "/apis/authorization.k8s.io/v1/subjectaccessreviews"

K = TypeVar("K")
V = TypeVar("V")


class Reviewer(Protocol):
    """What the filter needs from the API client: POST a JSON body, get the JSON back."""

    def request(self, method: str, path: str, *, body: Any = ...) -> Any: ...


FilterProvider = Callable[[Reviewer], Filter]
"""Builds a Filter from the manager's API transport (``ManagerOptions.metrics_filter``)."""


@dataclass(frozen=True, kw_only=True)
class AuthFilterOptions:
    authentication_ttl: float = 60.0
    """Seconds a token review result (either way) is reused."""
    allow_ttl: float = 300.0
    """Seconds an allowed access decision is reused."""
    deny_ttl: float = 30.0
    """Seconds a denied access decision is reused."""
    cache_size: int = 1024
    """Entries kept per cache (tokens, decisions)."""
    clock: Callable[[], float] = time.monotonic


class _TTLCache(Generic[K, V]):
    def __init__(self, size: int, clock: Callable[[], float]) -> None:
        self._size = size
        self._clock = clock
        self._items: OrderedDict[K, tuple[float, V]] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: K) -> V | None:
        with self._lock:
            entry = self._items.get(key)
            if entry is None:
                return None
            expires, value = entry
            if expires <= self._clock():
                del self._items[key]
                return None
            self._items.move_to_end(key)
            return value

    def put(self, key: K, value: V, ttl: float) -> None:
        with self._lock:
            self._items[key] = (self._clock() + ttl, value)
            self._items.move_to_end(key)
            if len(self._items) > self._size:
                self._items.popitem(last=False)


@dataclass(frozen=True, slots=True)
class _User:
    name: str
    uid: str
    groups: tuple[str, ...]
    extra: str
    """``user.extra`` as canonical JSON (hashable)."""

    @classmethod
    def of(cls, status: Mapping[str, Any]) -> _User:
        user = status.get("user") or {}
        return cls(
            name=str(user.get("username", "")),
            uid=str(user.get("uid", "")),
            groups=tuple(user.get("groups") or ()),
            extra=json.dumps(user.get("extra") or {}, sort_keys=True),
        )


def _text(status: int, message: str) -> Response:
    return status, "text/plain; charset=utf-8", f"{message}\n".encode()


class _AuthFilter:
    def __init__(self, reviewer: Reviewer, options: AuthFilterOptions) -> None:
        self._reviewer = reviewer
        self._options = options
        self._tokens: _TTLCache[str, tuple[_User | None]] = _TTLCache(
            options.cache_size, options.clock
        )
        self._decisions: _TTLCache[tuple[_User, str, str], bool] = _TTLCache(
            options.cache_size, options.clock
        )

    def __call__(self, method: str, path: str, headers: Mapping[str, str]) -> Response | None:
        authorization = next(
            (value for name, value in headers.items() if name.lower() == "authorization"), ""
        )
        scheme, _, token = authorization.partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            return _text(401, "Unauthorized")
        try:
            user = self._authenticate(token.strip())
            if user is None:
                return _text(401, "Unauthorized")
            if not self._authorize(user, method.lower(), path):
                return _text(403, f"Authorization denied for user {user.name}")
        except ApiError as error:
            log.error(
                "metrics authentication or authorization failed",
                extra={"error": error.message, "path": path},
            )
            return _text(500, "Authentication or authorization failed")
        return None

    def _authenticate(self, token: str) -> _User | None:
        digest = hashlib.sha256(token.encode()).hexdigest()
        cached = self._tokens.get(digest)
        if cached is not None:
            return cached[0]
        review = self._reviewer.request(
            "POST",
            TOKEN_REVIEWS,
            body={
                "apiVersion": "authentication.k8s.io/v1",
                "kind": "TokenReview",
                "spec": {"token": token},
            },
        )
        status = (review or {}).get("status") or {}
        user = _User.of(status) if status.get("authenticated") else None
        self._tokens.put(digest, (user,), self._options.authentication_ttl)
        return user

    def _authorize(self, user: _User, verb: str, path: str) -> bool:
        key = (user, verb, path)
        cached = self._decisions.get(key)
        if cached is not None:
            return cached
        spec: dict[str, Any] = {
            "user": user.name,
            "groups": list(user.groups),
            "nonResourceAttributes": {"path": path, "verb": verb},
        }
        if user.uid:
            spec["uid"] = user.uid
        extra = json.loads(user.extra)
        if extra:
            spec["extra"] = extra
        review = self._reviewer.request(
            "POST",
            SUBJECT_ACCESS_REVIEWS,
            body={
                "apiVersion": "authorization.k8s.io/v1",
                "kind": "SubjectAccessReview",
                "spec": spec,
            },
        )
        allowed = bool(((review or {}).get("status") or {}).get("allowed"))
        options = self._options
        self._decisions.put(key, allowed, options.allow_ttl if allowed else options.deny_ttl)
        return allowed


def with_authentication_and_authorization(
    reviewer: Reviewer, options: AuthFilterOptions | None = None
) -> Filter:
    """The filter: TokenReview, then SubjectAccessReview, both through ``reviewer`` (the
    manager passes its API ``Transport``; anything with ``request`` returning the body, or
    an object with ``.body``, works)."""
    return _AuthFilter(_BodyReviewer(reviewer), options or AuthFilterOptions())


class _BodyReviewer:
    """Accepts a Transport (whose ``request`` returns a Response) or a plain reviewer."""

    def __init__(self, inner: Reviewer) -> None:
        self._inner = inner

    def request(self, method: str, path: str, *, body: Any = None) -> Any:
        response = self._inner.request(method, path, body=body)
        return getattr(response, "body", response)
