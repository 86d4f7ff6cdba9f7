"""HTTP to the API server: the ``kubernetes`` package's urllib3 pool, raw bytes in and out.

The ``kubernetes`` package's generated API classes deserialize every response into model
objects, about 15x slower than ``json.loads``. This transport keeps only its pool (TLS and
proxies already configured) and its auth headers, sends JSON bytes, and returns parsed
dicts. It also owns the optional client-side limiter (a token bucket: ``qps``/``burst``,
off by default), the throttling log and the ``rest_client_*`` metrics client-go exposes.

Every failure leaves as a typed ``ApiError``: a Status body gives the most specific class,
and a body that is not JSON (a proxy's HTML page, a plain-text 502) still maps to the class
of its HTTP status, with the start of the body in the message. A connection that could not
be opened raises ``ServerUnreachable`` (nothing was sent); any other transport failure
raises ``ServiceUnavailable`` (the request may or may not have reached the server).
"""

from __future__ import annotations

import contextlib
import json
import logging
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Mapping
from typing import Any
from urllib.parse import urlencode, urlparse

import urllib3
from kubernetes.client import rest as k8s_rest
from prometheus_client import CollectorRegistry, Counter, Histogram

from reconcile.client.config import RestConfig
from reconcile.client.warnings import WarningHandler, WarningLogger, parse_warnings
from reconcile.errors import ApiError, ServerUnreachable, ServiceUnavailable, TooManyRequests
from reconcile.metrics.per_registry import PerRegistryMetrics

__all__ = [
    "LONG_THROTTLE_WAIT",
    "THROTTLE_LOG_INTERVAL",
    "ClientMetrics",
    "Response",
    "StreamStalled",
    "ThrottleLog",
    "Transport",
    "WatchStream",
    "split_lines",
]

log = logging.getLogger(__name__)

THROTTLE_LOG_INTERVAL = 10.0
"""Seconds between two throttling messages of one client (client-go's default verbosity)."""
LONG_THROTTLE_WAIT = 0.05
"""A client-side wait at least this long (seconds) is worth logging, as in client-go."""


class StreamStalled(Exception):
    """A watch sent nothing for longer than its read timeout: restart it."""


class WatchStream:
    """An open watch response: iterate for events; ``close()`` unblocks a pending read."""

    def __init__(
        self,
        raw: urllib3.BaseHTTPResponse,
        read_timeout: float,
        convert: Callable[[dict[str, Any]], dict[str, Any]] | None = None,
    ) -> None:
        """``convert`` rewrites each event's object (not those of ERROR events)."""
        self._raw = raw
        self._read_timeout = read_timeout
        self._convert = convert
        self._closed = False

    def __iter__(self) -> Iterator[dict[str, Any]]:
        try:
            for line in split_lines(self._raw.stream(65536, decode_content=True)):
                try:
                    event: dict[str, Any] = json.loads(line)
                except ValueError as exc:
                    raise StreamStalled(
                        f"watch sent a line that is not JSON: {line[:200]!r}"
                    ) from exc
                if self._convert is not None and event.get("type") != "ERROR":
                    event["object"] = self._convert(event.get("object") or {})
                yield event
        except urllib3.exceptions.ReadTimeoutError as exc:
            raise StreamStalled(f"watch silent for {self._read_timeout:g}s") from exc
        except (urllib3.exceptions.HTTPError, OSError) as exc:
            if not self._closed:
                raise StreamStalled(f"watch stream broke: {exc}") from exc
        finally:
            self.close()

    def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        shutdown = getattr(self._raw, "shutdown", None)
        if shutdown is not None:
            # RuntimeError: the stream already ended and its connection went back to the pool.
            with contextlib.suppress(RuntimeError):
                shutdown()
        self._raw.release_conn()


def split_lines(chunks: Iterable[bytes]) -> Iterator[bytes]:
    """Newline-delimited records from chunks cut anywhere; blank lines are skipped.

    A record may span chunks, and a chunk may hold many records; a last record without its
    newline is still delivered when the stream ends. Each chunk is split once (no quadratic
    re-scanning of a large buffer).
    """
    pending = b""
    for chunk in chunks:
        if b"\n" not in chunk:
            pending += chunk
            continue
        lines = (pending + chunk).split(b"\n")
        pending = lines.pop()
        for line in lines:
            if line.strip():
                yield line
    if pending.strip():
        yield pending


class ClientMetrics(PerRegistryMetrics):
    """client-go's request metrics: ``rest_client_requests_total{code,method,host}`` and latency."""

    def __init__(self, registry: CollectorRegistry) -> None:
        self.requests = Counter(
            "rest_client_requests",
            "Number of HTTP requests, partitioned by status code, method, and host.",
            ["code", "method", "host"],
            registry=registry,
        )
        self.latency = Histogram(
            "rest_client_request_duration_seconds",
            "Request latency in seconds. Broken down by verb, and host.",
            ["verb", "host"],
            buckets=(0.005, 0.025, 0.1, 0.25, 0.5, 1.0, 2.0, 4.0, 8.0, 15.0, 30.0, 60.0),
            registry=registry,
        )


class ThrottleLog:
    """Says that requests are being throttled, at most once per ``interval`` seconds.

    Throttling comes in storms (every worker waits at once), so one line per interval tells
    the operator without drowning the log, as client-go's throttled logger does.
    """

    def __init__(
        self,
        *,
        interval: float = THROTTLE_LOG_INTERVAL,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._interval = interval
        self._clock = clock
        self._last: dict[str, float] = {}
        self._lock = threading.Lock()
        self.logged = 0
        """Messages written so far (tests read it)."""

    def _due(self, kind: str) -> bool:
        now = self._clock()
        with self._lock:
            last = self._last.get(kind)
            if last is not None and now - last < self._interval:
                return False
            self._last[kind] = now
            self.logged += 1
            return True

    def client_side(self, waited: float, method: str, path: str) -> None:
        """The client's own limiter (a positive ``qps``) held a request for ``waited`` s."""
        if waited >= LONG_THROTTLE_WAIT and self._due("client"):
            log.info(
                "waited due to client-side throttling, not priority and fairness",
                extra={"waited": round(waited, 3), "method": method, "path": path},
            )

    def server_side(self, error: TooManyRequests, delay: float) -> None:
        """The server answered 429; the request is retried after ``delay`` seconds."""
        if self._due("server"):
            log.warning(
                "server is throttling, retrying after Retry-After",
                extra={"retry_after": delay, "reason": error.message},
            )


class _TokenBucket:
    """Blocking token bucket: ``take()`` waits until a request may be sent; returns the wait."""

    def __init__(self, qps: float, burst: int) -> None:
        self._qps = qps
        self._burst = float(max(1, burst))
        self._tokens = self._burst
        self._last = time.monotonic()
        self._lock = threading.Lock()

    def take(self) -> float:
        with self._lock:
            now = time.monotonic()
            self._tokens = min(self._burst, self._tokens + (now - self._last) * self._qps)
            self._last = now
            self._tokens -= 1.0
            wait = -self._tokens / self._qps if self._tokens < 0 else 0.0
        if wait > 0:
            time.sleep(wait)
        return wait


class Response:
    """Status, headers and the parsed JSON body of one response."""

    def __init__(self, status: int, headers: Mapping[str, str], body: Any) -> None:
        self.status = status
        self.headers = headers
        self.body = body

    @property
    def warnings(self) -> list[str]:
        """The texts of the response's ``Warning`` headers."""
        return parse_warnings(_header_values(self.headers, "Warning"))


class Transport:
    """Sends requests for one RestConfig; thread-safe (urllib3 pools are)."""

    def __init__(
        self,
        config: RestConfig,
        *,
        registry: CollectorRegistry | None = None,
        warnings: WarningHandler | None = None,
    ) -> None:
        """``warnings`` receives the server's warning texts (default: each logged once)."""
        self.config = config
        self.warnings: WarningHandler = warnings if warnings is not None else WarningLogger()
        self._pool: urllib3.PoolManager = k8s_rest.RESTClientObject(
            config.configuration
        ).pool_manager
        self._direct = self._host_pool(config.host)
        qps = config.qps
        self._bucket = _TokenBucket(qps, config.burst) if qps is not None and qps > 0 else None
        self.throttle_log = ThrottleLog()
        self._host = urlparse(config.host).netloc
        self._prefix = urlparse(config.host).path.rstrip("/")
        self.metrics = ClientMetrics.for_registry(registry) if registry is not None else None

    def _host_pool(self, host: str) -> urllib3.HTTPConnectionPool | None:
        """The connection pool of the API server's host, sent requests directly (None behind
        a proxy, where the pool manager routes them): the manager would parse the URL and
        look the pool up again on every request, about a tenth of the client's time in it."""
        if isinstance(self._pool, urllib3.ProxyManager):
            return None
        return self._pool.connection_from_url(host)

    def _headers(self, content_type: str | None, accept: str | None = None) -> dict[str, str]:
        headers = {"Accept": accept or "application/json", "User-Agent": self.config.user_agent}
        authorization = self.config.authorization()
        if authorization:
            headers["Authorization"] = authorization
        if content_type:
            headers["Content-Type"] = content_type
        return headers

    def url(self, path: str, query: Mapping[str, Any] | None = None) -> str:
        return f"{self.config.host}{_query(path, query)}"

    def _target(self, path: str, query: Mapping[str, Any] | None) -> str:
        """The request target on the host's pool: the host URL's own path (a server behind
        a path prefix), then ``path`` and the query."""
        return f"{self._prefix}{_query(path, query)}"

    def request(
        self,
        method: str,
        path: str,
        *,
        query: Mapping[str, Any] | None = None,
        body: Any = None,
        content_type: str = "application/json",
        timeout: float | None = None,
        accept: str | None = None,
    ) -> Response:
        """Send one request; raise the typed ApiError for any failure Status.

        ``accept`` replaces ``application/json`` (e.g. to ask for PartialObjectMetadata)."""
        payload: bytes | None
        if body is None:
            payload = None
        elif isinstance(body, bytes):
            payload = body
        else:
            payload = json.dumps(body, separators=(",", ":")).encode()
        self._throttle(method, path)
        started = time.monotonic()
        options: dict[str, Any] = {
            "body": payload,
            "headers": self._headers(content_type if payload is not None else None, accept),
            "timeout": urllib3.Timeout(total=timeout or self.config.timeout),
            "retries": False,
            "preload_content": True,
        }
        try:
            if self._direct is not None:
                target = self._target(path, query)
                raw = self._direct.urlopen(method, target, redirect=False, **options)
            else:
                raw = self._pool.request(method, self.url(path, query), **options)
        except urllib3.exceptions.HTTPError as exc:
            self._observe(method, "<error>", started)
            raise self._unreachable(exc) from exc
        self._observe(method, str(raw.status), started)
        self._warn(raw.headers)
        data = raw.data
        if raw.status >= 400:
            raise _error(raw.status, data, raw.headers)
        return Response(raw.status, raw.headers, _decode(raw.status, data))

    def _throttle(self, method: str, path: str) -> None:
        if self._bucket is not None:
            self.throttle_log.client_side(self._bucket.take(), method, path)

    def _unreachable(self, exc: urllib3.exceptions.HTTPError) -> ServiceUnavailable:
        if isinstance(exc, urllib3.exceptions.ConnectTimeoutError):
            # NewConnectionError (refused, no route) is a ConnectTimeoutError too.
            return ServerUnreachable(
                f"cannot connect to the API server at {self.config.host}: {exc}; it may be "
                "down or restarting (nothing was sent; requests are retried with backoff)",
                code=503,
            )
        return ServiceUnavailable(
            f"lost the connection to the API server at {self.config.host}: {exc}; it may be "
            "down or restarting (reads are retried; a write may or may not have been applied)",
            code=503,
        )

    def _warn(self, headers: Mapping[str, str]) -> None:
        values = _header_values(headers, "Warning")
        if values:
            self.warnings.handle(parse_warnings(values))

    def stream(
        self,
        path: str,
        *,
        query: Mapping[str, Any],
        read_timeout: float,
        accept: str | None = None,
        convert: Callable[[dict[str, Any]], dict[str, Any]] | None = None,
    ) -> WatchStream:
        """Open a watch; iterate the result for parsed events, ``close()`` it from any thread."""
        self._throttle("WATCH", path)
        started = time.monotonic()
        try:
            raw = self._pool.request(
                "GET",
                self.url(path, query),
                headers=self._headers(None, accept),
                timeout=urllib3.Timeout(connect=self.config.timeout, read=read_timeout),
                retries=False,
                preload_content=False,
            )
        except urllib3.exceptions.HTTPError as exc:
            self._observe("WATCH", "<error>", started)
            raise self._unreachable(exc) from exc
        self._observe("WATCH", str(raw.status), started)
        if raw.status >= 400:
            data = raw.read()
            raw.release_conn()
            raise _error(raw.status, data, raw.headers)
        return WatchStream(raw, read_timeout, convert)

    def _observe(self, method: str, code: str, started: float) -> None:
        if self.metrics is not None:
            self.metrics.requests.labels(code, method, self._host).inc()
            self.metrics.latency.labels(method, self._host).observe(time.monotonic() - started)


def _query(path: str, query: Mapping[str, Any] | None) -> str:
    params = {k: v for k, v in (query or {}).items() if v is not None and v != ""}
    return path + (f"?{urlencode(params)}" if params else "")


def _header_values(headers: Mapping[str, str], name: str) -> list[str]:
    """Every value of a repeated header (urllib3 keeps them apart; a dict has one)."""
    getlist = getattr(headers, "getlist", None)
    if callable(getlist):
        return list(getlist(name))
    value = headers.get(name)
    return [value] if value else []


def _decode(status: int, data: bytes) -> Any:
    """The JSON body of a success; a body that is not JSON is the server's (or a proxy's) bug."""
    if not data:
        return None
    try:
        return json.loads(data)
    except ValueError:
        raise ApiError(
            f"the API server answered {status} with a body that is not JSON "
            f"({data[:200].decode(errors='replace')!r}); is a proxy in the way?",
            code=status,
        ) from None


def _error(status: int, data: bytes, headers: Mapping[str, str]) -> ApiError:
    """The typed error for a failure, whatever its body: Status JSON, HTML, text or nothing."""
    try:
        parsed = json.loads(data) if data else None
    except ValueError:
        parsed = None
    if isinstance(parsed, dict) and parsed.get("kind") == "Status":
        body = dict(parsed)
    else:
        text = data[:500].decode(errors="replace").strip()
        body = {"code": status, "message": text or f"HTTP {status}"}
    retry_after = headers.get("Retry-After")
    if retry_after and retry_after.isdigit():
        details = dict(body.get("details") or {})
        details.setdefault("retryAfterSeconds", int(retry_after))
        body["details"] = details
    return ApiError.from_status(body, code=status)
