"""kreconcile side by side with kopf: the same Widget workload, the same API server, one run.

N Widgets exist before an operator starts; it must give each a ConfigMap and a status
(``status.observedValue = spec.value``). Then the driver changes every Widget's spec and
waits again. Both operators run with their default settings, each in its own process, and
so does the embedded API server (a fresh one per operator, so both start from the same
state). Per operator: seconds to converge after start and after the spec change, latency
from each spec change to its status (p50/p99/max, measured by the driver), peak RSS, CPU
seconds and CPU seconds per reconcile (per object brought in step: 2 x N). The server's own
ceiling is measured in the same run with a plain client (status patches, ConfigMap writes)
and its CPU is sampled during every phase, so the output says when the server, not the
operator, was the limit. The last line is one JSON object with every figure.

kopf (newest release) is installed on first use into ``.kreconcile/bench-kopf-venv``; the
benchmark stops with a clear message if that is impossible.

    .venv/bin/python bench/compare_kopf.py [--objects 1000,10000] [--quick]
        [--kreconcile-qps Q] [--kreconcile-workers W] [--threads T] [--timeout S]
"""

from __future__ import annotations

import argparse
import json
import math
import os
import platform
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

# Run as a script, Python puts bench/ first on the path; the workloads import as bench.*.
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.workloads import widgets
from bench.workloads.kopf_env import KopfUnavailable, ensure_kopf, python_of
from bench.workloads.processes import ROOT, Child, machine_busy, machine_ticks, start_apiserver
from bench.workloads.tracker import Tracker, parallel, server_revision, wait_quiet
from reconcile.client import Client, RestConfig
from reconcile.client.config import DEFAULT_QPS
from reconcile.gvk import GroupVersionKind

QUICK_OBJECTS = 200
SERVER_BOUND_UTILISATION = 0.8
"""A phase is server-bound when the server process used this share of one core (it serves
from one event loop, so one core is all it can use) for the phase's whole duration."""
MACHINE_SATURATED = 0.95
"""A phase is machine-bound when all cores together were this busy: server, operator, driver
(and anything else running) were queueing for CPU, so no one of them set the pace."""
GOALS = {"throughput_x": 3.0, "cpu_per_reconcile_x": 0.33, "peak_rss_x": 0.5}
"""kreconcile / kopf: at least 3x the throughput, at most a third of the CPU per reconcile,
at most half the peak RSS (at 10k objects)."""
RSS_GOAL_OBJECTS = 10_000
EVENT = GroupVersionKind("", "v1", "Event")
KOPF_OPERATOR = Path(__file__).resolve().parent / "workloads" / "kopf_widgets.py"


@dataclass(frozen=True)
class Operator:
    """How to start one contender, given the server's kubeconfig and a log path."""

    name: str
    start: Callable[[Path, Path], Child]


def kreconcile_operator(name: str, qps: float | None, workers: int | None = None) -> Operator:
    def start(kubeconfig: Path, log: Path) -> Child:
        argv = [sys.executable, "-m", "bench.workloads.widgets", "--kubeconfig", str(kubeconfig)]
        argv += [] if qps is None else ["--qps", str(qps)]
        argv += [] if workers is None else ["--workers", str(workers)]
        return Child(name, argv, log)

    return Operator(name, start)


def kopf_operator(venv: Path) -> Operator:
    def start(kubeconfig: Path, log: Path) -> Child:
        env = {
            "KUBECONFIG": str(kubeconfig),
            "BENCH_WIDGET_GROUP": widgets.GROUP,
            "BENCH_WIDGET_VERSION": widgets.VERSION,
            "BENCH_WIDGET_PLURAL": widgets.PLURAL,
        }
        argv = [str(python_of(venv)), "-m", "kopf", "run", "--all-namespaces", str(KOPF_OPERATOR)]
        return Child("kopf", argv, log, env)

    return Operator("kopf", start)


def percentile(values: list[float], share: float) -> float:
    """Nearest-rank percentile (``share`` in 0..1) of a non-empty list."""
    ordered = sorted(values)
    return ordered[max(0, math.ceil(share * len(ordered)) - 1)]


def _names(objects: int) -> list[str]:
    return [f"w-{i:05d}" for i in range(objects)]


def _prepare(kubeconfig: Path, objects: int, threads: int) -> tuple[Client, float]:
    """Install the CRD and create the Widgets (value 1); return the client and creates/s."""
    client = Client(RestConfig.from_kubeconfig(kubeconfig, qps=0))
    widgets.install_crd(client)
    took = parallel(lambda name: client.create(widgets.widget(name, 1)), _names(objects), threads)
    return client, objects / took


def _change_specs(client: Client, names: list[str], value: int, threads: int) -> dict[str, float]:
    sent: dict[str, float] = {}

    def change(name: str) -> None:
        sent[name] = time.perf_counter()
        client.patch(widgets.widget(name, value), {"spec": {"value": value}})

    parallel(change, names, threads)
    return sent


def measure_server(workdir: Path, objects: int, threads: int) -> dict[str, Any]:
    """The server's ceiling for this workload's writes, from a plain client, no operator."""
    server, kubeconfig = start_apiserver(workdir, watch_history=max(10_000, 8 * objects))
    try:
        client, creates_per_s = _prepare(kubeconfig, objects, threads)
        names = _names(objects)
        before, started, ticks = server.usage(), time.perf_counter(), machine_ticks()
        status_s = parallel(
            lambda name: client.status().patch(
                widgets.widget(name, 1), {"status": {"observedValue": 1, "observedGeneration": 1}}
            ),
            names,
            threads,
        )
        configmap_s = parallel(
            lambda name: client.create(
                {"apiVersion": "v1", "kind": "ConfigMap",
                 "metadata": {"name": name, "namespace": widgets.NAMESPACE},
                 "data": widgets.configmap_data(1)}
            ),
            names,
            threads,
        )  # fmt: skip
        after, took = server.usage(), time.perf_counter() - started
        return {
            "widget_creates_per_s": round(creates_per_s),
            "status_patches_per_s": round(objects / status_s),
            "configmap_creates_per_s": round(objects / configmap_s),
            "ceiling_objects_per_s": round(objects / (status_s + configmap_s)),
            "server_cpu_utilisation": round((after.cpu_s - before.cpu_s) / took, 2),
            "machine_busy": round(machine_busy(ticks), 2),
        }
    finally:
        server.stop()


class Trial:
    """One operator from start through a spec change of every object, on a fresh server."""

    def __init__(self, server: Child, client: Client, tracker: Tracker, objects: int) -> None:
        self.server, self.client, self.tracker = server, client, tracker
        self.operator: Child | None = None
        self.names = _names(objects)
        self.objects = objects
        self.figures: dict[str, Any] = {"objects": objects}

    def begin(self) -> None:
        """Mark the start of a phase: its clock and the server's and machine's CPU so far."""
        self._began = (time.perf_counter(), self.server.usage().cpu_s, machine_ticks())

    def wait(self, phase: str, timeout: float) -> bool:
        """Wait for every object; record the phase's seconds since ``begin()`` and the
        server's and the machine's CPU use while it lasted."""
        assert self.operator is not None, "start_phase() starts the operator"
        started, server_cpu, ticks = self._began
        deadline = time.monotonic() + timeout
        converged = False
        while time.monotonic() < deadline and not converged:
            self.operator.check_alive()
            converged = self.tracker.wait(min(1.0, max(0.0, deadline - time.monotonic())))
        took = time.perf_counter() - started
        self.figures.update(
            {
                f"converged_{phase}": converged,
                f"{phase}_s": round(took, 2),
                f"server_cpu_utilisation_{phase}": round(
                    (self.server.usage().cpu_s - server_cpu) / took, 2
                ),
                f"machine_busy_{phase}": round(machine_busy(ticks), 2),
            }
        )
        if not converged:
            self.figures[f"{phase}_done"] = self.tracker.done()
        return converged

    def start_phase(self, launch: Callable[[], Child], timeout: float) -> bool:
        """Start the operator; time until every object has its status and ConfigMap."""
        revision = server_revision(self.client)
        self.begin()
        self.operator = launch()
        if not self.wait("start", timeout):
            return False
        first = min(self.tracker.landed().values()) - self.operator.started
        wait_quiet(self.client)  # count the work the phase caused, even after convergence
        self.figures.update(
            start_objects_per_s=round(self.objects / self.figures["start_s"], 1),
            first_status_s=round(first, 2),
            server_writes_per_object_start=round(
                (server_revision(self.client) - revision) / self.objects, 2
            ),
            cpu_s_start=round(self.operator.usage().cpu_s, 2),
        )
        return True

    def change_phase(self, threads: int, timeout: float) -> None:
        """Change every object's spec; time until all are in step again, latency per object."""
        revision = server_revision(self.client)
        self.tracker.expect(2)
        self.begin()
        sent = _change_specs(self.client, self.names, 2, threads)
        if not self.wait("change", timeout):
            return
        landed = self.tracker.landed()
        latencies = [landed[name] - sent[name] for name in self.names]
        wait_quiet(self.client)
        writes = server_revision(self.client) - revision - self.objects  # minus the driver's
        self.figures.update(
            change_objects_per_s=round(self.objects / self.figures["change_s"], 1),
            change_latency_p50_ms=round(percentile(latencies, 0.5) * 1000, 1),
            change_latency_p99_ms=round(percentile(latencies, 0.99) * 1000, 1),
            change_latency_max_ms=round(max(latencies) * 1000, 1),
            server_writes_per_object_change=round(writes / self.objects, 2),
        )

    def finish(self) -> None:
        """Usage of the operator (all phases so far) and of the server."""
        assert self.operator is not None, "start_phase() starts the operator"
        final, server = self.operator.usage(), self.server.usage()
        events = self.client.list(EVENT, namespace=widgets.NAMESPACE)["items"]
        self.figures.update(
            cpu_s=round(final.cpu_s, 2),
            cpu_ms_per_reconcile=round(final.cpu_s / (2 * self.objects) * 1000, 3),
            peak_rss_mb=round(final.peak_rss_mb, 1),
            events_created=len(events),
            server_cpu_s=round(server.cpu_s, 2),
            server_peak_rss_mb=round(server.peak_rss_mb, 1),
        )

    def stop_operator(self) -> None:
        """SIGTERM the operator; record the reconciles it reports on its way out."""
        if self.operator is not None:
            self.figures["handler_calls"] = reported_calls(self.operator.stop())


def run_operator(
    operator: Operator, workdir: Path, objects: int, threads: int, timeout: float
) -> dict[str, Any]:
    """Create the objects on a fresh server, start ``operator``, run both phases."""
    server, kubeconfig = start_apiserver(workdir, watch_history=max(10_000, 8 * objects))
    tracker: Tracker | None = None
    try:
        client, _ = _prepare(kubeconfig, objects, threads)
        tracker = Tracker(client, _names(objects))
        tracker.start()
        tracker.expect(1)
        trial = Trial(server, client, tracker, objects)
        log = workdir / f"{operator.name}.log"
        try:
            if trial.start_phase(lambda: operator.start(kubeconfig, log), timeout):
                trial.change_phase(threads, timeout)
            trial.finish()
        finally:
            trial.stop_operator()
        return trial.figures
    finally:
        if tracker is not None:
            tracker.stop()
        server.stop()


def reported_calls(printed: str) -> int | None:
    for line in reversed(printed.strip().splitlines()):
        try:
            calls = json.loads(line).get("reconciles")
        except (ValueError, AttributeError):
            continue
        return int(calls) if calls is not None else None
    return None


def compare(ours: dict[str, Any], kopf: dict[str, Any]) -> dict[str, Any]:
    """kreconcile / kopf ratios, each with whether it meets its goal (None: not measured:
    the phase was server-bound, or the RSS goal, which is set at 10k objects only)."""
    ratios: dict[str, Any] = {}
    if not (ours.get("converged_change") and kopf.get("converged_change")):
        return {"complete": False}
    for phase in ("start", "change"):
        ratio = ours[f"{phase}_objects_per_s"] / kopf[f"{phase}_objects_per_s"]
        ratios[f"throughput_{phase}_x"] = round(ratio, 2)
        bound = ours[f"server_cpu_utilisation_{phase}"] >= SERVER_BOUND_UTILISATION
        ratios[f"server_bound_{phase}"] = bound
        ratios[f"machine_saturated_{phase}"] = ours[f"machine_busy_{phase}"] >= MACHINE_SATURATED
        ratios[f"throughput_{phase}_goal_met"] = None if bound else ratio >= GOALS["throughput_x"]
    cpu = ours["cpu_ms_per_reconcile"] / kopf["cpu_ms_per_reconcile"]
    rss = ours["peak_rss_mb"] / kopf["peak_rss_mb"]
    rss_judged = ours["objects"] >= RSS_GOAL_OBJECTS
    ratios.update(
        complete=True,
        cpu_per_reconcile_x=round(cpu, 2),
        cpu_per_reconcile_goal_met=cpu <= GOALS["cpu_per_reconcile_x"],
        peak_rss_x=round(rss, 2),
        peak_rss_goal_met=rss <= GOALS["peak_rss_x"] if rss_judged else None,
        change_latency_p99_x=round(
            ours["change_latency_p99_ms"] / kopf["change_latency_p99_ms"], 2
        ),
    )
    return ratios


def _print_table(objects: int, server: dict[str, Any], runs: dict[str, dict[str, Any]]) -> None:
    print(f"\n== {objects} objects ==", flush=True)
    print("server ceiling: " + ", ".join(f"{k}={v}" for k, v in server.items()))
    keys = sorted({key for figures in runs.values() for key in figures})
    print(f"{'':34s}" + "".join(f"{name:>18s}" for name in runs))
    for key in keys:
        print(f"{key:34s}" + "".join(f"{runs[n].get(key, '-')!s:>18s}" for n in runs))


def sizes(text: str) -> list[int]:
    """``--objects``: comma-separated positive object counts."""
    try:
        values = [int(part) for part in text.split(",") if part.strip()]
    except ValueError:
        values = []
    if not values or min(values) < 1:
        raise argparse.ArgumentTypeError(
            f"{text!r}: give comma-separated positive object counts, e.g. 1000,10000"
        )
    return values


def _arguments() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--objects", type=sizes, default=[1000, 10_000], help="e.g. 1000,10000")
    parser.add_argument("--quick", action="store_true", help=f"{QUICK_OBJECTS} objects only")
    parser.add_argument(
        "--kreconcile-qps",
        type=float,
        default=None,
        help="also run kreconcile with this client qps (0: unlimited) besides its default",
    )
    parser.add_argument(
        "--kreconcile-workers",
        type=int,
        default=None,
        help="also run kreconcile with this many concurrent reconciles besides its default (1)",
    )
    parser.add_argument("--threads", type=int, default=4, help="driver threads for writes")
    parser.add_argument(
        "--timeout", type=float, default=None, help="seconds per phase (default: 300 + 0.15 x N)"
    )
    parser.add_argument("--kopf-venv", type=Path, default=ROOT / ".kreconcile" / "bench-kopf-venv")
    parser.add_argument(
        "--logs", type=Path, default=None, help="keep every process's log here (default: discard)"
    )
    parser.add_argument(
        "--no-kopf-upgrade", action="store_true", help="reuse an installed kopf as it is"
    )
    return parser.parse_args()


def main() -> None:
    args = _arguments()
    counts = [QUICK_OBJECTS] if args.quick else args.objects
    try:
        versions = ensure_kopf(args.kopf_venv, upgrade=not args.no_kopf_upgrade)
    except KopfUnavailable as error:
        raise SystemExit(f"compare_kopf: {error}") from None
    print(f"kopf {versions['kopf']} (kubernetes {versions['kubernetes']}) in {args.kopf_venv}")
    operators = [kreconcile_operator("kreconcile", None)]
    if args.kreconcile_qps is not None:
        operators.append(
            kreconcile_operator(f"kreconcile_qps{args.kreconcile_qps:g}", args.kreconcile_qps)
        )
    if args.kreconcile_workers is not None:
        operators.append(
            kreconcile_operator(
                f"kreconcile_workers{args.kreconcile_workers}", None, args.kreconcile_workers
            )
        )
    operators.append(kopf_operator(args.kopf_venv))
    result: dict[str, Any] = {
        "machine": {"cores": _cores(), "cpu": _cpu_model(), "python": platform.python_version()},
        "kopf_version": versions["kopf"],
        "kubernetes_version": versions["kubernetes"],
        "kreconcile_default_qps": DEFAULT_QPS,
        "sizes": {},
    }
    with tempfile.TemporaryDirectory(prefix="compare-kopf-") as scratch:
        tmp = args.logs or scratch
        for objects in counts:
            timeout = args.timeout or 300 + 0.15 * objects
            size_dir = Path(tmp) / str(objects)
            server = measure_server(_fresh(size_dir / "server"), objects, args.threads)
            runs: dict[str, dict[str, Any]] = {}
            for operator in operators:
                started = time.perf_counter()
                runs[operator.name] = run_operator(
                    operator, _fresh(size_dir / operator.name), objects, args.threads, timeout
                )
                print(f"{operator.name}: {time.perf_counter() - started:.0f}s", flush=True)
            _print_table(objects, server, runs)
            ratios = {
                name: compare(figures, runs["kopf"])
                for name, figures in runs.items()
                if name != "kopf"
            }
            for name, figures in ratios.items():
                print(f"{name} / kopf: " + ", ".join(f"{k}={v}" for k, v in figures.items()))
            result["sizes"][str(objects)] = {"server": server, "runs": runs, "ratios": ratios}
    print(json.dumps(result, separators=(",", ":")))


def _fresh(path: Path) -> Path:
    path.mkdir(parents=True, exist_ok=True)
    return path


def _cores() -> int:
    return len(os.sched_getaffinity(0))


def _cpu_model() -> str:
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("model name"):
            return line.split(":", 1)[1].strip()
    return platform.processor()


if __name__ == "__main__":
    main()
