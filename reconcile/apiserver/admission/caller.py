"""Calling webhooks over HTTPS, as kube-apiserver's webhook client does.

A ``clientConfig`` names the endpoint: ``url`` as given, or ``service``
(``https://<name>.<namespace>.svc:<port><path>``). kube-apiserver reaches a Service
through its endpoints; the embedded server has no cluster network, so a Service port is
reached where ``ServiceRoutes`` says (``kreconcile dev`` routes the operators' webhook
Service to its in-process webhook server), and any other host name is resolved as usual.
The server's certificate is verified against ``caBundle`` (the system roots when empty),
host name included: for a Service, ``<name>.<namespace>.svc``, as kube-apiserver does.
Each call carries kube's ``?timeout=<n>s`` and is cut at that many
seconds. Connections are pooled and kept alive per endpoint on the server's event loop.

Every failure to get an answer (refused, TLS, timeout, an HTTP error, a body that is not
JSON) is a ``CallError`` whose message is the one kube-apiserver logs and returns, e.g.
``failed to call webhook: Post "https://127.0.0.1:9443/validate?timeout=10s": dial tcp
127.0.0.1:9443: connect: connection refused``; the webhook's failure policy decides what
the client sees.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import json
import socket
import ssl
import threading
from typing import Any
from urllib.parse import urlencode, urlparse, urlunparse

import aiohttp
from aiohttp.abc import AbstractResolver, ResolveResult

__all__ = ["CallError", "ServiceRoutes", "WebhookCaller", "endpoint_url"]

_MAX_RESPONSE = 7 * 1024 * 1024


class CallError(Exception):
    """No usable answer from a webhook; the message says why, kube-apiserver's way."""


def endpoint_url(client_config: dict[str, Any]) -> str:
    """The URL a ``clientConfig`` names."""
    url = client_config.get("url")
    if url:
        return str(url)
    service = client_config.get("service") or {}
    host = f"{service.get('name')}.{service.get('namespace')}.svc"
    return f"https://{host}:{service.get('port', 443)}{service.get('path') or ''}"


def _with_timeout(url: str, timeout: float) -> str:
    parsed = urlparse(url)
    query = urlencode({"timeout": f"{int(timeout)}s"})
    return urlunparse(parsed._replace(query=query))


def _dial_error(url: str, error: BaseException) -> str:
    parsed = urlparse(url)
    port = parsed.port or 443
    if isinstance(error, aiohttp.ClientConnectorCertificateError | ssl.SSLCertVerificationError):
        detail = getattr(error, "certificate_error", error)
        reason = getattr(detail, "verify_message", None) or str(detail)
        return f"tls: failed to verify certificate: x509: {reason}"
    if isinstance(error, aiohttp.ClientSSLError | ssl.SSLError):
        return f"remote error: tls: {error}"
    os_error = getattr(error, "os_error", None)
    if isinstance(os_error, ConnectionRefusedError):
        return f"dial tcp {parsed.hostname}:{port}: connect: connection refused"
    if isinstance(os_error, OSError) and os_error.strerror:
        return f"dial tcp {parsed.hostname}:{port}: {os_error.strerror.lower()}"
    return str(error) or type(error).__name__


class ServiceRoutes:
    """Where the server reaches a Service's port: the endpoint kube-proxy would pick.

    Thread-safe: routes are set from any thread (``kreconcile dev`` sets one once its
    webhook server has bound) and read on the server's event loop.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._routes: dict[tuple[str, str, int], tuple[str, int]] = {}

    def route(self, namespace: str, name: str, port: int, host: str, target_port: int) -> None:
        """Send connections to Service ``namespace/name`` port ``port`` to ``host:target_port``."""
        with self._lock:
            self._routes[(namespace, name, port)] = (host, target_port)

    def remove(self, namespace: str, name: str, port: int) -> None:
        with self._lock:
            self._routes.pop((namespace, name, port), None)

    def lookup(self, host: str, port: int) -> tuple[str, int] | None:
        """The address for ``<name>.<namespace>.svc`` (or ``.svc.cluster.local``) ``port``."""
        labels = host.rstrip(".").split(".")
        if (
            len(labels) not in (3, 5)
            or labels[2] != "svc"
            or labels[3:] not in ([], ["cluster", "local"])
        ):
            return None
        with self._lock:
            return self._routes.get((labels[1], labels[0], port))


class _RoutingResolver(AbstractResolver):
    """Service host names from ``ServiceRoutes``, everything else from aiohttp's resolver."""

    def __init__(self, routes: ServiceRoutes) -> None:
        self._routes = routes
        self._default = aiohttp.DefaultResolver()

    async def resolve(
        self, host: str, port: int = 0, family: socket.AddressFamily = socket.AF_INET
    ) -> list[ResolveResult]:
        target = self._routes.lookup(host, port)
        if target is None:
            return await self._default.resolve(host, port, family)
        address, target_port = target
        return [
            {
                "hostname": host,
                "host": address,
                "port": target_port,
                "family": socket.AF_INET6 if ":" in address else socket.AF_INET,
                "proto": 0,
                "flags": socket.AI_NUMERICHOST,
            }
        ]

    async def close(self) -> None:
        await self._default.close()


class WebhookCaller:
    """POSTs review bodies to webhooks; one per API server, used on its event loop."""

    def __init__(self, routes: ServiceRoutes | None = None) -> None:
        self.routes = routes if routes is not None else ServiceRoutes()
        self._session: aiohttp.ClientSession | None = None
        self._contexts: dict[str, ssl.SSLContext] = {}

    def _context(self, ca_bundle: str) -> ssl.SSLContext:
        context = self._contexts.get(ca_bundle)
        if context is None:
            if ca_bundle:
                try:
                    pem = base64.b64decode(ca_bundle, validate=True).decode()
                    context = ssl.create_default_context(cadata=pem)
                except (binascii.Error, ValueError, ssl.SSLError) as error:
                    raise CallError(
                        f"could not get REST client: invalid caBundle: {error}"
                    ) from error
            else:
                context = ssl.create_default_context()
            self._contexts[ca_bundle] = context
        return context

    async def post(
        self, client_config: dict[str, Any], payload: dict[str, Any], timeout: float
    ) -> dict[str, Any]:
        """The JSON answer of the webhook to ``payload``; CallError when there is none."""
        url = _with_timeout(endpoint_url(client_config), timeout)
        context = self._context(str(client_config.get("caBundle") or ""))
        if self._session is None:
            self._session = aiohttp.ClientSession(
                # No DNS cache: a route set later must apply to the next new connection.
                connector=aiohttp.TCPConnector(
                    limit=0,
                    keepalive_timeout=60.0,
                    resolver=_RoutingResolver(self.routes),
                    use_dns_cache=False,
                ),
                json_serialize=lambda v: json.dumps(v, separators=(",", ":")),
            )
        body = json.dumps(payload, separators=(",", ":")).encode()
        try:
            async with asyncio.timeout(timeout):
                async with self._session.post(
                    url,
                    data=body,
                    headers={"Content-Type": "application/json", "Accept": "application/json"},
                    ssl=context,
                ) as response:
                    raw = await response.content.read(_MAX_RESPONSE + 1)
                    status = response.status
        except TimeoutError:
            raise CallError(
                f'failed to call webhook: Post "{url}": context deadline exceeded'
            ) from None
        except (aiohttp.ClientError, OSError) as error:
            raise CallError(
                f'failed to call webhook: Post "{url}": {_dial_error(url, error)}'
            ) from error
        if status != 200:
            raise CallError(f"failed to call webhook: {_http_error(status, raw)}")
        try:
            answer = json.loads(raw)
        except ValueError as error:
            raise CallError(
                f"failed to call webhook: invalid JSON in the answer: {error}"
            ) from error
        if not isinstance(answer, dict):
            raise CallError("failed to call webhook: the answer is not a JSON object")
        return answer

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None


def _http_error(status: int, raw: bytes) -> str:
    if status == 404:
        return "the server could not find the requested resource"
    text = raw[:512].decode(errors="replace").strip()
    if status >= 500:
        return f'an error on the server ("{text}") has prevented the request from succeeding'
    return f"the server responded with the status code {status}: {text}"
