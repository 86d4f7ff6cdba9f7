"""Which pods a policy selects, and the running containers of a pod.

A policy selects a pod when the pod's namespace is not excluded (``excludedNamespaces``,
kube-system by default, wins over everything), is listed in ``namespaces`` (or that list is
empty), is among the namespaces the operator acts in (``--watch-namespaces``; empty means
all), and the pod's labels match ``selector`` (metav1.LabelSelector semantics). Pods being
deleted stay selected until they are gone, so their throttles are released only then.

Everything here is pure and works on raw dicts: the node agent calls it for every pod of
its node on every sample, the controller for every pod event.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from reconcile.labels import Requirement, Selector
from reconcile.timestamps import parse_time

__all__ = [
    "DEFAULT_EXCLUDED_NAMESPACES",
    "ContainerRef",
    "PodSelection",
    "label_selector",
    "running_containers",
]

DEFAULT_EXCLUDED_NAMESPACES = ("kube-system",)
"""What ``spec.excludedNamespaces`` defaults to (the CRD's default, repeated for objects the
API server has not defaulted)."""

_OPERATORS = {"In": "in", "NotIn": "notin", "Exists": "exists", "DoesNotExist": "!"}


def label_selector(raw: Mapping[str, Any] | None) -> Selector:
    """A metav1.LabelSelector (matchLabels + matchExpressions, ANDed) as a parsed Selector."""
    raw = raw or {}
    requirements = [
        Requirement(str(key), "=", frozenset([str(value)]))
        for key, value in sorted((raw.get("matchLabels") or {}).items())
    ]
    for expression in raw.get("matchExpressions") or []:
        operator = _OPERATORS.get(str(expression.get("operator")))
        if operator is None:
            raise ValueError(
                f"selector.matchExpressions: unknown operator {expression.get('operator')!r}; "
                "use In, NotIn, Exists or DoesNotExist"
            )
        values = frozenset(str(v) for v in expression.get("values") or [])
        requirements.append(Requirement(str(expression.get("key")), operator, values))  # type: ignore[arg-type]
    return Selector(tuple(requirements))


@dataclass(frozen=True, slots=True)
class PodSelection:
    """The pod-selecting part of a policy's spec, parsed once."""

    selector: Selector
    namespaces: frozenset[str] = frozenset()
    """Empty: every namespace not excluded."""
    excluded: frozenset[str] = frozenset(DEFAULT_EXCLUDED_NAMESPACES)
    watch_namespaces: frozenset[str] = frozenset()
    """The operator's own namespace restriction (empty: all)."""

    @classmethod
    def of(cls, spec: Mapping[str, Any], watch_namespaces: Iterable[str] = ()) -> PodSelection:
        excluded = spec.get("excludedNamespaces")
        return cls(
            selector=label_selector(spec.get("selector")),
            namespaces=frozenset(spec.get("namespaces") or ()),
            excluded=frozenset(DEFAULT_EXCLUDED_NAMESPACES if excluded is None else excluded),
            watch_namespaces=frozenset(watch_namespaces),
        )

    def selects_namespace(self, namespace: str) -> bool:
        if namespace in self.excluded:
            return False
        if self.namespaces and namespace not in self.namespaces:
            return False
        return not self.watch_namespaces or namespace in self.watch_namespaces

    def selects(self, pod: Mapping[str, Any]) -> bool:
        meta = pod.get("metadata") or {}
        if not self.selects_namespace(str(meta.get("namespace") or "")):
            return False
        return self.selector.matches(meta.get("labels") or {})


@dataclass(frozen=True, slots=True)
class ContainerRef:
    """A running container of a pod, with what locating its cgroup needs."""

    namespace: str
    pod: str
    pod_uid: str
    container: str
    container_id: str
    """``runtime://id`` as the kubelet reports it."""
    node: str
    qos: str
    """The pod's QoS class (Guaranteed, Burstable, BestEffort): part of the cgroup path."""
    started_at: float | None
    """When the container started (epoch seconds), from its ``state.running.startedAt``."""

    @property
    def key(self) -> tuple[str, str, str]:
        return (self.namespace, self.pod, self.container)


def running_containers(pod: Mapping[str, Any]) -> list[ContainerRef]:
    """The pod's containers that run and have a container ID (init containers excluded)."""
    meta = pod.get("metadata") or {}
    status = pod.get("status") or {}
    refs = []
    for item in status.get("containerStatuses") or []:
        running = (item.get("state") or {}).get("running")
        container_id = item.get("containerID")
        if running is None or not container_id:
            continue
        refs.append(
            ContainerRef(
                namespace=str(meta.get("namespace") or ""),
                pod=str(meta.get("name") or ""),
                pod_uid=str(meta.get("uid") or ""),
                container=str(item.get("name") or ""),
                container_id=str(container_id),
                node=str((pod.get("spec") or {}).get("nodeName") or ""),
                qos=str(status.get("qosClass") or "BestEffort"),
                started_at=parse_time(running.get("startedAt")),
            )
        )
    return refs
