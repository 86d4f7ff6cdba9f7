"""IOLimitPolicy's node agent: its cost at 200 containers, and how fast it throttles.

A real ``kreconcile agent`` process runs node-1, whose cgroup v2 tree is a directory that
mimics cgroupfs, against the embedded API server; the controller runs in this process, built
as ``kreconcile run`` builds it. 200 pods with one container each run on node-1 and one
policy selects them all; every container's ``io.stat`` grows at a modest rate, below the
policy's threshold. Figures:

- ``agent_cpu_percent_of_core`` / ``agent_rss_mb``: the agent's CPU time over a steady window
  at the default 10 s sampling interval, and its resident memory (``agent_peak_rss_mb``:
  the high-water mark);
- ``limit_written_p50_s`` / ``_p99_s``: from the sample whose window average crossed the
  threshold (the agent logs it, to the millisecond) to the container's ``io.max`` written,
  over ``--crossings`` containers made to cross a few at a time;
- ``restart_to_reverified_s``: the agent is killed (SIGKILL) and started again; from the new
  process's start until every active throttle of the node is verified in its cgroup, and
  ``rewritten_after_restart`` counts the limits it wrote again (0: none applied twice).

    .venv/bin/python bench/iolimit.py [--containers 200] [--measure 60] [--crossings 20]
"""

from __future__ import annotations

import argparse
import json
import os
import re
import socket
import statistics
import subprocess
import sys
import threading
import time
import urllib.request
from pathlib import Path
from tempfile import TemporaryDirectory
from typing import Any

import yaml

from controllers.inprocess import install_crds
from controllers.iolimit.agent.cgroups import layout_paths
from controllers.operators import load_operators
from controllers.run import RunOptions, build_manager
from crds import IOLimitPolicy
from reconcile.apiserver import APIServer, ServerOptions
from reconcile.client import Client, RestConfig
from reconcile.manager import ManagerOptions

THRESHOLD = 100
"""Write IOPS over 15 minutes above which a container is throttled."""
STEADY_WIOPS = 10
HOT_WIOS = 200_000
"""A young container's 15 m average with this many writes: 222 IOPS, over the threshold."""
_CROSSED = re.compile(r'msg="threshold crossed".*container=(\S+).*observed_at=([\d.]+)')


def _stamp(epoch: float) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(epoch))


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class Agent:
    """A ``kreconcile agent`` process whose log lines are followed."""

    started_processes: list[subprocess.Popen[str]] = []
    """Every agent process started, so the bench kills them whatever happens."""

    def __init__(self, kubeconfig: Path, config: Path, root: Path) -> None:
        self.port = _free_port()
        self.started = time.time()
        self.process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "controllers.cli",
                "agent",
                f"--kubeconfig={kubeconfig}",
                f"--config={config}",
                "--node-name=node-1",
                f"--cgroup-root={root}",
                f"--metrics-bind-address=127.0.0.1:{self.port}",
                "--health-probe-bind-address=0",
            ],
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        Agent.started_processes.append(self.process)
        self.crossed: dict[str, float] = {}
        threading.Thread(target=self._follow, daemon=True).start()

    def _follow(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            match = _CROSSED.search(line)
            if match:
                self.crossed.setdefault(match.group(1), float(match.group(2)))

    def cpu_seconds(self) -> float:
        fields = Path(f"/proc/{self.process.pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    def memory_mb(self, key: str) -> float:
        for line in Path(f"/proc/{self.process.pid}/status").read_text().splitlines():
            if line.startswith(key + ":"):
                return int(line.split()[1]) / 1024
        return 0.0

    def counter(self, result: str) -> float:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{self.port}/metrics", timeout=2) as r:
                body = r.read().decode()
        except OSError:
            return -1.0
        found = re.search(rf'kreconcile_io_throttle_apply_total{{result="{result}"}} (\S+)', body)
        return float(found.group(1)) if found else 0.0

    def kill(self) -> None:
        self.process.kill()
        self.process.wait(10)


def _wait(condition: Any, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise SystemExit(f"timed out after {timeout:g}s waiting for {what}")
        time.sleep(0.05)


class Node:
    """node-1's pods and their mimic cgroups, with IO counters the bench drives."""

    def __init__(self, client: Client, root: Path, count: int) -> None:
        self.root = root
        self.cgroups: dict[str, Path] = {}
        self.wios: dict[str, int] = {}
        self.hot: set[str] = set()
        self.lock = threading.Lock()
        started = time.time()
        for index in range(count):
            name = f"worker-{index:03d}"
            cid = f"containerd://{index:064x}"
            pod = client.create(
                {
                    "apiVersion": "v1",
                    "kind": "Pod",
                    "metadata": {"name": name, "namespace": "batch", "labels": {"app": "worker"}},
                    "spec": {"nodeName": "node-1", "containers": [{"name": "app", "image": "x"}]},
                }
            )
            pod["status"] = {
                "phase": "Running",
                "qosClass": "Burstable",
                "containerStatuses": [
                    {
                        "name": "app",
                        "containerID": cid,
                        "image": "x",
                        "imageID": "",
                        "ready": True,
                        "restartCount": 0,
                        "state": {"running": {"startedAt": _stamp(started)}},
                    }
                ],
            }
            client.status().update(pod)
            path = layout_paths(root, pod["metadata"]["uid"], "Burstable", cid)[0]
            path.mkdir(parents=True)
            (path / "io.max").touch()
            self.cgroups[cid] = path
            self.wios[cid] = 0
        self.write_all()

    def write_all(self) -> None:
        with self.lock:
            for cid, path in self.cgroups.items():
                (path / "io.stat").write_text(
                    f"8:0 rbytes=0 wbytes={self.wios[cid] * 4096} rios=0 wios={self.wios[cid]} "
                    "dbytes=0 dios=0\n"
                )

    def grow(self, stop: threading.Event, every: float = 5.0) -> None:
        while not stop.wait(every):
            with self.lock:
                for cid in self.wios:
                    if cid not in self.hot:
                        self.wios[cid] += int(STEADY_WIOPS * every)
            self.write_all()

    def cross(self, cids: list[str]) -> None:
        with self.lock:
            for cid in cids:
                self.hot.add(cid)
                self.wios[cid] = HOT_WIOS
        self.write_all()

    def written_at(self, cid: str) -> float | None:
        path = self.cgroups[cid] / "io.max"
        return path.stat().st_mtime_ns / 1e9 if path.read_text() else None


def _percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(share * (len(ordered) - 1)))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--containers", type=int, default=200)
    parser.add_argument("--interval", type=float, default=10.0, help="sampling interval (s)")
    parser.add_argument("--measure", type=float, default=60.0, help="steady window (s)")
    parser.add_argument("--crossings", type=int, default=20)
    args = parser.parse_args()
    with TemporaryDirectory(prefix="kreconcile-bench-iolimit-") as tmp:
        work = Path(tmp)
        server = APIServer(ServerOptions())
        server.start()
        stop = threading.Event()
        try:
            figures = _run(args, work, server, stop)
        finally:
            for process in Agent.started_processes:
                if process.poll() is None:
                    process.kill()
                    process.wait(10)
            stop.set()
            server.stop()
    for key, value in figures.items():
        print(f"{key:32} {value}")
    print(json.dumps(figures))


def _run(
    args: argparse.Namespace, work: Path, server: APIServer, stop: threading.Event
) -> dict[str, Any]:
    kubeconfig = server.write_kubeconfig(work / "kubeconfig")
    rest = RestConfig.from_kubeconfig(kubeconfig)
    client = Client(rest)
    install_crds(client)
    _wait(lambda: _served(client), 30, "the CRDs")
    config = work / "operators.yaml"
    config.write_text(
        yaml.safe_dump(
            {
                "iolimit": {
                    "samplingInterval": args.interval,
                    "reportInterval": max(60.0, args.interval),
                    "staleAfter": max(180.0, 3 * args.interval),
                    "devices": ["8:0"],
                }
            }
        )
    )
    client.create({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "batch"}})
    client.create(
        {
            "apiVersion": "kreconcile.io/v1alpha1",
            "kind": "IOLimitPolicy",
            "metadata": {"name": "workers"},
            "spec": {
                "namespaces": ["batch"],
                "selector": {"matchLabels": {"app": "worker"}},
                "rules": [
                    {
                        "name": "heavy",
                        "window": "15m",
                        "thresholds": [{"metric": "WriteIOPS", "above": THRESHOLD}],
                        "limits": {"writeIOPS": 50, "writeBPS": 2097152},
                    }
                ],
            },
        }
    )
    root = work / "cgroup"
    root.mkdir()
    (root / "cgroup.controllers").write_text("cpuset cpu io memory pids\n")
    node = Node(client, root, args.containers)
    threading.Thread(target=node.grow, args=(stop,), daemon=True).start()
    manager = build_manager(
        rest,
        RunOptions(
            manager=ManagerOptions(metrics_bind_address="0", health_probe_bind_address="0"),
            config_path=config,
        ),
        load_operators((("iolimit", "controllers.iolimit"),)),
    )
    threading.Thread(target=manager.start, args=(stop,), daemon=True).start()

    agent = Agent(kubeconfig, config, root)
    _wait(lambda: _reported(client), 120, "the agent's first report")
    time.sleep(args.interval)  # let the first samples and reports settle before measuring
    cpu_start, wall_start = agent.cpu_seconds(), time.monotonic()
    time.sleep(args.measure)
    cpu = (agent.cpu_seconds() - cpu_start) / (time.monotonic() - wall_start)
    rss, peak = agent.memory_mb("VmRSS"), agent.memory_mb("VmHWM")

    chosen = list(node.cgroups)[: args.crossings]
    for start in range(0, len(chosen), 4):
        node.cross(chosen[start : start + 4])
        time.sleep(args.interval / 2)
    _wait(lambda: all(node.written_at(c) for c in chosen), 10 * args.interval, "every limit")
    latencies = [
        max(0.0, (node.written_at(c) or 0.0) - agent.crossed[c])
        for c in chosen
        if c in agent.crossed
    ]
    written = {c: (node.cgroups[c] / "io.max").stat().st_mtime_ns for c in chosen}

    agent.kill()
    agent = Agent(kubeconfig, config, root)
    _wait(lambda: agent.counter("verified") >= len(chosen), 120, "every throttle re-verified")
    reverified = time.time() - agent.started
    rewritten = sum(
        (node.cgroups[c] / "io.max").stat().st_mtime_ns != t for c, t in written.items()
    )
    applied = agent.counter("applied")
    agent.kill()
    return {
        "containers": args.containers,
        "sampling_interval_s": args.interval,
        "agent_cpu_percent_of_core": round(100 * cpu, 2),
        "agent_rss_mb": round(rss, 1),
        "agent_peak_rss_mb": round(peak, 1),
        "crossings": len(latencies),
        "limit_written_p50_s": round(statistics.median(latencies), 3),
        "limit_written_p99_s": round(_percentile(latencies, 0.99), 3),
        "active_throttles": len(chosen),
        "restart_to_reverified_s": round(reverified, 2),
        "rewritten_after_restart": rewritten + int(max(applied, 0)),
    }


def _served(client: Client) -> bool:
    try:
        client.list(IOLimitPolicy)
    except Exception:
        return False
    return True


def _reported(client: Client) -> bool:
    nodes = (client.get(IOLimitPolicy, "workers").get("status") or {}).get("nodes") or []
    return any(n.get("containers") for n in nodes)


if __name__ == "__main__":
    main()
