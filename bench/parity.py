"""Three controller-runtime parity figures, each measured in fresh child processes.

1. RSS of an informer cache of N Secrets (~2.5 KB each): full objects vs metadata only
   (``PartialObjectMetadata``). The embedded server sends whole objects either way; the
   saving is what the cache keeps.
2. Change-to-reconcile latency while the initial list of N ConfigMaps is still queued
   (each reconcile does ~0.5 ms of work): the last ConfigMap in list order is changed right
   after the controller starts, with the priority queue (the default) and with FIFO.
3. Failover to first reconcile with N ConfigMaps: a standby manager waits while another
   identity holds the Lease; the Lease is released and the time to the standby's first
   reconcile is measured, with and without ``enable_warmup``.

    .venv/bin/python bench/parity.py [--objects N]
"""

from __future__ import annotations

import argparse
import base64
import gc
import json
import subprocess
import sys
import threading
import time
from pathlib import Path
from tempfile import TemporaryDirectory
from typing import Any

from reconcile.apiserver import APIServer, ServerOptions
from reconcile.apiserver.api import WriteOptions
from reconcile.builder import ControllerBuilder
from reconcile.cache import CacheOptions, InformerCache
from reconcile.client import Client, RestConfig, ignore_not_found
from reconcile.controller import Controller, ControllerOptions
from reconcile.gvk import GroupVersionKind, PartialObjectMetadata
from reconcile.handler import EnqueueRequestForObject
from reconcile.manager import Manager, ManagerOptions
from reconcile.reconciler import ReconcilerFunc, Request, Result
from reconcile.source import Kind

SECRET = GroupVersionKind("", "v1", "Secret")
CONFIG_MAP = GroupVersionKind("", "v1", "ConfigMap")
LEASE = GroupVersionKind("coordination.k8s.io", "v1", "Lease")
WORK_S = 0.0005
"""Simulated work per reconcile in the priority scenario."""


def _rss_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def _pem_base64(label: str, size: int) -> str:
    """Secret data as the API carries it: base64 of a PEM-looking block of ``size`` bytes."""
    header = f"-----BEGIN {label}-----\n".encode()
    return base64.b64encode(header + b"A" * (size - len(header))).decode()


def _secret(i: int) -> dict[str, Any]:
    return {
        "metadata": {
            "name": f"tls-{i:05d}",
            "labels": {"app": f"app-{i % 50}", "kreconcile.io/managed": "true"},
            "annotations": {"cert-manager.io/issuer-name": "letsencrypt"},
        },
        "type": "kubernetes.io/tls",
        "data": {
            "tls.crt": _pem_base64("CERTIFICATE", 1050),
            "tls.key": _pem_base64("PRIVATE KEY", 675),
        },
    }


def _config_map(i: int) -> dict[str, Any]:
    return {"metadata": {"name": f"cm-{i:05d}", "labels": {"app": f"app-{i % 50}"}},
            "data": {"generation": "1"}}  # fmt: skip


def _populate(
    server: APIServer, resource: str, namespace: str, objects: list[dict[str, Any]]
) -> None:
    assert server.api is not None
    info = server.api.registry.lookup("", "v1", resource)
    namespaces = server.api.registry.lookup("", "v1", "namespaces")
    assert info is not None and namespaces is not None
    server.call(
        server.api.create, namespaces, "", {"metadata": {"name": namespace}}, WriteOptions()
    )
    for obj in objects:
        server.call(server.api.create, info, namespace, obj, WriteOptions())


# children


def _child_rss(kubeconfig: str, variant: str, objects: int) -> dict[str, Any]:
    client = Client(RestConfig.from_kubeconfig(kubeconfig))
    client.mapping(SECRET)
    gc.collect()
    before = _rss_mb()
    cache = InformerCache(client, CacheOptions(namespace="secrets", sync_period=None))
    stop = threading.Event()
    threading.Thread(target=cache.start, args=(stop,), daemon=True).start()
    kind = PartialObjectMetadata(SECRET) if variant == "metadata" else SECRET
    started = time.perf_counter()
    informer = cache.get_informer(kind)
    assert informer.wait_for_sync(300)
    synced = time.perf_counter() - started
    assert len(informer.store) == objects
    gc.collect()
    after = _rss_mb()
    stop.set()
    return {"rss_growth_mb": round(after - before, 1), "sync_s": round(synced, 3)}


def _child_priority(kubeconfig: str, variant: str, objects: int) -> dict[str, Any]:
    client = Client(RestConfig.from_kubeconfig(kubeconfig))
    cache = InformerCache(client, CacheOptions(namespace="priority", sync_period=None))
    target = f"cm-{objects - 1:05d}"
    changed_at: list[float] = []
    seen_at: list[float] = []
    done = threading.Event()
    processed = [0]

    def reconcile(request: Request) -> Result:
        processed[0] += 1
        time.sleep(WORK_S)  # the reconcile's own work, simulated
        if request.name == target and changed_at:
            current = cache.get(CONFIG_MAP, request.name, request.namespace, copy=False)
            if current["data"]["generation"] == "2" and not seen_at:
                seen_at.append(time.perf_counter())
                done.set()
        return Result()

    controller = Controller(
        "priority",
        ReconcilerFunc(reconcile),
        sources=[Kind(cache, CONFIG_MAP, EnqueueRequestForObject())],
        options=ControllerOptions(use_priority_queue=variant == "priority"),
    )
    stop = threading.Event()
    threading.Thread(target=cache.start, args=(stop,), daemon=True).start()
    threading.Thread(target=controller.start, args=(stop,), daemon=True).start()
    while processed[0] == 0:
        time.sleep(0.001)
    backlog = len(controller.queue)
    changed = client.get(CONFIG_MAP, target, "priority")
    changed["data"]["generation"] = "2"
    changed_at.append(time.perf_counter())
    client.update(changed)
    assert done.wait(600)
    stop.set()
    return {
        "change_to_reconcile_s": round(seen_at[0] - changed_at[0], 3),
        "backlog_when_changed": backlog,
    }


def _child_failover(kubeconfig: str, variant: str, objects: int) -> dict[str, Any]:
    manager = Manager(
        RestConfig.from_kubeconfig(kubeconfig),
        ManagerOptions(
            metrics_bind_address="0",
            health_probe_bind_address="0",
            cache=CacheOptions(namespace="failover", sync_period=None),
            leader_election=True,
            leader_election_id="parity-bench",
            leader_election_namespace="failover",
            lease_duration=2.0,
            renew_deadline=1.5,
            retry_period=0.1,
        ),
    )
    first: list[float] = []
    reconciled = threading.Event()

    def reconcile(request: Request) -> Result:
        if not first:
            first.append(time.perf_counter())
            reconciled.set()
        return Result()

    (
        ControllerBuilder(manager)
        .for_(CONFIG_MAP)
        .with_options(enable_warmup=variant == "warm")
        .complete(ReconcilerFunc(reconcile))
    )
    stop = threading.Event()
    threading.Thread(target=manager.start, args=(stop,), daemon=True).start()
    while manager.elector is None or manager.elector.leader != "the-old-leader":
        time.sleep(0.01)
    if variant == "warm":
        informer = manager.cache.get_informer(CONFIG_MAP)
        assert informer.wait_for_sync(300)
    lease = manager.api_reader.get(LEASE, "parity-bench", "failover")
    released = time.perf_counter()
    manager.api_reader.delete(lease)  # the old leader steps down and releases the Lease
    assert reconciled.wait(600)
    stop.set()
    return {"failover_to_first_reconcile_s": round(first[0] - released, 3)}


CHILDREN = {"rss": _child_rss, "priority": _child_priority, "failover": _child_failover}


def _run_child(kubeconfig: Path, scenario: str, variant: str, objects: int) -> dict[str, Any]:
    out = subprocess.run(
        [sys.executable, __file__, "--child", scenario, "--variant", variant,
         "--kubeconfig", str(kubeconfig), "--objects", str(objects)],
        capture_output=True, text=True, check=True, timeout=1800,
    ).stdout  # fmt: skip
    result: dict[str, Any] = json.loads(out.strip().splitlines()[-1])
    return result


def _hold_lease(client: Client) -> None:
    """Another identity holds the Lease (replacing what a previous run left)."""
    with ignore_not_found():
        client.delete(
            {"apiVersion": "coordination.k8s.io/v1", "kind": "Lease",
             "metadata": {"name": "parity-bench", "namespace": "failover"}}
        )  # fmt: skip
    client.create(
        {"apiVersion": "coordination.k8s.io/v1", "kind": "Lease",
         "metadata": {"name": "parity-bench", "namespace": "failover"},
         "spec": {"holderIdentity": "the-old-leader", "leaseDurationSeconds": 3600,
                  "acquireTime": "2026-01-01T00:00:00.000000Z",
                  "renewTime": "2026-01-01T00:00:00.000000Z", "leaseTransitions": 0}}
    )  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--objects", type=int, default=10_000)
    parser.add_argument("--child", choices=sorted(CHILDREN))
    parser.add_argument("--variant", default="")
    parser.add_argument("--kubeconfig", default="")
    args = parser.parse_args()
    if args.child:
        print(json.dumps(CHILDREN[args.child](args.kubeconfig, args.variant, args.objects)))
        return
    server = APIServer(ServerOptions(watch_history=1000))
    server.start()
    figures: dict[str, Any] = {"objects": args.objects}
    with TemporaryDirectory() as tmp:
        kubeconfig = server.write_kubeconfig(Path(tmp) / "kc")
        client = Client(RestConfig.from_kubeconfig(kubeconfig))
        started = time.perf_counter()
        _populate(server, "secrets", "secrets", [_secret(i) for i in range(args.objects)])
        _populate(server, "configmaps", "priority", [_config_map(i) for i in range(args.objects)])
        _populate(server, "configmaps", "failover", [_config_map(i) for i in range(args.objects)])
        print(f"populated {3 * args.objects} objects in {time.perf_counter() - started:.1f}s")
        for variant in ("full", "metadata"):
            result = _run_child(kubeconfig, "rss", variant, args.objects)
            print(f"secrets cache {variant:8s} {result}", flush=True)
            figures[f"secrets_rss_{variant}_mb"] = result["rss_growth_mb"]
        figures["secrets_rss_metadata_vs_full"] = round(
            figures["secrets_rss_metadata_mb"] / figures["secrets_rss_full_mb"], 3
        )
        for variant in ("priority", "fifo"):
            result = _run_child(kubeconfig, "priority", variant, args.objects)
            print(f"change while list queued, {variant:8s} {result}", flush=True)
            figures[f"change_to_reconcile_{variant}_s"] = result["change_to_reconcile_s"]
            figures[f"backlog_{variant}"] = result["backlog_when_changed"]
        for variant in ("warm", "cold"):
            _hold_lease(client)
            result = _run_child(kubeconfig, "failover", variant, args.objects)
            print(f"failover {variant:4s} {result}", flush=True)
            figures[f"failover_to_first_reconcile_{variant}_s"] = result[
                "failover_to_first_reconcile_s"
            ]
    server.stop()
    print(json.dumps(figures))


if __name__ == "__main__":
    main()
