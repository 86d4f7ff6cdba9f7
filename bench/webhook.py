"""Admission webhooks: the latency a webhook adds to a create, and what the webhook server
sustains on one core.

The webhook server (``reconcile.webhook``: an allow-all validator at ``/validate`` and a
one-label defaulter at ``/mutate``) runs in a child process pinned to one CPU; the embedded
API server runs in this process over plain HTTP (so the figures hold the webhook's cost,
not TLS to the API server). First, ConfigMaps are created one at a time, interleaved, in a
namespace no webhook concerns, one with the validating webhook, and one with the mutating
and the validating webhook: the p50/p99 of each, and what the webhooks add to the plain
create. Then client threads on the other CPU post AdmissionReviews straight to the webhook
server over kept-alive TLS connections: requests/s, the server's CPU share, and requests
per CPU-second of the server (what one core sustains when saturated).

    .venv/bin/python bench/webhook.py [--creates 300] [--seconds 5] [--threads 8]
"""

from __future__ import annotations

import argparse
import base64
import http.client
import json
import os
import signal
import ssl
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.workloads.processes import usage  # noqa: E402
from reconcile.apiserver import APIServer, ServerOptions  # noqa: E402
from reconcile.apiserver.auth.pki import CertificateAuthority  # noqa: E402
from reconcile.webhook import (  # noqa: E402
    DefaulterHandler,
    ValidatorHandler,
    Webhook,
    WebhookServer,
    WebhookServerOptions,
)


class _Accept:
    def validate_create(self, obj: dict[str, Any]) -> None: ...
    def validate_update(self, old: dict[str, Any], new: dict[str, Any]) -> None: ...
    def validate_delete(self, obj: dict[str, Any]) -> None: ...


class _Label:
    def default(self, obj: dict[str, Any]) -> None:
        obj.setdefault("metadata", {}).setdefault("labels", {})["defaulted"] = "yes"


def serve(cert_dir: str, cpu: int | None) -> None:
    """The child: serve /validate and /mutate until SIGTERM; print the port once bound."""
    if cpu is not None:
        os.sched_setaffinity(0, {cpu})
    server = WebhookServer(WebhookServerOptions(host="127.0.0.1", port=0, cert_dir=cert_dir))
    server.register("/validate", Webhook(ValidatorHandler(_Accept())))
    server.register("/mutate", Webhook(DefaulterHandler(_Label())))
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    thread = threading.Thread(target=server.start, args=(stop,))
    thread.start()
    server.wait_bound(10)
    print(server.port, flush=True)
    thread.join()


def _call(conn: http.client.HTTPConnection, path: str, body: dict[str, Any]) -> None:
    conn.request("POST", path, json.dumps(body).encode(), {"Content-Type": "application/json"})
    response = conn.getresponse()
    data = response.read()
    if response.status >= 300:
        raise RuntimeError(f"POST {path} -> {response.status}: {data[:300]!r}")


def _webhook(name: str, url: str, ca: bytes, namespaces: list[str]) -> dict[str, Any]:
    return {
        "name": name,
        "clientConfig": {"url": url, "caBundle": base64.b64encode(ca).decode()},
        "rules": [{"operations": ["CREATE"], "apiGroups": [""], "apiVersions": ["v1"],
                   "resources": ["configmaps"]}],
        "namespaceSelector": {"matchExpressions": [{"key": "bench", "operator": "In",
                                                    "values": namespaces}]},
        "sideEffects": "None",
        "admissionReviewVersions": ["v1"],
    }  # fmt: skip


def _configure(conn: http.client.HTTPConnection, port: int, ca: bytes) -> None:
    base = f"https://127.0.0.1:{port}"
    for namespace in ("plain", "validated", "mutated"):
        _call(conn, "/api/v1/namespaces", {"apiVersion": "v1", "kind": "Namespace",
              "metadata": {"name": namespace, "labels": {"bench": namespace}}})  # fmt: skip
    group = "/apis/admissionregistration.k8s.io/v1"
    _call(conn, f"{group}/validatingwebhookconfigurations", {
        "apiVersion": "admissionregistration.k8s.io/v1", "kind": "ValidatingWebhookConfiguration",
        "metadata": {"name": "bench"},
        "webhooks": [_webhook("validate.bench.io", f"{base}/validate", ca,
                              ["validated", "mutated"])]})  # fmt: skip
    _call(conn, f"{group}/mutatingwebhookconfigurations", {
        "apiVersion": "admissionregistration.k8s.io/v1", "kind": "MutatingWebhookConfiguration",
        "metadata": {"name": "bench"},
        "webhooks": [_webhook("mutate.bench.io", f"{base}/mutate", ca, ["mutated"])]})  # fmt: skip


def _percentiles(samples: list[float]) -> tuple[float, float]:
    cuts = statistics.quantiles(samples, n=100)
    return cuts[49] * 1000, cuts[98] * 1000


def _latencies(url: str, creates: int) -> dict[str, float]:
    parsed = urlparse(url)
    conn = http.client.HTTPConnection(parsed.hostname or "127.0.0.1", parsed.port, timeout=60)
    samples: dict[str, list[float]] = {"plain": [], "validated": [], "mutated": []}
    for index in range(creates):
        for namespace, taken in samples.items():
            body = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": f"c{index}"}}
            started = time.perf_counter()
            _call(conn, f"/api/v1/namespaces/{namespace}/configmaps", body)
            taken.append(time.perf_counter() - started)
    figures: dict[str, float] = {}
    plain_p50, plain_p99 = _percentiles(samples["plain"])
    figures["create_p50_ms"], figures["create_p99_ms"] = plain_p50, plain_p99
    for namespace, label in (("validated", "validating"), ("mutated", "mutating_and_validating")):
        p50, p99 = _percentiles(samples[namespace])
        figures[f"added_by_{label}_p50_ms"] = p50 - plain_p50
        figures[f"added_by_{label}_p99_ms"] = p99 - plain_p99
    return figures


REVIEW = json.dumps({
    "apiVersion": "admission.k8s.io/v1", "kind": "AdmissionReview",
    "request": {"uid": "bench", "operation": "CREATE",
                "kind": {"group": "", "version": "v1", "kind": "ConfigMap"},
                "resource": {"group": "", "version": "v1", "resource": "configmaps"},
                "object": {"apiVersion": "v1", "kind": "ConfigMap",
                           "metadata": {"name": "c", "namespace": "validated"},
                           "data": {"k": "v" * 64}}},
}).encode()  # fmt: skip


def _throughput(port: int, ca: bytes, pid: int, seconds: float, threads: int) -> dict[str, float]:
    context = ssl.create_default_context(cadata=ca.decode())
    done = [0] * threads
    stop = threading.Event()

    def client(slot: int) -> None:
        conn = http.client.HTTPSConnection("127.0.0.1", port, context=context, timeout=30)
        while not stop.is_set():
            conn.request("POST", "/validate", REVIEW, {"Content-Type": "application/json"})
            response = conn.getresponse()
            response.read()
            if response.status != 200:
                raise RuntimeError(f"webhook answered {response.status}")
            done[slot] += 1
        conn.close()

    workers = [threading.Thread(target=client, args=(i,), daemon=True) for i in range(threads)]
    for worker in workers:
        worker.start()
    time.sleep(0.5)  # connections and handshakes settle before the window opens
    first, cpu_before, started = sum(done), usage(pid).cpu_s, time.perf_counter()
    time.sleep(seconds)
    requests, cpu, elapsed = (
        sum(done) - first,
        usage(pid).cpu_s - cpu_before,
        time.perf_counter() - started,
    )
    stop.set()
    for worker in workers:
        worker.join(30)
    return {
        "webhook_requests_per_s": requests / elapsed,
        "webhook_server_cpu_share": cpu / elapsed,
        "webhook_requests_per_cpu_s": requests / cpu if cpu > 0 else 0.0,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--creates", type=int, default=300)
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--threads", type=int, default=8)
    parser.add_argument("--serve", help=argparse.SUPPRESS)
    parser.add_argument("--cpu", type=int, default=None, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve:
        serve(args.serve, args.cpu)
        return
    cpus = sorted(os.sched_getaffinity(0))
    server_cpu, client_cpus = cpus[0], set(cpus[1:]) or {cpus[0]}
    authority = CertificateAuthority.create("bench-ca")
    pair = authority.issue("webhook", hosts=("127.0.0.1",), server=True)
    with tempfile.TemporaryDirectory() as certs:
        Path(certs, "tls.crt").write_bytes(pair.cert_pem)
        Path(certs, "tls.key").write_bytes(pair.key_pem)
        child = subprocess.Popen(
            [sys.executable, __file__, "--serve", certs, "--cpu", str(server_cpu)],
            stdout=subprocess.PIPE, text=True,
        )  # fmt: skip
        assert child.stdout is not None
        port = int(child.stdout.readline())
        os.sched_setaffinity(0, client_cpus)
        api = APIServer(ServerOptions(insecure_http=True))
        api.start()
        try:
            parsed = urlparse(api.url)
            conn = http.client.HTTPConnection(parsed.hostname or "", parsed.port, timeout=60)
            _configure(conn, port, authority.pair.cert_pem)
            figures = _latencies(api.url, args.creates)
            figures.update(
                _throughput(port, authority.pair.cert_pem, child.pid, args.seconds, args.threads)
            )
        finally:
            api.stop()
            child.terminate()
            child.wait(30)
    for name, value in figures.items():
        print(f"{name:42s} {value:10,.2f}")
    print(json.dumps({"creates": args.creates, "threads": args.threads,
                      **{k: round(v, 2) for k, v in figures.items()}}))  # fmt: skip


if __name__ == "__main__":
    main()
