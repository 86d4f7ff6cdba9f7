"""What TLS, authentication and RBAC cost: authorized GETs/s against today's plain HTTP.

The same ConfigMaps and the same 4 keep-alive client threads, best of 3 interleaved rounds:

- ``http``: ``insecure_http`` (no TLS, no authentication, no authorization);
- ``https_admin``: TLS and the admin token (``system:masters``: allowed before RBAC);
- ``https_rbac``: TLS and a ServiceAccount token (a JWT) allowed by a RoleBinding, the
  path every controller with least-privilege RBAC takes.

It also times ``Security.admit`` alone (authentication + authorization of one request,
no I/O), to separate what the checks cost from what TLS costs.

    .venv/bin/python bench/auth.py [--gets N] [--threads T]
"""

from __future__ import annotations

import argparse
import http.client
import json
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


def _connection(server: APIServer) -> http.client.HTTPConnection:
    parsed = urlparse(server.url)
    host, port = parsed.hostname or "127.0.0.1", parsed.port
    if server.ca_pem is None:
        return http.client.HTTPConnection(host, port, timeout=60)
    context = ssl.create_default_context(cadata=server.ca_pem.decode())
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


def _get_rate(server: APIServer, token: str | None, names: list[str], threads: int) -> float:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    failures: list[str] = []

    def work(chunk: list[str]) -> None:
        conn = _connection(server)
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
    if failures:
        raise RuntimeError(f"GET failed: {failures[0]}")
    return len(names) / elapsed


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
        runs: dict[str, list[float]] = {"http": [], "https_admin": [], "https_rbac": []}
        for _ in range(args.rounds):  # interleaved, so load from elsewhere hits all alike
            runs["http"].append(_get_rate(plain, None, wanted, args.threads))
            runs["https_admin"].append(_get_rate(secure, admin, wanted, args.threads))
            runs["https_rbac"].append(_get_rate(secure, robot, wanted, args.threads))
        figures = {f"{label}_gets_per_s": max(rates) for label, rates in runs.items()}
        figures["admit_admin_us"] = _admit_micros(secure, admin)
        figures["admit_rbac_us"] = _admit_micros(secure, robot)
    finally:
        plain.stop()
        secure.stop()
    base = figures["http_gets_per_s"]
    figures["overhead_admin_pct"] = 100 * (1 - figures["https_admin_gets_per_s"] / base)
    figures["overhead_rbac_pct"] = 100 * (1 - figures["https_rbac_gets_per_s"] / base)
    for name, value in figures.items():
        print(f"{name:24s} {value:10,.1f}")
    summary = {"gets": args.gets, "threads": args.threads, "rounds": args.rounds}
    print(json.dumps({**summary, **{k: round(v, 1) for k, v in figures.items()}}))


if __name__ == "__main__":
    main()
