"""The embedded server's in-flight limits answer overload as kube-apiserver's flow control does."""

from __future__ import annotations

import contextlib
import http.client
import json
import threading
from urllib.parse import urlparse

import pytest

from reconcile.apiserver import APIServer, ServerOptions
from reconcile.apiserver.flowcontrol import FLOW_SCHEMA_UID, PRIORITY_LEVEL_UID
from tests.conftest import Kubectl
from tests.raw_http import client_context
from tests.waiting import wait_for

PATH = "/api/v1/namespaces/default/configmaps"


@pytest.fixture
def apiserver_options() -> ServerOptions:
    return ServerOptions(max_mutating_requests_inflight=1, max_requests_inflight=2)


def _send(server: APIServer, method: str, path: str, body: dict[str, object] | None = None):
    parsed = urlparse(server.url)
    context = client_context(server)
    conn: http.client.HTTPConnection
    if context is None:
        conn = http.client.HTTPConnection(parsed.hostname or "", parsed.port, timeout=60)
    else:
        conn = http.client.HTTPSConnection(
            parsed.hostname or "", parsed.port, timeout=60, context=context
        )
    payload = json.dumps(body).encode() if body is not None else None
    headers = {"Content-Type": "application/json"}
    if server.admin_token:
        headers["Authorization"] = f"Bearer {server.admin_token}"
    conn.request(method, path, body=payload, headers=headers)
    response = conn.getresponse()
    return response.status, dict(response.getheaders()), response.read()


def _send_in_background(
    server: APIServer, method: str, path: str, body: dict[str, object] | None = None
):
    """A request the server holds until it stops; its end (a cut connection) is expected."""

    def run() -> None:
        with contextlib.suppress(OSError):
            _send(server, method, path, body)

    threading.Thread(target=run, daemon=True).start()


def _configmap(name: str) -> dict[str, object]:
    return {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": name}}


def test_writes_beyond_the_mutating_limit_get_429_with_retry_after(apiserver: APIServer) -> None:
    # Hold one create in flight (the server stops it at teardown), filling the only seat.
    apiserver.faults.delay(seconds=60, verb="create", resource="configmaps")
    _send_in_background(apiserver, "POST", PATH, _configmap("held"))
    wait_for(lambda: apiserver.flow_control.inflight("mutating") == 1, what="a held create")

    status, headers, raw = _send(apiserver, "POST", PATH, _configmap("rejected"))
    assert status == 429
    assert headers["Retry-After"] == "1"
    body = json.loads(raw)
    assert (body["kind"], body["reason"], body["code"]) == ("Status", "TooManyRequests", 429)
    assert body["details"]["retryAfterSeconds"] == 1
    assert apiserver.flow_control.rejected == 1

    # Reads draw on their own budget and still pass, with the flow control headers.
    status, headers, _ = _send(apiserver, "GET", PATH)
    assert status == 200
    assert headers["X-Kubernetes-PF-FlowSchema-UID"] == FLOW_SCHEMA_UID
    assert headers["X-Kubernetes-PF-PriorityLevel-UID"] == PRIORITY_LEVEL_UID


def test_kubectl_sees_flow_control_headers_and_watches_are_exempt(
    apiserver: APIServer, kubectl: Kubectl
) -> None:
    for _ in range(3):
        _send_in_background(apiserver, "GET", f"{PATH}?watch=true&timeoutSeconds=30")
    wait_for(lambda: apiserver.faults.count("watch", "configmaps") == 3, what="three watches")
    # Three open watches exceed the read-only limit of 2, yet reads are still served.
    out = kubectl.run("get", "configmaps", "-v=8").stderr
    assert f"x-kubernetes-pf-flowschema-uid: {FLOW_SCHEMA_UID}" in out.lower()
    assert apiserver.flow_control.inflight("readonly") == 0
