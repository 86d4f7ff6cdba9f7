"""Controller costs: no-op reconcile rates, import and idle-manager footprint, CPU per patch.

1. A no-op reconciler over N objects: reconciles per second with 1, 4 and 8 workers. Each
   reconcile reads its object from the cache (as real reconcilers do) and returns. The
   embedded server's raw GET rate (4 threads, HTTP) is measured in the same run, since a
   reconciler that talks to the server can never beat it.
2. What a user pays before and while reconciling, each from a fresh child interpreter so
   imports and CPU time are the child's own:
   - ``import reconcile`` and ``from reconcile import Manager, ControllerBuilder``: wall time
     of the import and the process RSS after it;
   - a manager with one controller over an empty cache, against an API server in another
     process: wall time from the first import to the first reconcile, and RSS then;
   - a status-patching reconciler at default settings (default ``RestConfig``, one worker):
     M Widgets whose controller copies ``spec.value`` into ``status.value``; CPU seconds of
     the controller process per patched object and per reconcile, and the time to converge.

    .venv/bin/python bench/controller.py [--objects N] [--status-objects M]
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import subprocess
import sys
import threading
import time
from pathlib import Path
from tempfile import TemporaryDirectory
from typing import TYPE_CHECKING, Any
from urllib.parse import urlparse

if TYPE_CHECKING:
    from reconcile.client import DelegatingClient
    from reconcile.reconciler import Request, Result

WIDGET_CRD: dict[str, Any] = {
    "apiVersion": "apiextensions.k8s.io/v1",
    "kind": "CustomResourceDefinition",
    "metadata": {"name": "widgets.bench.example.com"},
    "spec": {
        "group": "bench.example.com",
        "names": {"kind": "Widget", "plural": "widgets", "singular": "widget"},
        "scope": "Namespaced",
        "versions": [
            {
                "name": "v1",
                "served": True,
                "storage": True,
                "subresources": {"status": {}},
                "schema": {
                    "openAPIV3Schema": {
                        "type": "object",
                        "properties": {
                            "spec": {"type": "object", "properties": {"value": {"type": "string"}}},
                            "status": {
                                "type": "object",
                                "properties": {"value": {"type": "string"}},
                            },
                        },
                    }
                },
            }
        ],
    },
}

_IMPORT_CODE = """
import json, time
started = time.perf_counter()
{statement}
elapsed = time.perf_counter() - started
rss = 0.0
for line in open("/proc/self/status"):
    if line.startswith("VmRSS:"):
        rss = int(line.split()[1]) / 1024
print(json.dumps({{"seconds": elapsed, "rss_mb": rss}}))
"""


def _rss_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def _cpu_seconds() -> float:
    times = os.times()
    return times.user + times.system


def _child(args: list[str], timeout: float = 600) -> dict[str, Any]:
    output = subprocess.run(
        [sys.executable, *args], capture_output=True, text=True, timeout=timeout, check=True
    ).stdout
    result: dict[str, Any] = json.loads(output.strip().splitlines()[-1])
    return result


def import_figures() -> dict[str, float]:
    figures: dict[str, float] = {}
    statements = {
        "python": "pass",
        "import_reconcile": "import reconcile",
        "import_manager_builder": "from reconcile import ControllerBuilder, Manager",
    }
    for name, statement in statements.items():
        result = _child(["-c", _IMPORT_CODE.format(statement=statement)])
        figures[f"{name}_rss_mb"] = result["rss_mb"]
        if name != "python":
            figures[f"{name}_s"] = result["seconds"]
    return figures


def _manager_child(kubeconfig: str) -> None:
    """An idle manager: one controller, an empty cache; report time to the first reconcile."""
    started = time.perf_counter()

    from reconcile import ControllerBuilder, Manager, ManagerOptions, Result
    from reconcile.cache import CacheOptions
    from reconcile.gvk import GroupVersionKind
    from reconcile.handler import EnqueueRequestForObject
    from reconcile.source import Channel

    reconciled = threading.Event()

    class Idle:
        def reconcile(self, request: Request) -> Result:
            reconciled.set()
            return Result()

    options = ManagerOptions(
        metrics_bind_address="0",
        health_probe_bind_address="0",
        cache=CacheOptions(namespace="bench-empty"),
    )
    manager = Manager.from_kubeconfig(kubeconfig, options)
    channel = Channel(EnqueueRequestForObject())
    builder = ControllerBuilder(manager).for_(GroupVersionKind("", "v1", "ConfigMap"))
    builder.watches(channel).complete(Idle())
    stop = threading.Event()
    thread = threading.Thread(target=manager.start, args=(stop,))
    thread.start()
    channel.send({"metadata": {"name": "tick", "namespace": "bench-empty"}})
    reconciled.wait(60)
    seconds = time.perf_counter() - started
    rss = _rss_mb()
    stop.set()
    thread.join(30)
    print(json.dumps({"seconds": seconds, "rss_mb": rss}))


def _status_child(kubeconfig: str, objects: int) -> None:
    """Default settings: copy spec.value into status.value for every Widget."""

    from reconcile import ControllerBuilder, Manager, ManagerOptions, Result
    from reconcile.errors import NotFound
    from reconcile.gvk import GroupVersionKind

    widget = GroupVersionKind("bench.example.com", "v1", "Widget")
    manager = Manager.from_kubeconfig(
        kubeconfig, ManagerOptions(metrics_bind_address="0", health_probe_bind_address="0")
    )
    lock = threading.Lock()
    patched: set[str] = set()
    reconciles = [0]
    done = threading.Event()
    client = manager.client

    class CopyValue:
        def reconcile(self, request: Request) -> Result:
            with lock:
                reconciles[0] += 1
            try:
                obj = client.get(widget, request.name, request.namespace)
            except NotFound:
                return Result()
            value = (obj.get("spec") or {}).get("value")
            if (obj.get("status") or {}).get("value") != value:
                client.status().patch(obj, {"status": {"value": value}})
                with lock:
                    patched.add(request.name)
                    if len(patched) == objects:
                        done.set()
            return Result()

    ControllerBuilder(manager).for_(widget).complete(CopyValue())
    stop = threading.Event()
    cpu = _cpu_seconds()
    started = time.perf_counter()
    thread = threading.Thread(target=manager.start, args=(stop,))
    thread.start()
    converged = done.wait(900)
    seconds = time.perf_counter() - started
    used = _cpu_seconds() - cpu
    stop.set()
    thread.join(30)
    print(
        json.dumps(
            {
                "converged": converged,
                "seconds": seconds,
                "cpu_s": used,
                "reconciles": reconciles[0],
            }
        )
    )


def _serve(directory: Path) -> tuple[subprocess.Popen[bytes], str]:
    kubeconfig = directory / "kubeconfig"
    process = subprocess.Popen(
        [sys.executable, "-m", "controllers.cli", "apiserver", "--kubeconfig", str(kubeconfig)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 60
    while not kubeconfig.exists():
        if time.monotonic() > deadline or process.poll() is not None:
            process.kill()
            raise RuntimeError("the API server did not write its kubeconfig within 60 s")
        time.sleep(0.05)
    return process, str(kubeconfig)


def _seed_widgets(kubeconfig: str, objects: int) -> None:
    from reconcile.client import Client, RestConfig
    from reconcile.gvk import GroupVersionKind

    client = Client(RestConfig.from_kubeconfig(kubeconfig, qps=-1))
    client.create(WIDGET_CRD)
    deadline = time.monotonic() + 30
    while True:
        try:
            client.mapping(GroupVersionKind("bench.example.com", "v1", "Widget"))
            break
        except Exception:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.1)
    for i in range(objects):
        client.create(
            {
                "apiVersion": "bench.example.com/v1",
                "kind": "Widget",
                "metadata": {"name": f"w-{i:05d}", "namespace": "default"},
                "spec": {"value": f"v{i}"},
            }
        )


def footprint(objects: int) -> dict[str, float]:
    """Every figure of this module, measured against a server in its own process."""
    figures = import_figures()
    script = str(Path(__file__).resolve())
    with TemporaryDirectory() as tmp:
        server, kubeconfig = _serve(Path(tmp))
        try:
            idle = _child([script, "--child", "manager", kubeconfig])
            figures["manager_one_controller_start_s"] = idle["seconds"]
            figures["manager_one_controller_rss_mb"] = idle["rss_mb"]
            _seed_widgets(kubeconfig, objects)
            run = _child([script, "--child", "status", kubeconfig, str(objects)], timeout=1200)
            if not run["converged"]:
                raise RuntimeError(f"status patches did not converge: {run}")
            figures["status_patch_objects"] = objects
            figures["status_patch_seconds"] = run["seconds"]
            figures["status_patch_cpu_s_per_object"] = run["cpu_s"] / objects
            figures["status_patch_cpu_s_per_reconcile"] = run["cpu_s"] / run["reconciles"]
        finally:
            server.terminate()
            server.wait(30)
    return figures


class Counting:
    def __init__(self, client: DelegatingClient, target: int) -> None:
        self.client = client
        self.target = target
        self.count = 0
        self.lock = threading.Lock()
        self.done = threading.Event()

    def reconcile(self, request: Request) -> Result:
        from reconcile.gvk import GroupVersionKind
        from reconcile.reconciler import Result

        self.client.get(GroupVersionKind("", "v1", "ConfigMap"), request.name, request.namespace)
        with self.lock:
            self.count += 1
            if self.count == self.target:
                self.done.set()
        return Result()


def raw_get_rate(url: str, names: list[str], threads: int = 4) -> float:
    parsed = urlparse(url)

    def work(chunk: list[str]) -> None:
        conn = http.client.HTTPConnection(parsed.hostname or "", parsed.port, timeout=30)
        for name in chunk:
            conn.request("GET", f"/api/v1/namespaces/default/configmaps/{name}")
            conn.getresponse().read()
        conn.close()

    pool = [threading.Thread(target=work, args=(names[i::threads],)) for i in range(threads)]
    started = time.perf_counter()
    for thread in pool:
        thread.start()
    for thread in pool:
        thread.join()
    return len(names) / (time.perf_counter() - started)


def noop_figures(objects: int) -> dict[str, float]:
    """Section 1: no-op reconciles against the server in this process."""
    from reconcile.apiserver import APIServer, ServerOptions
    from reconcile.apiserver.api import WriteOptions
    from reconcile.cache import CacheOptions, InformerCache
    from reconcile.client import Client, DelegatingClient, RestConfig
    from reconcile.controller import Controller, ControllerOptions
    from reconcile.gvk import GroupVersionKind
    from reconcile.handler import EnqueueRequestForObject
    from reconcile.source import Kind

    configmap = GroupVersionKind("", "v1", "ConfigMap")
    server = APIServer(ServerOptions(insecure_http=True))  # raw gets below are plain HTTP
    server.start()
    assert server.api is not None
    info = server.api.registry.lookup("", "v1", "configmaps")
    assert info is not None
    names = [f"cm-{i:05d}" for i in range(objects)]
    for name in names:
        server.call(
            server.api.create,
            info,
            "default",
            {"metadata": {"name": name}, "data": {"k": "v"}},
            WriteOptions(),
        )
    figures: dict[str, float] = {}
    with TemporaryDirectory() as tmp:
        config = RestConfig.from_kubeconfig(server.write_kubeconfig(Path(tmp) / "kc"), qps=0)
        figures["raw_get_per_s"] = raw_get_rate(server.url, names[:3000])
        client = Client(config)
        cache = InformerCache(client, CacheOptions())
        stop = threading.Event()
        cache_thread = threading.Thread(target=cache.start, args=(stop,), daemon=True)
        cache_thread.start()
        cache.get_informer(configmap).wait_for_sync(60)
        reader = DelegatingClient(client, cache)
        for workers in (1, 4, 8):
            reconciler = Counting(reader, objects)
            controller = Controller(
                f"bench-{workers}",
                reconciler,
                sources=[Kind(cache, configmap, EnqueueRequestForObject())],
                options=ControllerOptions(
                    max_concurrent_reconciles=workers, need_leader_election=False
                ),
            )
            controller_stop = threading.Event()
            started = time.perf_counter()
            thread = threading.Thread(target=controller.start, args=(controller_stop,))
            thread.start()
            reconciler.done.wait(300)
            figures[f"reconciles_per_s_{workers}_workers"] = objects / (
                time.perf_counter() - started
            )
            controller_stop.set()
            thread.join()
        stop.set()
        cache_thread.join(30)
    server.stop()
    for workers in (1, 4, 8):
        rate = figures[f"reconciles_per_s_{workers}_workers"]
        figures[f"ratio_to_raw_get_{workers}_workers"] = rate / figures["raw_get_per_s"]
    return figures


def main(argv: list[str]) -> None:
    if argv[:2] == ["--child", "manager"]:
        _manager_child(argv[2])
        return
    if argv[:2] == ["--child", "status"]:
        _status_child(argv[2], int(argv[3]))
        return
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--objects", type=int, default=10_000)
    parser.add_argument("--status-objects", type=int, default=1000)
    args = parser.parse_args(argv)
    figures = {
        "objects": float(args.objects),
        **noop_figures(args.objects),
        **footprint(args.status_objects),
    }
    for name, value in figures.items():
        print(f"{name:40s} {value:14,.4f}")
    print(json.dumps({k: round(v, 4) for k, v in figures.items()}))


if __name__ == "__main__":
    main(sys.argv[1:])
