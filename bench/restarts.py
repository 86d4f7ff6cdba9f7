"""The restarts operator under a restart storm: latency to the record, CPU and memory.

Three processes, as in a cluster: the embedded API server (``kreconcile apiserver``), the
operator (``kreconcile run --leader-elect=false``, every operator on its defaults), and
this one, which plays the simulated kubelet. It creates N pods (default 1,000; two
containers each, bound round-robin to 4 nodes) and runs them through the simulated
kubelet's sync, then restarts random containers at R per second (default 100) for D
seconds (default 60) with realistic reasons and exit codes, through ``restart_container``
(the code behind ``kreconcile kubelet restart``), from a few threads.

Latency of a restart: from the moment this process's Pod watch delivers the pod with the
new restartCount, to the moment its RestartRecord watch delivers a record whose status
counts it (the container's watermark reached that restartCount for that pod UID; a
restart the operator saw only as part of a jump is counted as missed, and still has a
latency). Both watches run here, on the same path, so the figure is what a client of the
API would see. Also reported: restarts never recorded within 30 s of the end (lost),
missed ones, the operator's CPU seconds (utime + stime, from /proc) over the storm and its
RSS (now and peak, VmHWM), and from its /metrics: requests by verb and code, mean time in
the work queue, per reconcile and per status PUT, which tell a slow operator from a slow
API server. Goals: p99 <= 1 s, RSS <= 150 MB.

The embedded API server is single-threaded Python: on a 2-core machine it caps the storm
below the requested rate (``achieved_rate`` says what was reached). The driver then runs
flat out and the server queues everyone's requests, the operator's status writes
included; ``--rate`` at what the server sustains shows the operator's own latency.
``--workers`` sets the operator's pod workers (the ``restarts.workers`` setting).

    .venv/bin/python bench/restarts.py [--pods 1000] [--rate 100] [--seconds 60] [--workers 8]
"""

from __future__ import annotations

import argparse
import json
import os
import random
import signal
import socket
import statistics
import subprocess
import sys
import threading
import time
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from tempfile import TemporaryDirectory
from typing import Any

from controllers.inprocess import install_crds
from crds import RestartRecord
from reconcile.client import Client, RestConfig
from reconcile.envtest.kubelet import CHAOS_FAILURES, SimulatedKubelet, restart_container
from reconcile.gvk import GroupVersionKind

POD = GroupVersionKind("", "v1", "Pod")
NAMESPACE = "storm"
NODES = [f"node-{i}" for i in range(4)]
CONTAINERS = ("app", "sidecar")


def _pod(i: int) -> dict[str, Any]:
    app = f"app-{i % 40}"
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {
            "name": f"{app}-{i:05d}",
            "namespace": NAMESPACE,
            "labels": {"app": app, "pod-template-hash": f"{i % 97:08x}"},
        },
        "spec": {
            "nodeName": NODES[i % len(NODES)],
            "containers": [
                {
                    "name": name,
                    "image": f"registry.example.com/team/{app}-{name}:1.{i % 7}.0",
                    "resources": {"limits": {"memory": "256Mi", "cpu": "500m"}},
                    "env": [{"name": f"VAR_{k}", "value": f"value-{k}"} for k in range(8)],
                }
                for name in CONTAINERS
            ],
        },
    }


class Proc:
    """CPU and memory of a child process, from /proc."""

    def __init__(self, pid: int) -> None:
        self.pid = pid
        self.tick = os.sysconf("SC_CLK_TCK")

    def cpu_seconds(self) -> float:
        fields = Path(f"/proc/{self.pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / self.tick

    def memory_mb(self, key: str) -> float:
        for line in Path(f"/proc/{self.pid}/status").read_text().splitlines():
            if line.startswith(f"{key}:"):
                return int(line.split()[1]) / 1024
        return 0.0


class Latencies:
    """Pod watch -> restart seen; record watch -> restart counted."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.seen: dict[tuple[str, str], int] = {}
        self.pending: dict[tuple[str, str], list[tuple[int, float]]] = {}
        self.watermark: dict[tuple[str, str], int] = {}
        self.latencies: list[float] = []
        self.restarts = 0
        self.measuring = False

    def pod(self, pod: dict[str, Any], now: float) -> None:
        uid = pod["metadata"]["uid"]
        with self.lock:
            for status in (pod.get("status") or {}).get("containerStatuses") or []:
                key, count = (uid, status["name"]), int(status.get("restartCount") or 0)
                previous = self.seen.get(key, 0)
                if count <= previous:
                    continue
                self.seen[key] = count
                if not self.measuring:
                    continue
                for number in range(previous + 1, count + 1):
                    if number <= self.watermark.get(key, 0):
                        self.latencies.append(0.0)  # the record was faster than our watch
                    else:
                        self.pending.setdefault(key, []).append((number, now))
                    self.restarts += 1

    def record(self, record: dict[str, Any], now: float) -> None:
        with self.lock:
            for container in (record.get("status") or {}).get("containers") or []:
                key = (container.get("podUID", ""), container["name"])
                mark = int(container.get("restartCount") or 0)
                self.watermark[key] = max(self.watermark.get(key, 0), mark)
                waiting = self.pending.get(key)
                if not waiting:
                    continue
                done = [at for number, at in waiting if number <= mark]
                self.latencies.extend(now - at for at in done)
                self.pending[key] = [(n, at) for n, at in waiting if n > mark]

    def outstanding(self) -> int:
        with self.lock:
            return sum(len(v) for v in self.pending.values())


def _follow(client: Client, kind: Any, handle: Any, stop: threading.Event) -> threading.Event:
    """Watch ``kind`` in the namespace from a fresh list; return an event set once listed."""
    listed = threading.Event()

    def run() -> None:
        while not stop.is_set():
            try:
                items = client.list(kind, namespace=NAMESPACE)
                for obj in items["items"]:
                    handle(obj, time.monotonic())
                listed.set()
                version = items["metadata"]["resourceVersion"]
                for event in client.watch(
                    kind, namespace=NAMESPACE, resource_version=version, timeout_seconds=600
                ):
                    if stop.is_set():
                        return
                    if event.get("type") in ("ADDED", "MODIFIED"):
                        handle(event["object"], time.monotonic())
            except Exception as error:
                print(f"watch of {kind.kind} restarted: {error}", file=sys.stderr)
                stop.wait(0.2)

    threading.Thread(target=run, daemon=True).start()
    return listed


def _start(
    args: list[str], env: dict[str, str], log: Path | None = None
) -> subprocess.Popen[bytes]:
    output = log.open("wb") if log is not None else subprocess.DEVNULL
    return subprocess.Popen(
        [sys.executable, "-m", "controllers.cli", *args],
        stdout=output,
        stderr=subprocess.STDOUT,
        env=env,
    )


def _free_address() -> str:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return f"127.0.0.1:{sock.getsockname()[1]}"


def _operator_figures(address: str) -> dict[str, Any]:
    """Requests per verb and code, and where reconcile time went, from the operator's /metrics."""
    from prometheus_client.parser import text_string_to_metric_families

    try:
        with urllib.request.urlopen(f"http://{address}/metrics", timeout=10) as response:
            body = response.read().decode()
    except OSError:
        return {}
    samples = [s for family in text_string_to_metric_families(body) for s in family.samples]

    def total(family: str, labels: dict[str, str]) -> float:
        return sum(
            s.value
            for s in samples
            if s.name == family and all(s.labels.get(k) == v for k, v in labels.items())
        )

    requests = {
        f"{s.labels['method']} {s.labels['code']}": s.value
        for s in samples
        if s.name == "rest_client_requests_total" and s.value
    }
    mean = {}
    for name, labels in (
        ("rest_client_request_duration_seconds", {"verb": "PUT"}),
        ("workqueue_queue_duration_seconds", {"name": "restartrecord"}),
        ("controller_runtime_reconcile_time_seconds", {"controller": "restartrecord"}),
    ):
        count = total(f"{name}_count", labels)
        mean[name] = round(total(f"{name}_sum", labels) / count, 4) if count else None
    return {
        "requests": requests,
        "put_mean_s": mean["rest_client_request_duration_seconds"],
        "queue_mean_s": mean["workqueue_queue_duration_seconds"],
        "reconcile_mean_s": mean["controller_runtime_reconcile_time_seconds"],
    }


def _unrecorded(client: Client) -> list[str]:
    """Containers whose record does not count exactly their restarts (for diagnosis)."""
    records = {
        r["metadata"]["name"]: r for r in client.list(RestartRecord, namespace=NAMESPACE)["items"]
    }
    found = []
    for pod in client.list(POD, namespace=NAMESPACE)["items"]:
        name = pod["metadata"]["name"]
        containers = ((records.get(name) or {}).get("status") or {}).get("containers") or []
        counted = {c["name"]: (c.get("restartCount", 0), c.get("restarts", 0)) for c in containers}
        for status in pod["status"].get("containerStatuses") or []:
            count = status["restartCount"]
            if counted.get(status["name"], (0, 0)) != (count, count):
                found.append(
                    f"{name}/{status['name']}: restartCount {count}, record (watermark, "
                    f"restarts) {counted.get(status['name'])}"
                )
    return found


def _wait_file(path: Path, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while not path.exists():
        if time.monotonic() > deadline:
            raise TimeoutError(f"{path} not written within {timeout}s")
        time.sleep(0.1)


def _load(client: Client, pods: int) -> None:
    client.create({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": NAMESPACE}})
    with ThreadPoolExecutor(8) as pool:
        list(pool.map(lambda i: client.create(_pod(i)), range(pods)))
    SimulatedKubelet(client, nodes=NODES).register_nodes()
    kubelets = [SimulatedKubelet(client, nodes=[node]) for node in NODES]
    with ThreadPoolExecutor(len(kubelets)) as pool:
        list(pool.map(lambda kubelet: kubelet.sync(), kubelets))


def _storm(client: Client, rate: float, seconds: float, rng: random.Random) -> int:
    names = [p["metadata"]["name"] for p in client.list(POD, namespace=NAMESPACE)["items"]]
    plan = [
        (rng.choice(names), rng.choice(CONTAINERS), rng.choice(CHAOS_FAILURES))
        for _ in range(int(rate * seconds))
    ]
    started = time.monotonic()
    index = iter(range(len(plan)))
    lock = threading.Lock()
    done = [0]

    def worker() -> None:
        while True:
            with lock:
                i = next(index, None)
            if i is None:
                return
            delay = started + i / rate - time.monotonic()
            if delay > 0:
                time.sleep(delay)
            pod, container, failure = plan[i]
            restart_container(client, NAMESPACE, pod, container, failure)
            with lock:
                done[0] += 1

    threads = [threading.Thread(target=worker, daemon=True) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return done[0]


def run(
    pods: int, rate: float, seconds: float, workers: int, log: Path | None = None
) -> dict[str, Any]:
    with TemporaryDirectory(prefix="bench-restarts-") as tmp:
        kubeconfig = Path(tmp) / "kubeconfig"
        config = Path(tmp) / "operators.yaml"
        config.write_text(f"restarts: {{workers: {workers}}}\n")
        env = {**os.environ, "PYTHONUNBUFFERED": "1"}
        server = _start(["apiserver", "--kubeconfig", str(kubeconfig)], env)
        operator: subprocess.Popen[bytes] | None = None
        metrics = _free_address()
        stop = threading.Event()
        try:
            _wait_file(kubeconfig, 60)
            client = Client(RestConfig.from_kubeconfig(kubeconfig))
            install_crds(client)
            operator = _start(
                ["run", f"--kubeconfig={kubeconfig}", "--leader-elect=false",
                 f"--metrics-bind-address={metrics}", "--health-probe-bind-address=0",
                 f"--config={config}"],
                env,
                log,
            )  # fmt: skip
            proc = Proc(operator.pid)
            loaded = time.monotonic()
            _load(client, pods)
            print(f"{pods} pods created and running in {time.monotonic() - loaded:.1f}s")
            latencies = Latencies()
            listed = [
                _follow(client, POD, latencies.pod, stop),
                _follow(client, RestartRecord, latencies.record, stop),
            ]
            for event in listed:
                event.wait(60)
            with latencies.lock:
                latencies.measuring = True
            cpu_before = proc.cpu_seconds()
            begun = time.monotonic()
            made = _storm(client, rate, seconds, random.Random(14))
            storm = time.monotonic() - begun
            deadline = time.monotonic() + 30
            while time.monotonic() < deadline and (
                latencies.restarts < made or latencies.outstanding()
            ):
                time.sleep(0.1)
            lost = latencies.outstanding() + made - latencies.restarts
            cpu = proc.cpu_seconds() - cpu_before
            rss, peak = proc.memory_mb("VmRSS"), proc.memory_mb("VmHWM")
            records = client.list(RestartRecord, namespace=NAMESPACE)["items"]
            counted = sum(r["status"].get("restarts", 0) for r in records if r.get("status"))
            missed = sum(r["status"].get("missed", 0) for r in records if r.get("status"))
            inside = _operator_figures(metrics)
            for line in _unrecorded(client):
                print(f"not recorded: {line}", file=sys.stderr)
        finally:
            stop.set()
            for process in (operator, server):
                if process is not None:
                    process.send_signal(signal.SIGTERM)
                    try:
                        process.wait(30)
                    except subprocess.TimeoutExpired:
                        process.kill()
    values = sorted(latencies.latencies)
    quantile = statistics.quantiles(values, n=100) if len(values) > 1 else values * 99
    return {
        "pods": pods,
        "target_rate": rate,
        "seconds": seconds,
        "workers": workers,
        "restarts_made": made,
        "achieved_rate": round(made / storm, 1),
        "restarts_seen": latencies.restarts,
        "restarts_counted": counted,
        "lost": lost,
        "missed": missed,
        "p50_s": round(quantile[49], 4),
        "p99_s": round(quantile[98], 4),
        "max_s": round(values[-1], 4) if values else None,
        "operator_cpu_s": round(cpu, 2),
        "operator_cpu_ms_per_restart": round(1000 * cpu / max(made, 1), 3),
        "operator_rss_mb": round(rss, 1),
        "operator_peak_rss_mb": round(peak, 1),
        "operator_queue_mean_s": inside.get("queue_mean_s"),
        "operator_reconcile_mean_s": inside.get("reconcile_mean_s"),
        "operator_put_mean_s": inside.get("put_mean_s"),
        "operator_requests": inside.get("requests"),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pods", type=int, default=1000)
    parser.add_argument("--rate", type=float, default=100.0, help="restarts per second")
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument("--workers", type=int, default=8, help="the operator's pod workers")
    parser.add_argument("--operator-log", type=Path, default=None, help="keep its output here")
    args = parser.parse_args()
    figures = run(args.pods, args.rate, args.seconds, args.workers, args.operator_log)
    print(
        f"{figures['restarts_made']} restarts at {figures['achieved_rate']}/s over "
        f"{figures['pods']} pods: p50 {figures['p50_s']}s, p99 {figures['p99_s']}s, "
        f"max {figures['max_s']}s; lost {figures['lost']}, missed {figures['missed']}"
    )
    print(
        f"operator: {figures['operator_cpu_s']} CPU s ({figures['operator_cpu_ms_per_restart']} "
        f"ms per restart), RSS {figures['operator_rss_mb']} MB (peak "
        f"{figures['operator_peak_rss_mb']} MB)"
    )
    print(json.dumps(figures))


if __name__ == "__main__":
    main()
