"""A no-op reconciler over N objects: reconciles per second with 1, 4 and 8 workers.

Each reconcile reads its object from the cache (as real reconcilers do) and returns.
The embedded server's raw GET rate (4 threads, HTTP) is measured in the same run, since
a reconciler that talks to the server can never beat it.

    .venv/bin/python bench/controller.py [--objects N]
"""

from __future__ import annotations

import argparse
import http.client
import json
import threading
import time
from pathlib import Path
from tempfile import TemporaryDirectory
from urllib.parse import urlparse

from reconcile.apiserver import APIServer, ServerOptions
from reconcile.apiserver.api import WriteOptions
from reconcile.cache import CacheOptions, InformerCache
from reconcile.client import Client, DelegatingClient, RestConfig
from reconcile.controller import Controller, ControllerOptions
from reconcile.gvk import GroupVersionKind
from reconcile.handler import EnqueueRequestForObject
from reconcile.reconciler import Request, Result
from reconcile.source import Kind

CONFIGMAP = GroupVersionKind("", "v1", "ConfigMap")


class Counting:
    def __init__(self, client: DelegatingClient, target: int) -> None:
        self.client = client
        self.target = target
        self.count = 0
        self.lock = threading.Lock()
        self.done = threading.Event()

    def reconcile(self, request: Request) -> Result:
        self.client.get(CONFIGMAP, request.name, request.namespace)
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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--objects", type=int, default=10_000)
    args = parser.parse_args()
    server = APIServer(ServerOptions(insecure_http=True))  # raw gets below are plain HTTP
    server.start()
    assert server.api is not None
    info = server.api.registry.lookup("", "v1", "configmaps")
    assert info is not None
    names = [f"cm-{i:05d}" for i in range(args.objects)]
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
        threading.Thread(target=cache.start, args=(stop,), daemon=True).start()
        cache.get_informer(CONFIGMAP).wait_for_sync(60)
        reader = DelegatingClient(client, cache)
        for workers in (1, 4, 8):
            reconciler = Counting(reader, args.objects)
            controller = Controller(
                f"bench-{workers}",
                reconciler,
                sources=[Kind(cache, CONFIGMAP, EnqueueRequestForObject())],
                options=ControllerOptions(
                    max_concurrent_reconciles=workers, need_leader_election=False
                ),
            )
            controller_stop = threading.Event()
            started = time.perf_counter()
            thread = threading.Thread(target=controller.start, args=(controller_stop,))
            thread.start()
            reconciler.done.wait(300)
            figures[f"reconciles_per_s_{workers}_workers"] = args.objects / (
                time.perf_counter() - started
            )
            controller_stop.set()
            thread.join()
        stop.set()
    server.stop()
    for workers in (1, 4, 8):
        rate = figures[f"reconciles_per_s_{workers}_workers"]
        figures[f"ratio_to_raw_get_{workers}_workers"] = rate / figures["raw_get_per_s"]
    for name, value in figures.items():
        print(f"{name:32s} {value:12,.2f}")
    print(json.dumps({"objects": args.objects, **{k: round(v, 2) for k, v in figures.items()}}))


if __name__ == "__main__":
    main()
