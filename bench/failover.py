"""Leader failover times with real manager processes: graceful (SIGTERM) and crash (SIGKILL).

A chain of processes competes for one Lease on the embedded API server; the leader writes
a heartbeat every 50 ms. Each run stops the leader and measures the time until the next
process's first heartbeat. Timings are scaled down (lease 2 s, renew 1.5 s, retry 0.3 s) so
20 runs of each finish in minutes; the crash bound scales with them (lease + 2.2 x retry).

    .venv/bin/python bench/failover.py [--runs N] [--lease S --renew S --retry S]
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import statistics
import subprocess
import sys
import threading
import time
from pathlib import Path
from tempfile import TemporaryDirectory

from reconcile.apiserver import APIServer, ServerOptions
from reconcile.client import Client, RestConfig
from reconcile.gvk import GroupVersionKind

CONFIGMAP = GroupVersionKind("", "v1", "ConfigMap")
HEARTBEAT = {
    "apiVersion": "v1",
    "kind": "ConfigMap",
    "metadata": {"name": "heartbeat", "namespace": "default"},
}


class Heartbeats:
    def __init__(self, client: Client) -> None:
        self.latest: dict[str, float] = {}
        self.first: dict[str, float] = {}
        self.changed = threading.Condition()
        threading.Thread(target=self._follow, args=(client,), daemon=True).start()

    def _follow(self, client: Client) -> None:
        while True:
            try:
                for event in client.watch(
                    CONFIGMAP, namespace="default", field_selector="metadata.name=heartbeat"
                ):
                    data = (event.get("object") or {}).get("data") or {}
                    if "holder" in data:
                        with self.changed:
                            self.first.setdefault(data["holder"], float(data["at"]))
                            self.latest[data["holder"]] = float(data["at"])
                            self.changed.notify_all()
            except Exception:
                time.sleep(0.1)

    def wait_first(self, identity: str, timeout: float) -> float:
        deadline = time.monotonic() + timeout
        with self.changed:
            while identity not in self.first:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise TimeoutError(f"{identity} never led")
                self.changed.wait(remaining)
            return self.first[identity]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=20)
    parser.add_argument("--lease", type=float, default=2.0)
    parser.add_argument("--renew", type=float, default=1.5)
    parser.add_argument("--retry", type=float, default=0.3)
    args = parser.parse_args()
    server = APIServer(ServerOptions())
    server.start()
    results: dict[str, list[float]] = {"graceful": [], "crash": []}
    with TemporaryDirectory() as tmp:
        kubeconfig = server.write_kubeconfig(Path(tmp) / "kc")
        client = Client(RestConfig.from_kubeconfig(kubeconfig))
        client.create({**HEARTBEAT, "data": {}})
        beats = Heartbeats(client)
        counter = iter(range(10_000))

        def spawn() -> tuple[str, subprocess.Popen[bytes]]:
            identity = f"p{next(counter)}"
            process = subprocess.Popen(
                [sys.executable, "-m", "tests.durability.leader_process", str(kubeconfig), identity,
                 str(args.lease), str(args.renew), str(args.retry)],
                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env={**os.environ},
            )  # fmt: skip
            return identity, process

        leader = spawn()
        beats.wait_first(leader[0], 60)
        for mode in ("graceful", "crash"):
            for run in range(args.runs):
                standby = spawn()
                time.sleep(1.0)  # let the standby start and begin polling the lease
                stopped = time.time()
                leader[1].send_signal(signal.SIGTERM if mode == "graceful" else signal.SIGKILL)
                took = beats.wait_first(standby[0], 60) - stopped
                leader[1].wait(30)
                results[mode].append(took)
                print(f"{mode:8s} run {run + 1:2d}: {took:.3f}s", flush=True)
                leader = standby
        leader[1].send_signal(signal.SIGTERM)
        leader[1].wait(30)
    server.stop()
    figures: dict[str, float] = {
        "lease_s": args.lease,
        "renew_s": args.renew,
        "retry_s": args.retry,
        "runs": args.runs,
    }
    for mode, values in results.items():
        figures[f"{mode}_min_s"] = round(min(values), 3)
        figures[f"{mode}_median_s"] = round(statistics.median(values), 3)
        figures[f"{mode}_max_s"] = round(max(values), 3)
    figures["crash_bound_s"] = round(args.lease + 2.2 * args.retry, 3)
    print(json.dumps(figures))


if __name__ == "__main__":
    main()
