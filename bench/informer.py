"""Informer cache vs the kubernetes package's models, over 10k realistic pods.

Loads N pods (~2 KB each) into the embedded API server, then measures in one run:
time from informer start to synced, RSS growth, time to list all pods from the cache, and
the same initial list decoded into ``kubernetes`` model objects (the comparison).

    .venv/bin/python bench/informer.py [--pods N]
"""

from __future__ import annotations

import argparse
import gc
import json
import threading
import time
from pathlib import Path
from tempfile import TemporaryDirectory
from typing import Any

from kubernetes import client as k8s
from kubernetes import config as k8s_config

from reconcile.apiserver import APIServer, ServerOptions
from reconcile.apiserver.api import WriteOptions
from reconcile.cache import CacheOptions, InformerCache, ReflectorOptions
from reconcile.client import Client, RestConfig
from reconcile.gvk import GroupVersionKind

POD = GroupVersionKind("", "v1", "Pod")


def _rss_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def _pod(i: int) -> dict[str, Any]:
    app = f"app-{i % 50}"
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {
            "name": f"{app}-{i:05d}",
            "labels": {"app": app, "tier": "backend", "pod-template-hash": f"{i % 97:08x}"},
            "annotations": {"kubectl.kubernetes.io/restartedAt": "2026-11-24T00:00:00Z"},
        },
        "spec": {
            "nodeName": f"node-{i % 20}",
            "serviceAccountName": "default",
            "containers": [
                {
                    "name": "main",
                    "image": f"registry.example.com/team/{app}:1.{i % 7}.0",
                    "args": ["--port=8080", "--log-level=info"],
                    "env": [{"name": f"VAR_{k}", "value": f"value-{k}"} for k in range(16)],
                    "ports": [{"containerPort": 8080, "protocol": "TCP"}],
                    "resources": {
                        "requests": {"cpu": "100m", "memory": "128Mi"},
                        "limits": {"memory": "256Mi"},
                    },
                    "volumeMounts": [{"name": "data", "mountPath": "/data"}],
                }
            ],
            "volumes": [{"name": "data", "emptyDir": {}}],
        },
        "status": {
            "phase": "Running",
            "podIP": f"10.0.{i // 250}.{i % 250}",
            "conditions": [
                {"type": t, "status": "True"}
                for t in ("Initialized", "Ready", "ContainersReady", "PodScheduled")
            ],
            "containerStatuses": [
                {
                    "name": "main",
                    "ready": True,
                    "restartCount": i % 3,
                    "image": f"registry.example.com/team/{app}:1.{i % 7}.0",
                    "containerID": f"containerd://{i:064x}",
                    "imageID": f"sha256:{i % 7:064x}",
                    "state": {"running": {"startedAt": "2026-11-24T00:00:00Z"}},
                }
            ],
        },
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pods", type=int, default=10_000)
    args = parser.parse_args()
    server = APIServer(ServerOptions(watch_history=1000))
    server.start()
    assert server.api is not None
    info = server.api.registry.lookup("", "v1", "pods")
    assert info is not None
    sample = json.dumps(_pod(1))
    for i in range(args.pods):
        server.call(server.api.create, info, "default", _pod(i), WriteOptions())
    with TemporaryDirectory() as tmp:
        kubeconfig = server.write_kubeconfig(Path(tmp) / "kc")
        config = RestConfig.from_kubeconfig(kubeconfig, qps=0)

        gc.collect()
        rss_before = _rss_mb()
        stop = threading.Event()
        # The GC tuning a dedicated controller process opts into (off by default).
        options = CacheOptions(reflector=ReflectorOptions(tune_gc=True))
        cache = InformerCache(Client(config), options)
        started = time.perf_counter()
        threading.Thread(target=cache.start, args=(stop,), daemon=True).start()
        informer = cache.get_informer(POD)
        informer.wait_for_sync(120)
        synced = time.perf_counter() - started
        rss_growth = _rss_mb() - rss_before
        started = time.perf_counter()
        listed = cache.list(POD, copy=False)["items"]
        list_time = time.perf_counter() - started
        assert len(listed) == args.pods
        stop.set()

        api = k8s.CoreV1Api(k8s_config.new_client_from_config(config_file=str(kubeconfig)))
        started = time.perf_counter()
        models = api.list_namespaced_pod("default", limit=500)
        count = len(models.items)
        token = getattr(models.metadata, "_continue", None)
        while token:
            page = api.list_namespaced_pod("default", limit=500, _continue=token)
            count += len(page.items)
            token = getattr(page.metadata, "_continue", None)
        models_time = time.perf_counter() - started
        assert count == args.pods

        transport = Client(config).transport
        raw = transport._pool.request("GET", f"{config.host}/api/v1/namespaces/default/pods").data
        # Both decoders with the cyclic GC paused, as the informer's initial list runs.
        gc.disable()
        started = time.perf_counter()
        json.loads(raw)
        decode_json = time.perf_counter() - started
        started = time.perf_counter()
        api.api_client.deserialize(raw.decode(), "V1PodList", "application/json")
        decode_models = time.perf_counter() - started
        gc.enable()
    server.stop()

    figures = {
        "pods": args.pods,
        "pod_json_bytes": len(sample),
        "list_bytes_with_managed_fields": len(raw),
        "informer_sync_s": round(synced, 3),
        "rss_growth_mb": round(rss_growth, 1),
        "list_from_cache_ms": round(list_time * 1000, 2),
        "kubernetes_models_list_s": round(models_time, 3),
        "sync_speedup_vs_models": round(models_time / synced, 1),
        "decode_json_s": round(decode_json, 3),
        "decode_models_s": round(decode_models, 3),
        "decode_speedup_vs_models": round(decode_models / decode_json, 1),
    }
    for name, value in figures.items():
        print(f"{name:28s} {value}")
    print(json.dumps(figures))


if __name__ == "__main__":
    main()
