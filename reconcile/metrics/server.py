"""A small threaded HTTP server for /metrics and the health probes.

Bind addresses follow controller-runtime: ``":8080"`` (all interfaces), ``"127.0.0.1:0"``
(loopback, any free port) or ``"0"`` (disabled). The port is bound in ``start``, never in
the constructor, so building a manager takes no port; ``address`` reports the real port
once bound (and None before), and ``start`` closes it when stopped.
"""

from __future__ import annotations

import ssl
import threading
from collections.abc import Callable, Mapping
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlparse

__all__ = ["HTTPEndpoint", "RequestFilter", "Route", "parse_bind_address", "send"]

Route = Callable[[str, dict[str, list[str]]], tuple[int, str, bytes]]
"""(path, query) -> (status, content type, body)."""
RequestFilter = Callable[[str, str, Mapping[str, str]], tuple[int, str, bytes] | None]
"""(method, path, headers) -> None to serve the request, or the response refusing it."""


def parse_bind_address(address: str) -> tuple[str, int] | None:
    """``":8080"`` -> ("0.0.0.0", 8080); ``"0"`` -> None (disabled)."""
    if address in ("", "0"):
        return None
    host, _, port = address.rpartition(":")
    if not port.isdigit():
        raise ValueError(f"bind address must look like ':8080' or '127.0.0.1:0', got {address!r}")
    return (host or "0.0.0.0", int(port))


def send(handler: BaseHTTPRequestHandler, status: int, content_type: str, body: bytes) -> None:
    """Answer the request ``handler`` serves with ``body`` (Content-Length set)."""
    handler.send_response(status)
    handler.send_header("Content-Type", content_type)
    handler.send_header("Content-Length", str(len(body)))
    handler.end_headers()
    handler.wfile.write(body)


class HTTPEndpoint:
    """Serves ``routes`` (path prefix -> handler) until ``stop``; a manager Runnable."""

    def __init__(
        self,
        name: str,
        bind_address: str,
        routes: dict[str, Route],
        *,
        ssl_context: ssl.SSLContext | None = None,
        request_filter: RequestFilter | None = None,
    ) -> None:
        """With ``ssl_context`` it serves HTTPS; the context may be reloaded in place
        (``reload.CertWatcher``) and new connections get the new certificate. Every
        request passes ``request_filter`` first (authentication, authorization)."""
        self.name = name
        self._routes = routes
        self._filter = request_filter
        self._bind = parse_bind_address(bind_address)
        self._ssl_context = ssl_context
        self._server: ThreadingHTTPServer | None = None
        self._bound = threading.Event()

    @property
    def address(self) -> str | None:
        """``host:port`` actually bound, or None when disabled or not started yet."""
        server = self._server
        if server is None:
            return None
        host, port = server.server_address[:2]
        return f"{host!s}:{port}"

    def wait_bound(self, timeout: float | None = None) -> bool:
        """Block until ``start`` has bound the port (or found the endpoint disabled)."""
        return self._bound.wait(timeout)

    def need_leader_election(self) -> bool:
        return False

    def start(self, stop: threading.Event) -> None:
        """Bind, serve until ``stop``, then close the port and the serving thread."""
        if self._bind is None:
            self._bound.set()
            stop.wait()
            return
        server = ThreadingHTTPServer(self._bind, self._handler_class())
        server.daemon_threads = True
        if self._ssl_context is not None:
            # Handshakes happen in each connection's thread, not in the accept loop.
            server.socket = self._ssl_context.wrap_socket(
                server.socket, server_side=True, do_handshake_on_connect=False
            )
        self._server = server
        self._bound.set()
        thread = threading.Thread(target=server.serve_forever, name=self.name, daemon=True)
        thread.start()
        try:
            stop.wait()
        finally:
            server.shutdown()
            server.server_close()
            thread.join()

    def add_route(self, path: str, route: Route) -> None:
        """Serve ``route`` at ``path`` too; only before ``start``."""
        if self._bound.is_set():
            raise RuntimeError(
                f"the {self.name} endpoint is already serving: add {path!r} before the "
                "manager starts"
            )
        if path in self._routes:
            raise ValueError(f"{path!r} is already served by the {self.name} endpoint")
        self._routes[path] = route

    def _handler_class(self) -> type[BaseHTTPRequestHandler]:
        routes = self._routes
        request_filter = self._filter

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                url = urlparse(self.path)
                refused = (
                    request_filter("GET", url.path, dict(self.headers.items()))
                    if request_filter is not None
                    else None
                )
                if refused is not None:
                    self._send(*refused)
                    return
                for prefix, route in sorted(routes.items(), key=lambda r: -len(r[0])):
                    if url.path == prefix or url.path.startswith(prefix.rstrip("/") + "/"):
                        status, content_type, body = route(
                            url.path, parse_qs(url.query, keep_blank_values=True)
                        )
                        break
                else:
                    status, content_type, body = 404, "text/plain", b"404 page not found\n"
                self._send(status, content_type, body)

            def _send(self, status: int, content_type: str, body: bytes) -> None:
                send(self, status, content_type, body)

            def log_message(self, format: str, *args: object) -> None:
                """Scrapes and probes are too frequent to log."""

        return Handler
