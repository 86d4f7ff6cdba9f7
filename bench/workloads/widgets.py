"""The Widget workload, kreconcile half: a CRD, its reconciler and the operator process.

For every Widget (``bench.kreconcile.io/v1``) the reconciler reads the object from the
cache, creates or updates a ConfigMap of the same name holding ``spec.value`` (owned by
the Widget), then patches ``status.observedValue`` and ``status.observedGeneration``. The
status is written last, so a driver that sees it knows the ConfigMap is in step too.

The operator runs with the framework's defaults (``ControllerBuilder`` with ``for_`` and
``owns``, one worker, the client's default rate limit); only its metrics and probe ports
are moved to free loopback ports so several copies can run on one machine. ``--workers``
sets the controller's concurrent reconciles (default 1, controller-runtime's); ``--qps``
overrides the client rate limit for comparisons made while the default limits it.

    python -m bench.workloads.widgets --kubeconfig KUBECONFIG [--workers W] [--qps Q]

On SIGTERM it stops gracefully and prints one JSON line: ``{"reconciles": N}``.
"""

from __future__ import annotations

import argparse
import json
import threading
import time
from typing import Any

from reconcile.builder import ControllerBuilder
from reconcile.client import Client, RestConfig
from reconcile.client.restmapper import NoKindMatch
from reconcile.controllerutil import create_or_update, set_controller_reference
from reconcile.errors import NotFound
from reconcile.gvk import GroupVersionKind
from reconcile.log import setup_logging
from reconcile.manager import Manager, ManagerOptions
from reconcile.reconciler import Request, Result

GROUP = "bench.kreconcile.io"
VERSION = "v1"
PLURAL = "widgets"
WIDGET = GroupVersionKind(GROUP, VERSION, "Widget")
CONFIGMAP = GroupVersionKind("", "v1", "ConfigMap")
NAMESPACE = "default"

WIDGET_CRD: dict[str, Any] = {
    "apiVersion": "apiextensions.k8s.io/v1",
    "kind": "CustomResourceDefinition",
    "metadata": {"name": f"{PLURAL}.{GROUP}"},
    "spec": {
        "group": GROUP,
        "names": {"kind": "Widget", "plural": PLURAL, "singular": "widget"},
        "scope": "Namespaced",
        "versions": [
            {
                "name": VERSION,
                "served": True,
                "storage": True,
                "subresources": {"status": {}},
                "schema": {
                    "openAPIV3Schema": {
                        "type": "object",
                        "properties": {
                            "spec": {
                                "type": "object",
                                "properties": {"value": {"type": "integer"}},
                            },
                            # Open so kopf can keep its own progress under status.kopf.
                            "status": {
                                "type": "object",
                                "x-kubernetes-preserve-unknown-fields": True,
                                "properties": {
                                    "observedValue": {"type": "integer"},
                                    "observedGeneration": {"type": "integer"},
                                },
                            },
                        },
                    }
                },
            }
        ],
    },
}


def install_crd(client: Client, timeout: float = 30.0) -> None:
    """Create the Widget CRD and wait until the server serves the kind."""
    client.create(WIDGET_CRD)
    deadline = time.monotonic() + timeout
    while True:
        try:
            client.list(WIDGET, namespace=NAMESPACE, limit=1)
            return
        except NoKindMatch:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.1)


def widget(name: str, value: int, namespace: str = NAMESPACE) -> dict[str, Any]:
    """A Widget manifest with ``spec.value``."""
    return {
        "apiVersion": f"{GROUP}/{VERSION}",
        "kind": "Widget",
        "metadata": {"name": name, "namespace": namespace},
        "spec": {"value": value},
    }


def configmap_data(value: int) -> dict[str, str]:
    """What the ConfigMap of a Widget with ``spec.value == value`` holds (both operators)."""
    return {"value": str(value)}


class WidgetReconciler:
    """Keeps each Widget's ConfigMap and status in step with ``spec.value``."""

    def __init__(self, client: Any) -> None:
        self.client = client
        self._count = 0
        self._lock = threading.Lock()

    @property
    def reconciles(self) -> int:
        """Reconcile calls so far, whatever their outcome."""
        return self._count

    def reconcile(self, request: Request) -> Result:
        with self._lock:
            self._count += 1
        try:
            current = self.client.get(WIDGET, request.name, request.namespace)
        except NotFound:
            return Result()  # deleted: garbage collection removes the ConfigMap
        value = (current.get("spec") or {}).get("value", 0)
        target = {
            "apiVersion": "v1",
            "kind": "ConfigMap",
            "metadata": {"name": request.name, "namespace": request.namespace},
        }

        def mutate(config: dict[str, Any]) -> None:
            config["data"] = configmap_data(value)
            set_controller_reference(current, config)

        create_or_update(self.client, target, mutate)
        observed = {"observedValue": value, "observedGeneration": current["metadata"]["generation"]}
        status = current.get("status") or {}
        if any(status.get(key) != wanted for key, wanted in observed.items()):
            self.client.status().patch(current, {"status": observed})
        return Result()


def setup(manager: Manager, workers: int | None = None) -> WidgetReconciler:
    """Register the Widget controller (``for_(Widget).owns(ConfigMap)``) with ``manager``,
    with ``workers`` concurrent reconciles (None: the controller's default)."""
    reconciler = WidgetReconciler(manager.client)
    builder = ControllerBuilder(manager).for_(WIDGET).owns(CONFIGMAP)
    if workers is not None:
        builder = builder.with_options(max_concurrent_reconciles=workers)
    builder.complete(reconciler)
    return reconciler


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--kubeconfig", required=True, help="kubeconfig of the API server")
    parser.add_argument(
        "--qps",
        type=float,
        default=None,
        help="client requests per second (0: unlimited); default: the framework's default",
    )
    parser.add_argument(
        "--workers",
        type=int,
        default=None,
        help="concurrent reconciles; default: the controller's default (1)",
    )
    args = parser.parse_args(argv)
    setup_logging()
    limits = {} if args.qps is None else {"qps": args.qps}
    manager = Manager(
        RestConfig.from_kubeconfig(args.kubeconfig, **limits),
        ManagerOptions(metrics_bind_address="127.0.0.1:0", health_probe_bind_address="127.0.0.1:0"),
    )
    reconciler = setup(manager, args.workers)
    code = manager.run()
    print(json.dumps({"reconciles": reconciler.reconciles}), flush=True)
    return code


if __name__ == "__main__":
    raise SystemExit(main())
