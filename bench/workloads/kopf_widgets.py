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


class WidgetOperator:
    """The handlers and the little state they share (a client, a call count)."""

    def __init__(self) -> None:
        self.calls = 0
        self._lock = threading.Lock()
        self._api: Any = None

    def login(self, **_: Any) -> None:
        """Load the kubeconfig once for the ConfigMap client (kopf logs in by itself)."""
        config.load_kube_config()
        self._api = client.CoreV1Api()

    def reconcile(
        self, spec: Any, meta: Any, name: str, namespace: str, body: Any, patch: Any,
        reason: str, **_: Any,
    ) -> None:  # fmt: skip
        """ConfigMap first, then status: a reader that sees the status knows both are done."""
        with self._lock:
            self.calls += 1
        value = int(spec.get("value", 0))
        self._write_configmap(name, namespace, {"value": str(value)}, body, reason == "create")
        patch.status["observedValue"] = value
        patch.status["observedGeneration"] = meta.get("generation")

    def report(self, **_: Any) -> None:
        print(json.dumps({"reconciles": self.calls}), flush=True)

    def _write_configmap(
        self, name: str, namespace: str, data: dict[str, str], owner: Any, create: bool
    ) -> None:
        """Create (409: patch) a new Widget's ConfigMap, or patch (404: create) an existing one."""
        manifest: dict[str, Any] = {
            "metadata": {"name": name, "namespace": namespace},
            "data": data,
        }
        kopf.adopt(manifest, owner=owner)
        attempts = ("create", "patch") if create else ("patch", "create")
        for attempt in attempts:
            try:
                if attempt == "create":
                    self._api.create_namespaced_config_map(namespace, manifest)
                else:
                    self._api.patch_namespaced_config_map(name, namespace, {"data": data})
            except ApiException as error:
                if error.status in (404, 409) and attempt == attempts[0]:
                    continue
                raise
            return


OPERATOR = WidgetOperator()
kopf.on.startup()(OPERATOR.login)
kopf.on.cleanup()(OPERATOR.report)
for register in (kopf.on.create, kopf.on.update, kopf.on.resume):
    register(GROUP, VERSION, PLURAL)(OPERATOR.reconcile)
