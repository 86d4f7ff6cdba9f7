"""Example: keep a ConfigMap in step with each Widget (``example.com/v1``).

For every Widget ``w``, a ConfigMap ``w-config`` holds ``size`` and ``color`` from the
Widget's spec and is owned by it, so deleting the Widget deletes the ConfigMap and any
change to the ConfigMap brings the Widget's controller back to fix it.

    mgr = Manager.from_kubeconfig(None, ManagerOptions())
    setup(mgr)
    mgr.run()
"""

from __future__ import annotations

import logging
from typing import Any

from reconcile.builder import ControllerBuilder
from reconcile.controllerutil import create_or_update, set_controller_reference
from reconcile.errors import NotFound
from reconcile.gvk import GroupVersionKind
from reconcile.predicate import GenerationChanged
from reconcile.reconciler import Request, Result

WIDGET = GroupVersionKind("example.com", "v1", "Widget")
CONFIGMAP = GroupVersionKind("", "v1", "ConfigMap")

log = logging.getLogger(__name__)


class WidgetReconciler:
    """Reads the Widget from the cache and creates or updates its ConfigMap."""

    def __init__(self, client: Any) -> None:
        self.client = client

    def reconcile(self, request: Request) -> Result:
        try:
            widget = self.client.get(WIDGET, request.name, request.namespace)
        except NotFound:
            return Result()  # deleted: garbage collection removes the ConfigMap
        spec = widget.get("spec") or {}
        desired = {"size": str(spec.get("size", "")), "color": str(spec.get("color", ""))}
        target = {
            "apiVersion": "v1",
            "kind": "ConfigMap",
            "metadata": {"name": f"{request.name}-config", "namespace": request.namespace},
        }

        def mutate(config: dict[str, Any]) -> None:
            config["data"] = desired
            set_controller_reference(widget, config)

        outcome, _ = create_or_update(self.client, target, mutate)
        if outcome != "unchanged":
            log.info("configmap reconciled", extra={"result": outcome})
        return Result()


def setup(manager: Any) -> None:
    """Register the Widget controller with ``manager``."""
    ControllerBuilder(manager).for_(WIDGET, GenerationChanged()).owns(CONFIGMAP).complete(
        WidgetReconciler(manager.client)
    )
