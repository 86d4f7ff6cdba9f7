"""HTTP to the API server: the ``kubernetes`` package's urllib3 pool, raw bytes in and out.

The ``kubernetes`` package's generated API classes deserialize every response into model
objects, about 15x slower than ``json.loads``. This transport keeps only its pool (TLS and
proxies already configured) and its auth headers, sends JSON bytes, and returns parsed
dicts. It also owns client-side throttling (a token bucket: ``qps``/``burst``) and the
``rest_client_*`` metrics client-go exposes.
"""

from __future__ import annotations

import contextlib
import json
import threading
import time
from collections.abc import Iterator, Mapping
from typing import Any
from urllib.parse import urlencode, urlparse

import urllib3
from kubernetes.client import rest as k8s_rest
from prometheus_client import CollectorRegistry, Counter, Histogram

from reconcile.client.config import RestConfig
from reconcile.errors import ApiError, ServiceUnavailable

__all__ = ["ClientMetrics", "Response", "StreamStalled", "Transport", "WatchStream"]


class StreamStalled(Exception):
    """A watch sent nothing for longer than its read timeout: restart it."""


class WatchStream:
    """An open watch response: iterate for events; ``close()`` unblocks a pending read."""

    def __init__(self, raw: urllib3.BaseHTTPResponse, read_timeout: float) -> None:
        self._raw = raw
        self._read_timeout = read_timeout
        self._closed = False

    def __iter__(self) -> Iterator[dict[str, Any]]:
        buffer = b""
        try:
            for chunk in self._raw.stream(65536, decode_content=True):
                buffer += chunk
                while b"\n" in buffer:
                    line, buffer = buffer.split(b"\n", 1)
                    if line.strip():
                        yield json.loads(line)
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


class ClientMetrics:
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


class _TokenBucket:
    """Blocking token bucket: ``take()`` waits until a request may be sent."""

    def __init__(self, qps: float, burst: int) -> None:
        self._qps = qps
        self._burst = float(max(1, burst))
        self._tokens = self._burst
        self._last = time.monotonic()
        self._lock = threading.Lock()

    def take(self) -> None:
        if self._qps <= 0:
            return
        with self._lock:
            now = time.monotonic()
            self._tokens = min(self._burst, self._tokens + (now - self._last) * self._qps)
            self._last = now
            self._tokens -= 1.0
            wait = -self._tokens / self._qps if self._tokens < 0 else 0.0
        if wait > 0:
            time.sleep(wait)


class Response:
    """Status, headers and the parsed JSON body of one response."""

    def __init__(self, status: int, headers: Mapping[str, str], body: Any) -> None:
        self.status = status
        self.headers = headers
        self.body = body

    @property
    def warnings(self) -> list[str]:
        value = self.headers.get("Warning")
        return [value] if value else []


class Transport:
    """Sends requests for one RestConfig; thread-safe (urllib3 pools are)."""

    def __init__(self, config: RestConfig, *, registry: CollectorRegistry | None = None) -> None:
        self.config = config
        self._pool: urllib3.PoolManager = k8s_rest.RESTClientObject(
            config.configuration
        ).pool_manager
        self._bucket = _TokenBucket(config.qps, config.burst)
        self._host = urlparse(config.host).netloc
        self.metrics = ClientMetrics(registry) if registry is not None else None

    def _headers(self, content_type: str | None) -> dict[str, str]:
        headers = {"Accept": "application/json", "User-Agent": self.config.user_agent}
        authorization = self.config.authorization()
        if authorization:
            headers["Authorization"] = authorization
        if content_type:
            headers["Content-Type"] = content_type
        return headers

    def url(self, path: str, query: Mapping[str, Any] | None = None) -> str:
        params = {k: v for k, v in (query or {}).items() if v is not None and v != ""}
        return f"{self.config.host}{path}" + (f"?{urlencode(params)}" if params else "")

    def request(
        self,
        method: str,
        path: str,
        *,
        query: Mapping[str, Any] | None = None,
        body: Any = None,
        content_type: str = "application/json",
        timeout: float | None = None,
    ) -> Response:
        """Send one request; raise the typed ApiError for any failure Status."""
        payload: bytes | None
        if body is None:
            payload = None
        elif isinstance(body, bytes):
            payload = body
        else:
            payload = json.dumps(body, separators=(",", ":")).encode()
        self._bucket.take()
        started = time.monotonic()
        try:
            raw = self._pool.request(
                method,
                self.url(path, query),
                body=payload,
                headers=self._headers(content_type if payload is not None else None),
                timeout=urllib3.Timeout(total=timeout or self.config.timeout),
                retries=False,
                preload_content=True,
            )
        except urllib3.exceptions.HTTPError as exc:
            self._observe(method, "<error>", started)
            raise ServiceUnavailable(
                f"cannot reach the API server at {self.config.host}: {exc}; it may be down or "
                "restarting (requests are retried with backoff)",
                code=503,
            ) from exc
        self._observe(method, str(raw.status), started)
        data = raw.data
        parsed = json.loads(data) if data else None
        if raw.status >= 400:
            raise _error(raw.status, parsed, data, raw.headers)
        return Response(raw.status, raw.headers, parsed)

    def stream(self, path: str, *, query: Mapping[str, Any], read_timeout: float) -> WatchStream:
        """Open a watch; iterate the result for parsed events, ``close()`` it from any thread."""
        self._bucket.take()
        started = time.monotonic()
        try:
            raw = self._pool.request(
                "GET",
                self.url(path, query),
                headers=self._headers(None),
                timeout=urllib3.Timeout(connect=self.config.timeout, read=read_timeout),
                retries=False,
                preload_content=False,
            )
        except urllib3.exceptions.HTTPError as exc:
            self._observe("WATCH", "<error>", started)
            raise ServiceUnavailable(
                f"cannot reach the API server at {self.config.host}: {exc}", code=503
            ) from exc
        self._observe("WATCH", str(raw.status), started)
        if raw.status >= 400:
            data = raw.read()
            raw.release_conn()
            raise _error(raw.status, json.loads(data) if data else None, data, raw.headers)
        return WatchStream(raw, read_timeout)

    def _observe(self, method: str, code: str, started: float) -> None:
        if self.metrics is not None:
            self.metrics.requests.labels(code, method, self._host).inc()
            self.metrics.latency.labels(method, self._host).observe(time.monotonic() - started)


def _error(status: int, parsed: Any, data: bytes, headers: Mapping[str, str]) -> ApiError:
    if isinstance(parsed, dict) and parsed.get("kind") == "Status":
        body = dict(parsed)
    else:
        body = {"code": status, "message": data[:500].decode(errors="replace") or f"HTTP {status}"}
    retry_after = headers.get("Retry-After")
    if retry_after and retry_after.isdigit():
        details = dict(body.get("details") or {})
        details.setdefault("retryAfterSeconds", int(retry_after))
        body["details"] = details
    return ApiError.from_status(body, code=status)
