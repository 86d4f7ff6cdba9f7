"""AgentPool figures: claim throughput, pending-claim-to-slot latency, ledger size.

1. Ledger size: a pool's status holding P pods x 3 slots, every slot reserved by a task
   with a realistic id (``ci-build-1234567``) and an expiry, written through the API and
   read back; bytes of the ledger, of the whole object as stored (managedFields included),
   and the pod count at which an object of this shape would reach the 1.5 MiB limit (the
   CRD caps maxReplicas at 200 anyway).
2. Claims per second through the API with 1 and 8 concurrent claimer processes: each
   claims a slot and releases it, over and over, on a pool of 4 agents x 3 slots run by the
   operator (so its reconciles compete for the ledger too). Each claim and each release is
   one optimistic-concurrency write of the ledger; conflicts are retried.
3. Pending claim -> Ready slot: a claim on a pool with no free slot, until it holds a slot
   on a new pod the operator created and the simulated kubelet (1 s resync, as in
   ``kreconcile dev``) made Ready.

Everything runs on the embedded API server, the operator in this process.

    .venv/bin/python bench/agentpool.py [--pods P] [--seconds S] [--rounds R]
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import statistics
import subprocess
import sys
import threading
import time
from pathlib import Path
from tempfile import TemporaryDirectory
from typing import Any

OBJECT_LIMIT = 1_572_864
NAMESPACE = "default"
TEMPLATE = {
    "spec": {
        "containers": [{"name": "agent", "image": "busybox:1.36", "command": ["sleep", "infinity"]}]
    }
}


def _pool(name: str, **spec: Any) -> dict[str, Any]:
    return {
        "apiVersion": "kreconcile.io/v1alpha1",
        "kind": "AgentPool",
        "metadata": {"name": name, "namespace": NAMESPACE},
        "spec": {"template": TEMPLATE, **spec},
    }


def _full_ledger(pods: int) -> dict[str, Any]:
    since, expires = "2026-11-24T02:45:54Z", "2026-11-25T02:45:54Z"
    entries = []
    for p in range(pods):
        slots = [
            {"index": i, "state": "Reserved", "task": f"ci-build-{p:04d}{i:03d}",
             "since": since, "expiresAt": expires}
            for i in range(3)
        ]  # fmt: skip
        entries.append(
            {"name": f"size-{p}", "uid": f"{p:08d}-aaaa-bbbb-cccc-dddddddddddd",
             "state": "Ready", "slots": slots}
        )  # fmt: skip
    return {"pods": entries, "pending": [], "busySlots": 3 * pods, "replicas": pods}


def ledger_size(client: Any, pods: int) -> dict[str, Any]:
    """Write a full ledger of ``pods`` pods and measure what the server stores."""
    from crds import AgentPool

    created = client.create(_pool("size", maxReplicas=200, minReplicas=0))
    stored = client.status().update({**created, "status": _full_ledger(pods)})
    read = client.get(AgentPool, "size", NAMESPACE)
    ledger_bytes = len(json.dumps(read["status"]["pods"], separators=(",", ":")))
    object_bytes = len(json.dumps(read, separators=(",", ":")))
    per_pod = ledger_bytes / pods
    client.delete(stored)
    return {
        "ledger_pods": pods,
        "ledger_bytes": ledger_bytes,
        "object_bytes": object_bytes,
        "ledger_bytes_per_pod": round(per_pod, 1),
        "ceiling_pods_at_1_5_mib": int((OBJECT_LIMIT - object_bytes) / per_pod) + pods,
    }


def _claim_loop(
    kubeconfig: str, pool: str, worker: int, seconds: float, start: Any, out: Any
) -> None:
    from controllers.agentpool.slots import Slots
    from reconcile.client import Client, RestConfig

    slots = Slots(Client(RestConfig.from_kubeconfig(kubeconfig)))
    slots.get(NAMESPACE, pool)  # discovery and a connection, before the clock starts
    start.wait(60)
    claims = 0
    began = time.monotonic()
    while time.monotonic() - began < seconds:
        task = f"w{worker}-{claims}"
        slots.claim(NAMESPACE, pool, task)
        slots.release(NAMESPACE, pool, task)
        claims += 1
    out.put((claims, time.monotonic() - began))


def claimers_main(kubeconfig: str, pool: str, processes: int, seconds: float) -> None:
    """In a single-threaded helper process: fork the claimers, print their total rate."""
    import controllers.agentpool.slots  # noqa: F401  (imported once, before forking)
    import reconcile.client  # noqa: F401

    context = multiprocessing.get_context("fork")
    start, out = context.Barrier(processes), context.Queue()
    workers = [
        context.Process(target=_claim_loop, args=(kubeconfig, pool, i, seconds, start, out))
        for i in range(processes)
    ]
    for worker in workers:
        worker.start()
    results = [out.get(timeout=seconds + 60) for _ in workers]
    for worker in workers:
        worker.join(30)
    claims = sum(count for count, _ in results)
    print(json.dumps({"claims": claims, "seconds": max(took for _, took in results)}))


def claims_per_second(kubeconfig: Path, pool: str, processes: int, seconds: float) -> float:
    result = subprocess.run(
        [sys.executable, __file__, "--claimers", str(processes), "--kubeconfig", str(kubeconfig),
         "--pool", pool, "--seconds", str(seconds)],
        capture_output=True, text=True, timeout=seconds + 120, check=True,
    )  # fmt: skip
    figures = json.loads(result.stdout.strip().splitlines()[-1])
    return float(figures["claims"]) / float(figures["seconds"])


def pending_to_slot(slots: Any, pool: str, rounds: int) -> list[float]:
    """Seconds from a pending claim to its slot on a freshly started pod, per round."""
    from controllers.agentpool.ledger import Pending, SlotRef

    waits = []
    for round_ in range(rounds):
        task = f"latency-{round_}"
        started = time.monotonic()
        first = slots.claim(NAMESPACE, pool, task)
        assert isinstance(first, Pending), f"{task} found a free slot: {first}"
        placed = slots.wait_for_slot(NAMESPACE, pool, task, timeout=60)
        assert isinstance(placed, SlotRef), f"{task} still pending after 60 s"
        waits.append(time.monotonic() - started)
    return waits


def _wait_ready(client: Any, pool: str, count: int) -> None:
    from crds import AgentPool

    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        status = client.get(AgentPool, pool, NAMESPACE).get("status") or {}
        if status.get("readyReplicas") == count:
            return
        time.sleep(0.05)
    raise TimeoutError(f"pool {pool} did not get {count} Ready agents in 60 s")


def run(args: argparse.Namespace) -> dict[str, Any]:
    from controllers.agentpool.slots import Slots
    from controllers.inprocess import install_crds
    from controllers.operators import Operator
    from controllers.run import RunOptions, build_manager
    from reconcile.apiserver import APIServer, ServerOptions
    from reconcile.client import Client, RestConfig
    from reconcile.envtest.kubelet import SimulatedKubelet
    from reconcile.manager import ManagerOptions

    server = APIServer(ServerOptions())
    server.start()
    stop = threading.Event()
    threads: list[threading.Thread] = []
    try:
        with TemporaryDirectory() as workdir:
            kubeconfig = server.write_kubeconfig(Path(workdir) / "kubeconfig")
            config = RestConfig.from_kubeconfig(kubeconfig)
            client = Client(config)
            install_crds(client)
            figures = ledger_size(client, args.pods)
            kubelet = SimulatedKubelet(client, nodes=["node-1", "node-2"], resync=1.0)
            manager = build_manager(
                config,
                RunOptions(manager=ManagerOptions(
                    metrics_bind_address="0", health_probe_bind_address="0",
                    leader_election=False)),
                [Operator.from_package("agentpool", "controllers.agentpool")],
            )  # fmt: skip
            for target in (kubelet.start, manager.start):
                thread = threading.Thread(target=target, args=(stop,), daemon=True)
                thread.start()
                threads.append(thread)
            client.create(_pool("throughput", minReplicas=4, maxReplicas=4, slotsPerAgent=3))
            _wait_ready(client, "throughput", 4)
            for processes in (1, 8):
                rate = claims_per_second(kubeconfig, "throughput", processes, args.seconds)
                figures[f"claims_per_s_{processes}_process{'es' if processes > 1 else ''}"] = round(
                    rate, 1
                )
            client.create(_pool("latency", minReplicas=0, maxReplicas=args.rounds, slotsPerAgent=1))
            waits = pending_to_slot(Slots(client), "latency", args.rounds)
            figures["pending_to_ready_slot_median_s"] = round(statistics.median(waits), 2)
            figures["pending_to_ready_slot_max_s"] = round(max(waits), 2)
            figures["kubelet_resync_s"] = 1.0
    finally:
        stop.set()
        for thread in threads:
            thread.join(15)
        server.stop()
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--pods", type=int, default=100, help="pods in the measured ledger")
    parser.add_argument("--seconds", type=float, default=5.0, help="per throughput run")
    parser.add_argument("--rounds", type=int, default=5, help="pending-claim latency samples")
    parser.add_argument("--claimers", type=int, default=0, help=argparse.SUPPRESS)
    parser.add_argument("--kubeconfig", default="", help=argparse.SUPPRESS)
    parser.add_argument("--pool", default="", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.claimers:
        claimers_main(args.kubeconfig, args.pool, args.claimers, args.seconds)
        return
    figures = run(args)
    for key, value in figures.items():
        print(f"{key}: {value}")
    print(json.dumps(figures))


if __name__ == "__main__":
    main()
