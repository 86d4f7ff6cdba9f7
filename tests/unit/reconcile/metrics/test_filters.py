"""Metrics authentication and authorization against an in-test TokenReview/SAR responder.

The responder speaks authentication.k8s.io/v1 TokenReview and authorization.k8s.io/v1
SubjectAccessReview as kube-apiserver documents them; the manager's metrics endpoint, with
``metrics_filter=with_authentication_and_authorization``, is scraped with different tokens.
"""

from __future__ import annotations

import json
import threading
import urllib.error
import urllib.request
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from kubernetes import client as k8s_client

from reconcile.client import RestConfig
from reconcile.client.transport import Transport
from reconcile.manager import Manager, ManagerOptions
from reconcile.metrics.filters import AuthFilterOptions, with_authentication_and_authorization

USERS = {
    "prometheus-token": {"username": "system:serviceaccount:monitoring:prometheus", "uid": "u1",
                         "groups": ["system:serviceaccounts"], "extra": {"scope": ["metrics"]}},
    "viewer-token": {"username": "jane", "groups": ["viewers"]},
}  # fmt: skip
ALLOWED = {("system:serviceaccount:monitoring:prometheus", "/metrics", "get")}


class Responder:
    """Answers TokenReviews and SubjectAccessReviews; records every review it received."""

    def __init__(self) -> None:
        self.reviews: list[dict[str, Any]] = []
        self.failing = False
        responder = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                responder.reviews.append(
                    {"path": self.path, "body": body, "auth": self.headers["Authorization"]}
                )
                if responder.failing:
                    self._send(500, {"kind": "Status", "code": 500, "message": "etcd is down"})
                    return
                spec = body["spec"]
                if self.path.endswith("/tokenreviews"):
                    user = USERS.get(spec["token"])
                    status = {"authenticated": user is not None, **({"user": user} if user else {})}
                else:
                    attributes = spec["nonResourceAttributes"]
                    allowed = (spec["user"], attributes["path"], attributes["verb"]) in ALLOWED
                    status = {"allowed": allowed, **({} if allowed else {"reason": "no rule"})}
                self._send(201, {**body, "status": status})

            def _send(self, code: int, body: dict[str, Any]) -> None:
                raw = json.dumps(body).encode()
                self.send_response(code)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(raw)))
                self.end_headers()
                self.wfile.write(raw)

            def log_message(self, format: str, *args: object) -> None: ...

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}"

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()
        self.thread.join()


@pytest.fixture
def responder() -> Iterator[Responder]:
    running = Responder()
    yield running
    running.close()


def _config(url: str) -> RestConfig:
    configuration = k8s_client.Configuration()
    configuration.host = url
    configuration.api_key = {"authorization": "Bearer manager-sa-token"}
    return RestConfig(configuration=configuration)


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def _scrape(address: str, token: str | None, path: str = "/metrics") -> tuple[int, str]:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    request = urllib.request.Request(f"http://{address}{path}", headers=headers)
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, response.read().decode()
    except urllib.error.HTTPError as error:
        return error.code, error.read().decode()


@pytest.fixture
def served(responder: Responder) -> Iterator[tuple[str, Clock]]:
    """A manager's metrics endpoint guarded by the filter; yields its address and clock."""
    clock = Clock()

    def provider(transport: Any) -> Any:
        return with_authentication_and_authorization(transport, AuthFilterOptions(clock=clock))

    manager = Manager(
        _config(responder.url),
        ManagerOptions(metrics_bind_address="127.0.0.1:0", metrics_filter=provider),
    )
    manager.add_metrics_server_extra_handler(
        "/debug/info", lambda path, query: (200, "text/plain", b"extra handler\n")
    )
    stop = threading.Event()
    thread = threading.Thread(target=manager.metrics_server.start, args=(stop,), daemon=True)
    thread.start()
    assert manager.metrics_server.wait_bound(10)
    address = manager.metrics_server.address
    assert address is not None
    yield address, clock
    stop.set()
    thread.join(10)


def test_allowed_user_scrapes_others_are_refused(
    served: tuple[str, Clock], responder: Responder
) -> None:
    address, _ = served
    status, body = _scrape(address, "prometheus-token")
    assert status == 200 and "python_info" in body
    assert _scrape(address, None) == (401, "Unauthorized\n")
    assert _scrape(address, "stolen-token") == (401, "Unauthorized\n")
    assert _scrape(address, "viewer-token") == (403, "Authorization denied for user jane\n")
    token_review, access_review = responder.reviews[:2]
    assert token_review["path"] == "/apis/authentication.k8s.io/v1/tokenreviews"
    assert token_review["body"]["spec"] == {"token": "prometheus-token"}
    assert token_review["auth"] == "Bearer manager-sa-token", "reviews use the manager's identity"
    assert access_review["path"] == "/apis/authorization.k8s.io/v1/subjectaccessreviews"
    assert access_review["body"]["spec"] == {
        "user": "system:serviceaccount:monitoring:prometheus",
        "uid": "u1",
        "groups": ["system:serviceaccounts"],
        "extra": {"scope": ["metrics"]},
        "nonResourceAttributes": {"path": "/metrics", "verb": "get"},
    }


def test_extra_handlers_sit_behind_the_same_filter(served: tuple[str, Clock]) -> None:
    address, clock = served
    assert _scrape(address, None, "/debug/info")[0] == 401
    assert _scrape(address, "prometheus-token", "/debug/info")[0] == 403, "only /metrics granted"
    ALLOWED.add(("system:serviceaccount:monitoring:prometheus", "/debug/info", "get"))
    try:
        # A grant takes effect once the cached denial (30 s) expires.
        assert _scrape(address, "prometheus-token", "/debug/info")[0] == 403
        clock.now = 31.0
        assert _scrape(address, "prometheus-token", "/debug/info") == (200, "extra handler\n")
    finally:
        ALLOWED.discard(("system:serviceaccount:monitoring:prometheus", "/debug/info", "get"))


def test_results_are_cached_for_their_ttls(served: tuple[str, Clock], responder: Responder) -> None:
    address, clock = served
    for _ in range(3):
        assert _scrape(address, "prometheus-token")[0] == 200
        assert _scrape(address, "viewer-token")[0] == 403
    assert len(responder.reviews) == 4, "one TokenReview and one SAR per user"
    clock.now = 31.0  # past the deny TTL (30 s), within the allow (5 min) and token (1 min) TTLs
    _scrape(address, "prometheus-token")
    _scrape(address, "viewer-token")
    assert [r["path"].rsplit("/", 1)[1] for r in responder.reviews[4:]] == ["subjectaccessreviews"]
    clock.now = 61.0  # token reviews expire
    _scrape(address, "prometheus-token")
    assert responder.reviews[-1]["path"].endswith("/tokenreviews")


def test_api_server_failure_is_a_500_and_is_not_cached(
    served: tuple[str, Clock], responder: Responder
) -> None:
    address, _ = served
    responder.failing = True
    assert _scrape(address, "prometheus-token") == (500, "Authentication or authorization failed\n")
    responder.failing = False
    assert _scrape(address, "prometheus-token")[0] == 200


def test_filter_works_with_any_reviewer(responder: Responder) -> None:
    check = with_authentication_and_authorization(Transport(_config(responder.url)))
    assert check("GET", "/metrics", {"authorization": "bearer prometheus-token"}) is None
    refused = check("GET", "/metrics", {"Authorization": "Basic abc"})
    assert refused is not None and refused[0] == 401
