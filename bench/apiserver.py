"""Embedded API server throughput over HTTP on loopback, from 4 client threads.

Measures creates/s, updates/s and gets/s of ConfigMaps (keep-alive connections, raw JSON),
and watch events/s delivered to one watcher while the creates run; then creates/s and
updates/s of Pods (a realistic ~2 KB pod: typed, defaulted and validated as kube-apiserver
does) and of a custom resource (structural schema with defaults). These figures are the
ceiling every controller benchmark is measured against.

    .venv/bin/python bench/apiserver.py [--objects N] [--threads T]
"""

from __future__ import annotations

import argparse
import http.client
import json
import threading
import time
from collections.abc import Callable
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


Body = Callable[[str], dict[str, Any]]
Mutate = Callable[[dict[str, Any]], None]


def _configmap(name: str) -> dict[str, Any]:
    return {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": name}, "data": {"v": "0"}}


def _bump_configmap(obj: dict[str, Any]) -> None:
    obj["data"]["v"] = "1"


def _pod(name: str) -> dict[str, Any]:
    container = {
        "name": "app",
        "image": "registry.example.com/team/app:1.4.2",
        "args": ["--port=8080", "--log-level=info"],
        "ports": [
            {"name": "http", "containerPort": 8080},
            {"name": "metrics", "containerPort": 9090},
        ],
        "env": [{"name": f"SETTING_{i}", "value": f"value-{i}"} for i in range(8)],
        "resources": {"requests": {"cpu": "100m", "memory": "128Mi"},
                      "limits": {"cpu": "500m", "memory": "256Mi"}},
        "readinessProbe": {"httpGet": {"path": "/ready", "port": 8080}, "periodSeconds": 5},
        "volumeMounts": [{"name": "config", "mountPath": "/etc/app"}],
    }  # fmt: skip
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {
            "name": name,
            "labels": {"app": "bench", "tier": "backend", "release": "stable"},
            "annotations": {"example.com/owner": "team-a", "example.com/revision": "42"},
        },
        "spec": {
            "containers": [container, {**container, "name": "sidecar", "ports": []}],
            "volumes": [{"name": "config", "configMap": {"name": "app-config"}}],
            "nodeSelector": {"kubernetes.io/os": "linux"},
        },
    }


def _bump_pod(obj: dict[str, Any]) -> None:
    obj["metadata"]["labels"]["release"] = "canary"


WIDGETS = "/apis/bench.kreconcile.io/v1/namespaces/default/widgets"
_WIDGET_CRD = {
    "apiVersion": "apiextensions.k8s.io/v1",
    "kind": "CustomResourceDefinition",
    "metadata": {"name": "widgets.bench.kreconcile.io"},
    "spec": {
        "group": "bench.kreconcile.io",
        "scope": "Namespaced",
        "names": {"plural": "widgets", "singular": "widget", "kind": "Widget"},
        "versions": [{"name": "v1", "served": True, "storage": True,
                      "subresources": {"status": {}},
                      "schema": {"openAPIV3Schema": {"type": "object", "properties": {
                          "spec": {"type": "object", "required": ["size"], "properties": {
                              "size": {"type": "integer", "minimum": 1, "maximum": 100},
                              "color": {"type": "string", "enum": ["red", "blue"],
                                        "default": "red"},
                              "tags": {"type": "array", "items": {"type": "string"},
                                       "x-kubernetes-list-type": "set"}}},
                          "status": {"type": "object",
                                     "x-kubernetes-preserve-unknown-fields": True}}}}}],
    },
}  # fmt: skip


def _widget(name: str) -> dict[str, Any]:
    return {
        "apiVersion": "bench.kreconcile.io/v1",
        "kind": "Widget",
        "metadata": {"name": name},
        "spec": {"size": 3, "tags": ["a", "b"]},
    }


def _bump_widget(obj: dict[str, Any]) -> None:
    obj["spec"]["size"] = 4


def _phase(
    url: str,
    threads: int,
    per_thread: int,
    action: str,
    path: str = PATH,
    body: Body = _configmap,
    mutate: Mutate = _bump_configmap,
) -> float:
    def work(index: int) -> None:
        conn = _connection(url)
        for i in range(per_thread):
            name = f"t{index}-{i}"
            if action == "create":
                _call(conn, "POST", path, body(name))
            elif action == "update":
                current = _call(conn, "GET", f"{path}/{name}")
                mutate(current)
                _call(conn, "PUT", f"{path}/{name}", current)
            else:
                _call(conn, "GET", f"{path}/{name}")
        conn.close()

    pool = [threading.Thread(target=work, args=(t,)) for t in range(threads)]
    started = time.perf_counter()
    for thread in pool:
        thread.start()
    for thread in pool:
        thread.join()
    return threads * per_thread / (time.perf_counter() - started)


def _typed_figures(url: str, threads: int, per_thread: int) -> dict[str, float]:
    """Creates/updates of Pods and of a custom resource (validation and defaulting on)."""
    conn = _connection(url)
    _call(conn, "POST", "/apis/apiextensions.k8s.io/v1/customresourcedefinitions", _WIDGET_CRD)
    conn.close()
    pods = "/api/v1/namespaces/default/pods"
    return {
        "pod_creates_per_s": _phase(url, threads, per_thread, "create", pods, _pod, _bump_pod),
        "pod_updates_per_s": _phase(url, threads, per_thread, "update", pods, _pod, _bump_pod),
        "cr_creates_per_s": _phase(
            url, threads, per_thread, "create", WIDGETS, _widget, _bump_widget
        ),
        "cr_updates_per_s": _phase(
            url, threads, per_thread, "update", WIDGETS, _widget, _bump_widget
        ),
    }


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
    figures.update(_typed_figures(url, args.threads, per_thread // 2))
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
