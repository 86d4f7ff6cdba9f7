"""The ServiceAccount and root-CA controllers: what every namespace starts with.

Each active namespace gets a ``default`` ServiceAccount and the ``kube-root-ca.crt``
ConfigMap holding the CA bundle clients use to trust the API server (the one this
controller-manager's own connection trusts; empty for a plain-HTTP server). Either is
re-created when deleted, as kube-controller-manager does.
"""

from __future__ import annotations

import contextlib
from typing import Any

from reconcile.builder import ControllerBuilder
from reconcile.errors import AlreadyExists, Forbidden, NotFound
from reconcile.gvk import GroupVersionKind
from reconcile.handler import EnqueueRequestsFromMapFunc
from reconcile.reconciler import Request, Result

__all__ = ["NAMESPACE", "ROOT_CA_CONFIGMAP", "NamespaceDefaultsReconciler", "setup"]

NAMESPACE = GroupVersionKind("", "v1", "Namespace")
SERVICEACCOUNT = GroupVersionKind("", "v1", "ServiceAccount")
CONFIGMAP = GroupVersionKind("", "v1", "ConfigMap")
ROOT_CA_CONFIGMAP = "kube-root-ca.crt"


def _namespace_of(obj: dict[str, Any]) -> list[Request]:
    return [Request("", obj["metadata"].get("namespace", ""))]


class NamespaceDefaultsReconciler:
    """Ensures the default ServiceAccount and the root CA ConfigMap of one namespace."""

    def __init__(self, manager: Any, ca_bundle: str) -> None:
        self.reader = manager.api_reader
        self.ca_bundle = ca_bundle

    def reconcile(self, request: Request) -> Result:
        try:
            namespace = self.reader.get(NAMESPACE, request.name)
        except NotFound:
            return Result()
        if namespace["metadata"].get("deletionTimestamp"):
            return Result()
        self._ensure(
            SERVICEACCOUNT,
            {"apiVersion": "v1", "kind": "ServiceAccount",
             "metadata": {"name": "default", "namespace": request.name}},
        )  # fmt: skip
        self._ensure(
            CONFIGMAP,
            {
                "apiVersion": "v1",
                "kind": "ConfigMap",
                "metadata": {
                    "name": ROOT_CA_CONFIGMAP,
                    "namespace": request.name,
                    "annotations": {
                        "kubernetes.io/description": "Contains a CA bundle that can be used to "
                        "verify the kube-apiserver when using internal endpoints such as the "
                        "internal service IP or kubernetes.default.svc. No other usage is "
                        "guaranteed across distributions of Kubernetes clusters."
                    },
                },
                "data": {"ca.crt": self.ca_bundle},
            },
        )
        return Result()

    def _ensure(self, kind: GroupVersionKind, obj: dict[str, Any]) -> None:
        meta = obj["metadata"]
        try:
            self.reader.get(kind, meta["name"], meta["namespace"])
            return
        except NotFound:
            pass
        with contextlib.suppress(AlreadyExists, Forbidden):  # raced, or namespace terminating
            self.reader.create(obj)


def setup(manager: Any, ca_bundle: str) -> None:
    """Register the controller (one request per namespace, by its name)."""
    to_namespace = EnqueueRequestsFromMapFunc(_namespace_of)
    ControllerBuilder(manager).named("serviceaccount").for_(NAMESPACE).watches(
        SERVICEACCOUNT, to_namespace
    ).watches(CONFIGMAP, to_namespace).complete(NamespaceDefaultsReconciler(manager, ca_bundle))
