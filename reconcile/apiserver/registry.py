"""Which resources the server serves: a static table of built-ins plus registered CRDs.

Lookups are by URL (group, version, resource plural) for requests and by (group, kind) for
bodies. CRDs add and remove entries at run time; readers get consistent snapshots because
the registry is only mutated on the server's event loop.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Iterator
from dataclasses import replace
from typing import Any

from reconcile.apiserver.resources import ResourceInfo, ScaleSubresource

__all__ = ["BUILTINS", "WORKLOAD_BUILTINS", "Registry", "infos_from_crd", "version_priority"]

_ALL = ("all",)
_KUBE_VERSION = re.compile(r"^v(\d+)(?:(alpha|beta)(\d+))?$")
_STAGES = {None: 0, "beta": 1, "alpha": 2}


def version_priority(version: str) -> tuple[int, int, int, str]:
    """Sort key putting versions in kube's priority order (``CompareKubeAwareVersionStrings``)."""
    match = _KUBE_VERSION.match(version)
    if match is None:
        return (1, 0, 0, version)
    major, stage, minor = match.groups()
    return (0, _STAGES[stage] * 1_000_000 - int(major), -int(minor or 0), version)


def _builtin(
    group: str,
    version: str,
    resource: str,
    kind: str,
    *,
    namespaced: bool = True,
    short: tuple[str, ...] = (),
    categories: tuple[str, ...] = (),
    status: bool = False,
    scale: bool = False,
) -> ResourceInfo:
    return ResourceInfo(
        group=group,
        version=version,
        resource=resource,
        kind=kind,
        singular=kind.lower(),
        namespaced=namespaced,
        short_names=short,
        categories=categories,
        status_subresource=status,
        scale=ScaleSubresource(".spec.replicas", ".status.replicas", ".spec.selector")
        if scale
        else None,
    )


BUILTINS: tuple[ResourceInfo, ...] = (
    _builtin("", "v1", "namespaces", "Namespace", namespaced=False, short=("ns",), status=True),
    _builtin("", "v1", "pods", "Pod", short=("po",), categories=_ALL, status=True),
    _builtin("", "v1", "nodes", "Node", namespaced=False, short=("no",), status=True),
    _builtin("", "v1", "events", "Event", short=("ev",)),
    _builtin("", "v1", "configmaps", "ConfigMap", short=("cm",)),
    _builtin("", "v1", "secrets", "Secret"),
    _builtin("", "v1", "serviceaccounts", "ServiceAccount", short=("sa",)),
    _builtin("", "v1", "services", "Service", short=("svc",), categories=_ALL, status=True),
    _builtin("", "v1", "endpoints", "Endpoints", short=("ep",)),
    _builtin("", "v1", "persistentvolumeclaims", "PersistentVolumeClaim", short=("pvc",),
             status=True),
    _builtin("apps", "v1", "deployments", "Deployment", short=("deploy",), categories=_ALL,
             status=True, scale=True),
    _builtin("apps", "v1", "replicasets", "ReplicaSet", short=("rs",), categories=_ALL,
             status=True, scale=True),
    _builtin("apps", "v1", "daemonsets", "DaemonSet", short=("ds",), categories=_ALL,
             status=True),
    _builtin("apps", "v1", "statefulsets", "StatefulSet", short=("sts",), categories=_ALL,
             status=True, scale=True),
    _builtin("batch", "v1", "jobs", "Job", categories=_ALL, status=True),
    _builtin("coordination.k8s.io", "v1", "leases", "Lease"),
    replace(_builtin("events.k8s.io", "v1", "events", "Event", short=("ev",)),
            storage_version=False),
    _builtin("rbac.authorization.k8s.io", "v1", "roles", "Role"),
    _builtin("rbac.authorization.k8s.io", "v1", "rolebindings", "RoleBinding"),
    _builtin("rbac.authorization.k8s.io", "v1", "clusterroles", "ClusterRole", namespaced=False),
    _builtin("rbac.authorization.k8s.io", "v1", "clusterrolebindings", "ClusterRoleBinding",
             namespaced=False),
    _builtin("apiextensions.k8s.io", "v1", "customresourcedefinitions",
             "CustomResourceDefinition", namespaced=False, short=("crd", "crds"), status=True),
    _builtin("monitoring.coreos.com", "v1", "prometheusrules", "PrometheusRule",
             short=("promrule",)),
    _builtin("monitoring.coreos.com", "v1", "servicemonitors", "ServiceMonitor",
             short=("smon",)),
    # cert-manager's kinds (served without a schema, like the Prometheus Operator's above),
    # so config/default, which asks cert-manager for the webhook certificate, applies to a
    # dev cluster as to one with cert-manager installed. Nothing issues certificates here.
    _builtin("cert-manager.io", "v1", "certificates", "Certificate", short=("cert", "certs"),
             status=True),
    _builtin("cert-manager.io", "v1", "issuers", "Issuer", status=True),
    _builtin("cert-manager.io", "v1", "clusterissuers", "ClusterIssuer", namespaced=False,
             status=True),
)  # fmt: skip


WORKLOAD_BUILTINS: tuple[ResourceInfo, ...] = (
    _builtin("", "v1", "replicationcontrollers", "ReplicationController", short=("rc",),
             categories=_ALL, status=True, scale=True),
    _builtin("", "v1", "podtemplates", "PodTemplate"),
    _builtin("", "v1", "persistentvolumes", "PersistentVolume", namespaced=False, short=("pv",),
             status=True),
    _builtin("apps", "v1", "controllerrevisions", "ControllerRevision"),
    _builtin("batch", "v1", "cronjobs", "CronJob", short=("cj",), categories=_ALL, status=True),
    _builtin("discovery.k8s.io", "v1", "endpointslices", "EndpointSlice"),
    _builtin("policy", "v1", "poddisruptionbudgets", "PodDisruptionBudget", short=("pdb",),
             status=True),
    _builtin("autoscaling", "v2", "horizontalpodautoscalers", "HorizontalPodAutoscaler",
             short=("hpa",), categories=_ALL, status=True),
    replace(_builtin("autoscaling", "v1", "horizontalpodautoscalers", "HorizontalPodAutoscaler",
                     short=("hpa",), categories=_ALL, status=True), storage_version=False),
    _builtin("apiregistration.k8s.io", "v1", "apiservices", "APIService", namespaced=False,
             status=True),
)  # fmt: skip
"""The rest of the core/apps workload kinds client libraries exercise, and APIServices;
validated and defaulted like every built-in (``strategy.py``)."""


def infos_from_crd(crd: dict[str, Any]) -> list[ResourceInfo]:
    """One ResourceInfo per served version of a (validated) CRD."""
    spec = crd["spec"]
    names = spec["names"]
    infos = []
    for version in spec["versions"]:
        if not version.get("served", True):
            continue
        subresources = version.get("subresources") or {}
        scale = subresources.get("scale")
        infos.append(
            ResourceInfo(
                group=spec["group"],
                version=version["name"],
                resource=names["plural"],
                kind=names["kind"],
                singular=names.get("singular") or names["kind"].lower(),
                namespaced=spec.get("scope", "Namespaced") == "Namespaced",
                short_names=tuple(names.get("shortNames") or ()),
                categories=tuple(names.get("categories") or ()),
                schema=(version.get("schema") or {}).get("openAPIV3Schema"),
                status_subresource="status" in subresources,
                scale=ScaleSubresource(
                    scale["specReplicasPath"],
                    scale["statusReplicasPath"],
                    scale.get("labelSelectorPath"),
                )
                if scale
                else None,
                printer_columns=tuple(version.get("additionalPrinterColumns") or ()),
                custom=True,
                storage_version=bool(version.get("storage")),
                extra={
                    "crd": crd["metadata"]["name"],
                    "conversion": spec.get("conversion") or {"strategy": "None"},
                    "cel": "x-kubernetes-validations" in json.dumps(version.get("schema") or {}),
                },
            )
        )
    return infos


class Registry:
    """Served resources, indexed for URL and body lookups."""

    def __init__(self, builtins: Iterable[ResourceInfo] = BUILTINS + WORKLOAD_BUILTINS) -> None:
        self._by_url: dict[tuple[str, str, str], ResourceInfo] = {}
        self._by_kind: dict[tuple[str, str, str], ResourceInfo] = {}
        self._crd_resources: dict[str, list[ResourceInfo]] = {}
        self.generation = 0
        """Bumped on every change, so derived documents (OpenAPI) can be cached."""
        for info in builtins:
            self._add(info)

    def _add(self, info: ResourceInfo) -> None:
        self._by_url[(info.group, info.version, info.resource)] = info
        self._by_kind[(info.group, info.version, info.kind)] = info

    def lookup(self, group: str, version: str, resource: str) -> ResourceInfo | None:
        return self._by_url.get((group, version, resource))

    def by_kind(self, group: str, version: str, kind: str) -> ResourceInfo | None:
        return self._by_kind.get((group, version, kind))

    def storage_info(self, group: str, resource: str) -> ResourceInfo | None:
        """The storage version's info for a group/resource (versions share one store)."""
        candidates = [
            i for i in self._by_url.values() if (i.group, i.resource) == (group, resource)
        ]
        for info in candidates:
            if info.storage_version:
                return info
        return candidates[0] if candidates else None

    def __iter__(self) -> Iterator[ResourceInfo]:
        return iter(sorted(self._by_url.values(), key=lambda i: (i.group, i.version, i.resource)))

    def group_versions(self) -> dict[str, list[str]]:
        """group -> served versions, preferred first in kube's order (v2 > v1 > v1beta2 >
        v1beta1 > v1alpha1; others after, alphabetically), as discovery lists them."""
        out: dict[str, list[str]] = {}
        for info in self._by_url.values():
            versions = out.setdefault(info.group, [])
            if info.version not in versions:
                versions.append(info.version)
        for versions in out.values():
            versions.sort(key=version_priority)
        return out

    def conflicts_with(self, crd_name: str, infos: list[ResourceInfo]) -> str | None:
        """A message if a CRD's names clash with a resource served by someone else."""
        for info in infos:
            existing = self._by_url.get((info.group, info.version, info.resource))
            if existing is not None and existing.extra.get("crd") != crd_name:
                return f"{info.resource}.{info.group} is already served"
        return None

    def register_crd(self, crd_name: str, infos: list[ResourceInfo]) -> None:
        self.unregister_crd(crd_name)
        for info in infos:
            self._add(info)
        self._crd_resources[crd_name] = infos
        self.generation += 1

    def unregister_crd(self, crd_name: str) -> list[ResourceInfo]:
        infos = self._crd_resources.pop(crd_name, [])
        for info in infos:
            self._by_url.pop((info.group, info.version, info.resource), None)
            self._by_kind.pop((info.group, info.version, info.kind), None)
        self.generation += 1
        return infos
