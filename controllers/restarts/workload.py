"""A pod's workload: its controlling owner, resolved to the top controller users know.

A Deployment's pods are owned by a ReplicaSet and a CronJob's by a Job; users think of
the Deployment and the CronJob, so the intermediate owner is read (one GET) and its own
controller taken. The answer is remembered in a bounded LRU (a ReplicaSet's owner never
changes), so a workload with a thousand pods costs one read, and ReplicaSets and Jobs are
never cached in full. When the intermediate object is gone (or unreadable), the name
conventions of the Deployment and CronJob controllers give the answer: a ReplicaSet is
``<deployment>-<pod-template-hash>`` and a CronJob's Job ``<cronjob>-<scheduled minute>``.

Resolution happens once per record (at creation); the record keeps the answer in
``spec.workload`` and as labels.
"""

from __future__ import annotations

import logging
import re
import threading
from collections import OrderedDict
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from reconcile.client import Reader
from reconcile.errors import ApiError, NotFound
from reconcile.gvk import GroupVersionKind

__all__ = [
    "JOB",
    "REPLICASET",
    "WORKLOAD_KIND_LABEL",
    "WORKLOAD_NAME_LABEL",
    "Workload",
    "WorkloadResolver",
    "controller_of",
    "workload_labels",
]

log = logging.getLogger(__name__)

REPLICASET = GroupVersionKind("apps", "v1", "ReplicaSet")
JOB = GroupVersionKind("batch", "v1", "Job")
WORKLOAD_KIND_LABEL = "kreconcile.io/workload-kind"
WORKLOAD_NAME_LABEL = "kreconcile.io/workload-name"
_PARENTS = {("apps", "ReplicaSet"): REPLICASET, ("batch", "Job"): JOB}
_LABEL_VALUE = re.compile(r"^[A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?$")
_CRONJOB_JOB = re.compile(r"^(.+)-\d{8,}$")


@dataclass(frozen=True, slots=True)
class Workload:
    kind: str
    name: str

    def __str__(self) -> str:
        return f"{self.kind}/{self.name}"


def controller_of(obj: Mapping[str, Any]) -> Mapping[str, Any] | None:
    """The owner reference with ``controller: true``, else the first one, else None."""
    refs = (obj.get("metadata") or {}).get("ownerReferences") or []
    return next((r for r in refs if r.get("controller")), refs[0] if refs else None)


def workload_labels(workload: Workload | None) -> dict[str, str]:
    """The record's labels for ``workload`` (a name too long for a label value is left out;
    ``spec.workload`` keeps it)."""
    if workload is None:
        return {}
    return {
        key: value
        for key, value in (
            (WORKLOAD_KIND_LABEL, workload.kind),
            (WORKLOAD_NAME_LABEL, workload.name),
        )
        if _LABEL_VALUE.match(value)
    }


def _by_convention(kind: str, name: str, pod: Mapping[str, Any]) -> Workload | None:
    """The top owner guessed from the controllers' naming rules, when it cannot be read."""
    if kind == "ReplicaSet":
        template_hash = ((pod.get("metadata") or {}).get("labels") or {}).get("pod-template-hash")
        if template_hash and name.endswith(f"-{template_hash}"):
            return Workload("Deployment", name[: -len(template_hash) - 1])
    if kind == "Job":
        match = _CRONJOB_JOB.match(name)
        if match:
            return Workload("CronJob", match.group(1))
    return None


class WorkloadResolver:
    """``resolve(pod)`` -> the pod's Workload, or None for a pod nothing owns."""

    def __init__(self, reader: Reader, *, cache_size: int = 4096) -> None:
        """``reader`` reads ReplicaSets and Jobs (the direct client: one GET per owner)."""
        self._reader = reader
        self._cache_size = cache_size
        self._known: OrderedDict[tuple[str, str, str], Workload] = OrderedDict()
        self._lock = threading.Lock()

    def resolve(self, pod: Mapping[str, Any]) -> Workload | None:
        ref = controller_of(pod)
        if ref is None:
            return None
        kind, name = str(ref.get("kind") or ""), str(ref.get("name") or "")
        group = str(ref.get("apiVersion") or "").rpartition("/")[0]
        parent = _PARENTS.get((group, kind))
        if parent is None:
            return Workload(kind, name)
        namespace = str((pod.get("metadata") or {}).get("namespace") or "")
        key = (kind, namespace, name)
        with self._lock:
            known = self._known.get(key)
            if known is not None:
                self._known.move_to_end(key)
                return known
        workload, certain = self._read_owner(parent, namespace, name, pod)
        if not certain:
            return workload
        with self._lock:
            self._known[key] = workload
            if len(self._known) > self._cache_size:
                self._known.popitem(last=False)
        return workload

    def _read_owner(
        self, kind: GroupVersionKind, namespace: str, name: str, pod: Mapping[str, Any]
    ) -> tuple[Workload, bool]:
        """The workload, and whether it is certain (worth remembering)."""
        guess = _by_convention(kind.kind, name, pod) or Workload(kind.kind, name)
        try:
            owner = self._reader.get(kind, name, namespace)
        except NotFound:
            return guess, True
        except ApiError as error:
            log.warning(
                "cannot read pod owner, naming the workload by convention",
                extra={"ownerKind": kind.kind, "owner": f"{namespace}/{name}", "error": str(error)},
            )
            return guess, False
        ref = controller_of(owner)
        if ref is None:
            return Workload(kind.kind, name), True
        return Workload(str(ref.get("kind") or ""), str(ref.get("name") or "")), True
