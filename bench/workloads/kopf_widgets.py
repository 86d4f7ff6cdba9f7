"""The Widget workload, kopf half: the same reconciler written as a kopf operator.

Run by ``bench/compare_kopf.py`` with kopf from the bench's own virtual environment (kopf
is not a dependency of kreconcile), with kopf's default settings:

    KUBECONFIG=... BENCH_WIDGET_GROUP=... BENCH_WIDGET_VERSION=... BENCH_WIDGET_PLURAL=... \\
        python -m kopf run --all-namespaces bench/workloads/kopf_widgets.py

One function handles creation, spec updates and resumption, the usual kopf reconciler. It
writes the ConfigMap with the ``kubernetes`` client (what kopf's documentation uses), trying
the write that usually succeeds first so kopf pays one request per ConfigMap write, and
leaves the status to kopf's ``patch`` (applied when the handler returns, with kopf's own
bookkeeping). On exit it prints one JSON line: ``{"reconciles": N}``.
"""

from __future__ import annotations

import json
import os
import threading
from typing import Any

import kopf  # type: ignore[import-not-found,unused-ignore]
from kubernetes import client, config
from kubernetes.client.exceptions import ApiException

GROUP = os.environ["BENCH_WIDGET_GROUP"]
VERSION = os.environ["BENCH_WIDGET_VERSION"]
PLURAL = os.environ["BENCH_WIDGET_PLURAL"]

_calls = [0]
_lock = threading.Lock()
_api: list[Any] = []


def login(**_: Any) -> None:
    """Load the kubeconfig once for the ConfigMap client (kopf logs in by itself)."""
    config.load_kube_config()
    _api.append(client.CoreV1Api())


def write_configmap(
    name: str, namespace: str, data: dict[str, str], owner: Any, create: bool
) -> None:
    """Create (409: patch) a new Widget's ConfigMap, or patch (404: create) an existing one's."""
    api = _api[0]
    manifest: dict[str, Any] = {"metadata": {"name": name, "namespace": namespace}, "data": data}
    kopf.adopt(manifest, owner=owner)
    attempts = ("create", "patch") if create else ("patch", "create")
    for attempt in attempts:
        try:
            if attempt == "create":
                api.create_namespaced_config_map(namespace, manifest)
            else:
                api.patch_namespaced_config_map(name, namespace, {"data": data})
        except ApiException as error:
            if error.status in (404, 409) and attempt == attempts[0]:
                continue
            raise
        return


def reconcile_widget(
    spec: Any, meta: Any, name: str, namespace: str, body: Any, patch: Any, reason: str, **_: Any
) -> None:
    """ConfigMap first, then status: a reader that sees the status knows both are done."""
    with _lock:
        _calls[0] += 1
    value = int(spec.get("value", 0))
    write_configmap(name, namespace, {"value": str(value)}, body, create=reason == "create")
    patch.status["observedValue"] = value
    patch.status["observedGeneration"] = meta.get("generation")


def report(**_: Any) -> None:
    print(json.dumps({"reconciles": _calls[0]}), flush=True)


kopf.on.startup()(login)
kopf.on.cleanup()(report)
for register in (kopf.on.create, kopf.on.update, kopf.on.resume):
    register(GROUP, VERSION, PLURAL)(reconcile_widget)
