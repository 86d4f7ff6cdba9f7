"""What TLS, authentication and RBAC cost: authorized GETs/s against today's plain HTTP.

The same ConfigMaps and the same 4 keep-alive client threads (in a client process of their
own, as kubectl and controllers are), best of 3 interleaved rounds:

- ``http``: ``insecure_http`` (no TLS, no authentication, no authorization);
- ``https_admin``: TLS and the admin token (``system:masters``: allowed before RBAC);
- ``https_rbac``: TLS and a ServiceAccount token (a JWT) allowed by a RoleBinding, the
  path every controller with least-privilege RBAC takes.

Wall-clock GETs/s swing with whatever else the machine runs; the server loop's CPU time per
GET swings less, so the overhead is reported from it. ``Security.admit`` is also timed alone
(authentication + authorization of one request, no I/O), to separate what the checks cost
from what TLS costs.

    .venv/bin/python bench/auth.py [--gets N] [--threads T] [--rounds R]
"""

from __future__ import annotations

import argparse
import http.client
import json
import multiprocessing
import ssl
import threading
import time
from typing import Any
from urllib.parse import urlparse

from aiohttp.test_utils import make_mocked_request

from reconcile.apiserver import APIServer, ServerOptions
from reconcile.apiserver.api import WriteOptions
from reconcile.apiserver.rest import parse_path

PATH = "/api/v1/namespaces/default/configmaps"
RBAC = "rbac.authorization.k8s.io"


def _connection(url: str, ca_pem: bytes | None) -> http.client.HTTPConnection:
    parsed = urlparse(url)
    host, port = parsed.hostname or "127.0.0.1", parsed.port
    if ca_pem is None:
        return http.client.HTTPConnection(host, port, timeout=60)
    context = ssl.create_default_context(cadata=ca_pem.decode())
    return http.client.HTTPSConnection(host, port, timeout=60, context=context)


def _seed(server: APIServer, names: list[str]) -> None:
    assert server.api is not None
    info = server.api.registry.lookup("", "v1", "configmaps")
    for name in names:
        body = {"metadata": {"name": name}, "data": {"k": "v"}}
        server.call(server.api.create, info, "default", body, WriteOptions())


def _service_account_token(server: APIServer) -> str:
    """A ServiceAccount allowed to get ConfigMaps in default by a Role and RoleBinding."""
    api, security = server.api, server.security
    assert api is not None and security is not None and security.tokens is not None
    objects = [
        ("", "serviceaccounts", {"metadata": {"name": "bench"}}),
        (RBAC, "roles", {"metadata": {"name": "bench"}, "rules": [
            {"apiGroups": [""], "resources": ["configmaps"], "verbs": ["get"]}]}),
        (RBAC, "rolebindings", {"metadata": {"name": "bench"},
            "roleRef": {"apiGroup": RBAC, "kind": "Role", "name": "bench"},
            "subjects": [{"kind": "ServiceAccount", "name": "bench", "namespace": "default"}]}),
    ]  # fmt: skip
    for group, resource, body in objects:
        version = "v1"
        server.call(api.create, api.registry.lookup(group, version, resource), "default", body,
                    WriteOptions())  # fmt: skip
    account = server.call(lambda: api.store.get(("", "serviceaccounts"), "default", "bench"))
    return str(security.tokens.issue(account.obj).token)


def _client_process(
    url: str, ca_pem: bytes | None, token: str | None, names: list[str], threads: int,
    results: Any,
) -> None:  # fmt: skip
    """GET every name from ``threads`` keep-alive connections; put GETs/s (or the failure)."""
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    failures: list[str] = []

    def work(chunk: list[str]) -> None:
        conn = _connection(url, ca_pem)
        for name in chunk:
            conn.request("GET", f"{PATH}/{name}", headers=headers)
            response = conn.getresponse()
            data = response.read()
            if response.status != 200:
                failures.append(f"{response.status}: {data[:200]!r}")
                return
        conn.close()

    pool = [threading.Thread(target=work, args=(names[i::threads],)) for i in range(threads)]
    started = time.perf_counter()
    for thread in pool:
        thread.start()
    for thread in pool:
        thread.join()
    elapsed = time.perf_counter() - started
    results.put(f"GET failed: {failures[0]}" if failures else len(names) / elapsed)


def _get_rate(
    server: APIServer, token: str | None, names: list[str], threads: int
) -> tuple[float, float]:
    """GETs/s seen by a client in its own process (so it never competes for our GIL), and
    the server loop's CPU microseconds per GET: the figure other load on the machine
    disturbs least."""
    context = multiprocessing.get_context("spawn")
    results = context.Queue()
    args = (server.url, server.ca_pem, token, names, threads, results)
    process = context.Process(target=_client_process, args=args)
    process.start()
    cpu_before = float(server.call(time.thread_time))
    outcome = results.get(timeout=600)
    cpu_after = float(server.call(time.thread_time))
    process.join(60)
    if isinstance(outcome, str):
        raise RuntimeError(outcome)
    return float(outcome), (cpu_after - cpu_before) / len(names) * 1e6


class _NoPeer:
    """A transport that presented no client certificate."""

    def get_extra_info(self, name: str, default: Any = None) -> Any:
        return default


def _admit_micros(server: APIServer, token: str, rounds: int = 20_000) -> float:
    """Microseconds ``Security.admit`` takes for one GET of a ConfigMap, on the server loop."""
    security = server.security
    assert security is not None
    path = f"{PATH}/cm-0"
    target = parse_path([p for p in path.split("/") if p])
    headers = {"Authorization": f"Bearer {token}"}
    request: Any = make_mocked_request("GET", path, headers=headers, transport=_NoPeer())

    def loop() -> float:
        started = time.perf_counter()
        for _ in range(rounds):
            security.admit(request, target)
        return (time.perf_counter() - started) / rounds * 1e6

    return float(server.call(loop))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--gets", type=int, default=4000)
    parser.add_argument("--threads", type=int, default=4)
    parser.add_argument("--rounds", type=int, default=3, help="best of this many runs each")
    args = parser.parse_args()
    names = [f"cm-{i}" for i in range(500)]
    wanted = [names[i % len(names)] for i in range(args.gets)]
    plain, secure = APIServer(ServerOptions(insecure_http=True)), APIServer(ServerOptions())
    plain.start()
    secure.start()
    try:
        _seed(plain, names)
        _seed(secure, names)
        admin, robot = secure.admin_token, _service_account_token(secure)
        assert admin is not None
        modes = {"http": (plain, None), "https_admin": (secure, admin),
                 "https_rbac": (secure, robot)}  # fmt: skip
        runs: dict[str, list[tuple[float, float]]] = {label: [] for label in modes}
        for _ in range(args.rounds):  # interleaved, so load from elsewhere hits all alike
            for label, (server, token) in modes.items():
                runs[label].append(_get_rate(server, token, wanted, args.threads))
        figures: dict[str, float] = {}
        for label, measured in runs.items():
            figures[f"{label}_gets_per_s"] = max(rate for rate, _ in measured)
            figures[f"{label}_server_cpu_us_per_get"] = min(cpu for _, cpu in measured)
        figures["admit_admin_us"] = _admit_micros(secure, admin)
        figures["admit_rbac_us"] = _admit_micros(secure, robot)
    finally:
        plain.stop()
        secure.stop()
    base = figures["http_server_cpu_us_per_get"]
    for label in ("https_admin", "https_rbac"):
        cost = figures[f"{label}_server_cpu_us_per_get"] / base - 1
        figures[f"{label}_cpu_overhead_pct"] = 100 * cost
    for name, value in figures.items():
        print(f"{name:24s} {value:10,.1f}")
    summary = {"gets": args.gets, "threads": args.threads, "rounds": args.rounds}
    print(json.dumps({**summary, **{k: round(v, 1) for k, v in figures.items()}}))


if __name__ == "__main__":
    main()
