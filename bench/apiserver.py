"""Embedded API server throughput over HTTP on loopback, from 4 client threads.

Measures creates/s, updates/s and gets/s of ConfigMaps (keep-alive connections, raw JSON),
and watch events/s delivered to one watcher while the creates run. These figures are the
ceiling every controller benchmark is measured against.

    .venv/bin/python bench/apiserver.py [--objects N] [--threads T]
"""

from __future__ import annotations

import argparse
import http.client
import json
import threading
import time
from typing import Any
from urllib.parse import urlparse

from reconcile.apiserver import APIServer, ServerOptions

PATH = "/api/v1/namespaces/default/configmaps"


def _connection(url: str) -> http.client.HTTPConnection:
    parsed = urlparse(url)
    return http.client.HTTPConnection(parsed.hostname or "127.0.0.1", parsed.port, timeout=60)


def _call(
    conn: http.client.HTTPConnection, method: str, path: str, body: dict[str, Any] | None = None
) -> dict[str, Any]:
    payload = json.dumps(body).encode() if body is not None else None
    conn.request(method, path, body=payload, headers={"Content-Type": "application/json"})
    response = conn.getresponse()
    data = response.read()
    if response.status >= 300:
        raise RuntimeError(f"{method} {path} -> {response.status}: {data[:200]!r}")
    result: dict[str, Any] = json.loads(data)
    return result


def _phase(url: str, threads: int, per_thread: int, action: str) -> float:
    results: list[dict[str, Any]] = []

    def work(index: int) -> None:
        conn = _connection(url)
        for i in range(per_thread):
            name = f"t{index}-{i}"
            if action == "create":
                _call(
                    conn,
                    "POST",
                    PATH,
                    {
                        "apiVersion": "v1",
                        "kind": "ConfigMap",
                        "metadata": {"name": name},
                        "data": {"v": "0"},
                    },
                )
            elif action == "update":
                current = _call(conn, "GET", f"{PATH}/{name}")
                current["data"]["v"] = "1"
                _call(conn, "PUT", f"{PATH}/{name}", current)
            else:
                results.append(_call(conn, "GET", f"{PATH}/{name}"))
        conn.close()

    pool = [threading.Thread(target=work, args=(t,)) for t in range(threads)]
    started = time.perf_counter()
    for thread in pool:
        thread.start()
    for thread in pool:
        thread.join()
    return threads * per_thread / (time.perf_counter() - started)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--objects", type=int, default=4000)
    parser.add_argument("--threads", type=int, default=4)
    args = parser.parse_args()
    per_thread = args.objects // args.threads

    # Plain HTTP: the storage/serving ceiling; bench/auth.py measures what TLS and RBAC add.
    server = APIServer(ServerOptions(watch_history=args.objects * 4, insecure_http=True))
    server.start()
    url = server.url
    events = [0]
    first_event: list[float] = []
    last_event: list[float] = []
    conn = _connection(url)
    conn.request("GET", f"{PATH}?watch=true&timeoutSeconds=600")
    stream = conn.getresponse()

    def watch() -> None:
        for line in stream:
            if line.strip():
                now = time.perf_counter()
                if not first_event:
                    first_event.append(now)
                last_event[:] = [now]
                events[0] += 1
                if events[0] >= args.objects:
                    return

    watcher = threading.Thread(target=watch, daemon=True)
    watcher.start()
    figures = {
        "creates_per_s": _phase(url, args.threads, per_thread, "create"),
        "updates_per_s": _phase(url, args.threads, per_thread, "update"),
        "gets_per_s": _phase(url, args.threads, per_thread, "get"),
    }
    watcher.join(60)
    elapsed = (last_event[0] - first_event[0]) if first_event and last_event else 0.0
    figures["watch_events_per_s"] = events[0] / elapsed if elapsed > 0 else 0.0
    server.stop()
    for name, value in figures.items():
        print(f"{name:24s} {value:10,.0f}")
    print(
        json.dumps(
            {
                "objects": per_thread * args.threads,
                "threads": args.threads,
                **{k: round(v) for k, v in figures.items()},
            }
        )
    )


if __name__ == "__main__":
    main()
