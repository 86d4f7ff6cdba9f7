"""The HTTPS server admission and conversion webhooks are served by (controller-runtime's
``webhook.Server``).

It runs on every replica (no leader election: the API server may call any pod behind the
webhook Service) and binds its port in ``start``, never before. The serving certificate is
``cert_dir/tls.crt`` with ``tls.key``, loaded by a ``CertWatcher``: a rotated pair is taken
into the live TLS context, so new connections get the new certificate while open ones
finish on the old, and no request is dropped.

Connections are kept alive (the API server reuses them), each served by its own thread;
stopping the server closes every connection and joins every thread it started, including
the certificate watcher's. Each registered path is instrumented with the webhook metrics
(``metrics.py``), and ``started_checker`` is the readiness check: it fails until a TLS
handshake on the bound port succeeds.
"""

from __future__ import annotations

import contextlib
import logging
import socket
import socketserver
import ssl
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Literal, Protocol
from urllib.parse import urlparse

from prometheus_client import CollectorRegistry

from reconcile.gvk import GroupVersionKind
from reconcile.healthz import Checker
from reconcile.metrics.server import send
from reconcile.reload import CertWatcher
from reconcile.webhook.metrics import WebhookMetrics
from reconcile.webhook.options import WebhookServerOptions

__all__ = ["MAX_REQUEST_BYTES", "Endpoint", "HTTPHandler", "HTTPReply", "WebhookServer"]

log = logging.getLogger(__name__)

MAX_REQUEST_BYTES = 7 * 1024 * 1024
"""controller-runtime's limit: 2 x 3 MiB objects (object and oldObject) plus the envelope."""
_JOIN_TIMEOUT = 5.0


@dataclass(frozen=True, slots=True)
class HTTPReply:
    """What a handler answers: status, JSON body, and whether it recovered from a panic."""

    status: int
    body: bytes
    panicked: bool = False


@dataclass(frozen=True, slots=True)
class Endpoint:
    """What a registered path serves, for whoever writes the webhook configurations."""

    path: str
    purpose: Literal["validating", "mutating", "conversion", ""] = ""
    kind: GroupVersionKind | None = None
    """The kind a validating or mutating webhook admits."""


class HTTPHandler(Protocol):
    """A webhook endpoint: the request body in, the reply out (admission, conversion)."""

    def serve_http(self, body: bytes, content_type: str) -> HTTPReply: ...


class _Server(ThreadingHTTPServer):
    """A threaded HTTP server that can close its kept-alive connections on stop."""

    daemon_threads = True
    block_on_close = False

    def __init__(
        self, address: tuple[str, int], handler: type[BaseHTTPRequestHandler], family: int
    ) -> None:
        self.address_family = family
        self._lock = threading.Lock()
        self._open: dict[socket.socket, threading.Thread] = {}
        super().__init__(address, handler)

    def server_bind(self) -> None:
        """Bind without HTTPServer's reverse DNS lookup of the host (slow, and unused)."""
        socketserver.TCPServer.server_bind(self)
        host, port = self.server_address[:2]
        self.server_name, self.server_port = str(host), int(port)

    def process_request(self, request: Any, client_address: Any) -> None:
        thread = threading.Thread(
            target=self._serve, args=(request, client_address), name="webhook-conn", daemon=True
        )
        with self._lock:
            self._open[request] = thread
        thread.start()

    def _serve(self, request: Any, client_address: Any) -> None:
        try:
            self.finish_request(request, client_address)
        except Exception as error:
            log.debug("webhook connection ended", extra={"peer": client_address, "error": error})
        finally:
            self.shutdown_request(request)
            with self._lock:
                self._open.pop(request, None)

    def handle_error(self, request: Any, client_address: Any) -> None:
        """TLS handshakes refused by the peer land here; they are the peer's business."""
        log.debug("webhook connection failed", extra={"peer": client_address})

    def close_connections(self) -> list[str]:
        """Close every open connection and join its thread; names of threads still alive."""
        with self._lock:
            open_now = list(self._open.items())
        for sock, _ in open_now:
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)
        deadline = time.monotonic() + _JOIN_TIMEOUT
        for _, thread in open_now:
            thread.join(max(0.0, deadline - time.monotonic()))
        return [thread.name for _, thread in open_now if thread.is_alive()]


class WebhookServer:
    """Serves registered webhook handlers over HTTPS until stopped; a manager Runnable.

    Usage::

        server = WebhookServer(WebhookServerOptions(port=0, cert_dir=certs), registry=registry)
        server.register("/validate-example-com-v1-widget", Webhook(handler))
        manager.add(server)      # or mgr.webhook_server, which the manager runs itself
    """

    def __init__(
        self,
        options: WebhookServerOptions | None = None,
        *,
        registry: CollectorRegistry | None = None,
    ) -> None:
        self.options = options or WebhookServerOptions()
        self._handlers: dict[str, HTTPHandler] = {}
        self._endpoints: dict[str, Endpoint] = {}
        self._metrics = WebhookMetrics.for_registry(registry or CollectorRegistry())
        self._server: _Server | None = None
        self._bound = threading.Event()
        self._started = False
        self.cert_watcher: CertWatcher | None = None
        """The live certificate once started (tests read ``reloads`` from it)."""

    # wiring

    def register(
        self, path: str, handler: HTTPHandler, *, endpoint: Endpoint | None = None
    ) -> None:
        """Serve ``handler`` at ``path``; before ``start`` only. ``endpoint`` says what it
        admits (``WebhookBuilder`` fills it in)."""
        if not path.startswith("/"):
            raise ValueError(f"webhook paths start with '/', got {path!r}")
        if self._bound.is_set():
            raise RuntimeError(f"the webhook server is already serving: register {path!r} first")
        if path in self._handlers:
            raise ValueError(f"{path!r} is already registered on the webhook server")
        self._handlers[path] = handler
        self._endpoints[path] = endpoint or Endpoint(path)

    @property
    def paths(self) -> tuple[str, ...]:
        """The registered paths, sorted."""
        return tuple(sorted(self._handlers))

    @property
    def endpoints(self) -> tuple[Endpoint, ...]:
        """What each registered path serves, sorted by path."""
        return tuple(self._endpoints[p] for p in self.paths)

    def handler(self, path: str) -> HTTPHandler | None:
        return self._handlers.get(path)

    # running

    @property
    def address(self) -> str | None:
        """``host:port`` actually bound, or None before ``start`` has bound it."""
        server = self._server
        if server is None:
            return None
        host, port = server.server_address[:2]
        return f"{host!s}:{port}"

    @property
    def port(self) -> int | None:
        server = self._server
        return None if server is None else int(server.server_address[1])

    def wait_bound(self, timeout: float | None = None) -> bool:
        """Block until ``start`` has bound the port."""
        return self._bound.wait(timeout)

    def need_leader_election(self) -> bool:
        """Every replica answers the API server: it may call any pod behind the Service."""
        return False

    def start(self, stop: threading.Event) -> None:
        """Load the certificate, bind, serve until ``stop``; then close and join everything.

        Raises ConfigError when the certificate pair cannot be loaded (nothing to serve).
        """
        options = self.options
        certs = CertWatcher(options.cert_file, options.key_file)
        self.cert_watcher = certs
        cert_stop = threading.Event()
        cert_thread = threading.Thread(
            target=certs.start, args=(cert_stop,), name="webhook-certs", daemon=True
        )
        cert_thread.start()
        family = socket.AF_INET6 if ":" in options.host else socket.AF_INET
        try:
            server = _Server((options.host, options.port), self._handler_class(), family)
        except BaseException:
            cert_stop.set()
            cert_thread.join(_JOIN_TIMEOUT)
            raise
        # Handshakes happen in each connection's thread, never in the accept loop.
        server.socket = certs.context.wrap_socket(
            server.socket, server_side=True, do_handshake_on_connect=False
        )
        self._server = server
        self._started = True
        self._bound.set()
        log.info("webhook server serving", extra={"address": self.address, "paths": self.paths})
        thread = threading.Thread(target=server.serve_forever, name="webhook-server", daemon=True)
        thread.start()
        try:
            stop.wait()
        finally:
            self._started = False
            server.shutdown()
            stuck = server.close_connections()
            server.server_close()
            thread.join(_JOIN_TIMEOUT)
            cert_stop.set()
            cert_thread.join(_JOIN_TIMEOUT)
            if stuck:
                log.error("webhook connections did not close", extra={"threads": stuck})

    def started_checker(self) -> Checker:
        """A readiness check: fails until a TLS handshake on the bound port succeeds."""

        def check() -> str | None:
            server = self._server
            if not self._started or server is None:
                return "webhook server has not been started yet"
            host, port = str(server.server_address[0]), int(server.server_address[1])
            target = "127.0.0.1" if host in ("", "0.0.0.0") else ("::1" if host == "::" else host)
            context = ssl.create_default_context()
            context.check_hostname = False
            context.verify_mode = ssl.CERT_NONE
            try:
                with (
                    socket.create_connection((target, port), timeout=2.0) as raw,
                    context.wrap_socket(raw),
                ):
                    return None
            except OSError as error:
                return f"webhook server is not reachable: {error}"

        return check

    # HTTP

    def _handler_class(self) -> type[BaseHTTPRequestHandler]:
        handlers = self._handlers
        metrics = self._metrics
        idle_timeout = self.options.idle_timeout

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            timeout = idle_timeout
            # One segment per answer: headers and body written separately would meet the
            # peer's delayed ACK (Nagle), 40 ms per request on a kept-alive connection.
            disable_nagle_algorithm = True
            wbufsize = -1

            def do_POST(self) -> None:
                path = urlparse(self.path).path
                handler = handlers.get(path)
                if handler is None:
                    self._drain()
                    self._send(404, "text/plain", b"404 page not found\n")
                    return
                _instrumented(path, handler, metrics, self._read_body, self._reply)

            def do_GET(self) -> None:
                self._send(405, "text/plain", b"method not allowed: webhooks take POST\n")

            def _drain(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                if 0 < length <= MAX_REQUEST_BYTES:
                    self.rfile.read(length)
                elif length:
                    self.close_connection = True

            def _read_body(self) -> tuple[bytes, str] | HTTPReply:
                raw_length = self.headers.get("Content-Length")
                if raw_length is None:
                    self.close_connection = True
                    return HTTPReply(411, b"Content-Length required\n")
                length = int(raw_length)
                if length > MAX_REQUEST_BYTES:
                    self.close_connection = True
                    return HTTPReply(413, b"request body too large\n")
                body = self.rfile.read(length)
                return body, self.headers.get("Content-Type", "")

            def _reply(self, reply: HTTPReply) -> None:
                kind = "application/json" if reply.status == 200 else "text/plain"
                self._send(reply.status, kind, reply.body)

            def _send(self, status: int, content_type: str, body: bytes) -> None:
                send(self, status, content_type, body)

            def log_message(self, format: str, *args: object) -> None:
                """Every admission request would be a line; the metrics count them instead."""

        return Handler


def _instrumented(
    path: str,
    handler: HTTPHandler,
    metrics: WebhookMetrics,
    read: Callable[[], tuple[bytes, str] | HTTPReply],
    reply: Callable[[HTTPReply], None],
) -> None:
    """Serve one request with the in-flight gauge, latency histogram and request counter."""
    in_flight = metrics.in_flight.labels(webhook=path)
    in_flight.inc()
    started = time.monotonic()
    try:
        request = read()
        if isinstance(request, HTTPReply):
            answer = request
        else:
            answer = handler.serve_http(*request)
            if answer.panicked:
                metrics.panics.inc()
        metrics.latency.labels(webhook=path).observe(time.monotonic() - started)
        metrics.requests.labels(webhook=path, code=str(answer.status)).inc()
        reply(answer)
    finally:
        in_flight.dec()
