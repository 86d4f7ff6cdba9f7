"""The central IOLimitPolicy controller (leader-elected): decisions, conditions, Events.

A reconcile of one policy reads the cache (the policy, the pods it selects, the pods its
throttles name, the nodes), imports what the replaced service left in pod annotations,
decides with ``status.next_status`` and writes the fields it owns by server-side apply
as ``kreconcile-iolimit``, with the policy's resourceVersion as a precondition: a status
computed from a stale cache (or raced by an agent's report) is refused with 409 and
decided again from a fresh read, so an Event or a throttle is never produced twice. Events
and the import marks on pods follow a successful write.

Pods map to the policies that select them or hold a throttle for them; a pod update
matters only when what decisions depend on changed (labels, node, containers, deletion,
annotations), so the kubelet's status churn does not wake the controller.
"""

from __future__ import annotations

import contextlib
import logging
import time
from collections.abc import Callable, Iterable, Mapping
from typing import Any

from controllers.iolimit.compiler import PolicyCompiler
from controllers.iolimit.migration import (
    MARKER_ANNOTATION,
    MalformedAnnotations,
    fingerprint,
    has_old_annotations,
    is_imported,
    read_old_throttle,
)
from controllers.iolimit.options import IOLimitConfig
from controllers.iolimit.selection import running_containers
from controllers.iolimit.status import EventSpec, Import, Observed, next_status, throttle_key
from crds import IOLimitPolicy
from reconcile.cache import InformerCache
from reconcile.client import ObjectClient, Reader, retry_on_conflict
from reconcile.client.patch import APPLY_PATCH
from reconcile.errors import NotFound
from reconcile.gvk import GroupVersionKind
from reconcile.reconciler import Request, Result
from reconcile.recorder import EventRecorder
from reconcile.timestamps import parse_time

__all__ = [
    "FIELD_MANAGER",
    "NODE",
    "POD",
    "IOLimitPolicyReconciler",
    "node_is_ready",
    "pod_signature",
]

log = logging.getLogger(__name__)

FIELD_MANAGER = "kreconcile-iolimit"
POD = GroupVersionKind("", "v1", "Pod")
NODE = GroupVersionKind("", "v1", "Node")
Obj = dict[str, Any]


def pod_signature(pod: Obj) -> tuple[Any, ...]:
    """What the controller's decisions depend on in a pod."""
    meta = pod.get("metadata") or {}
    statuses = (pod.get("status") or {}).get("containerStatuses") or []
    return (
        meta.get("uid"),
        meta.get("labels"),
        meta.get("annotations"),
        meta.get("deletionTimestamp"),
        (pod.get("spec") or {}).get("nodeName"),
        tuple(
            (s.get("name"), s.get("containerID"), "running" in (s.get("state") or {}))
            for s in statuses
        ),
    )


def node_is_ready(node: Obj) -> bool:
    """Whether the node's Ready condition is True."""
    conditions = (node.get("status") or {}).get("conditions") or []
    return any(c.get("type") == "Ready" and c.get("status") == "True" for c in conditions)


class IOLimitPolicyReconciler:
    """Reconciles IOLimitPolicy objects (cluster-scoped: requests carry only a name)."""

    def __init__(
        self,
        *,
        cache: InformerCache,
        api_reader: Reader,
        client: ObjectClient,
        recorder: EventRecorder,
        config: Callable[[], IOLimitConfig],
        watch_namespaces: tuple[str, ...] = (),
        now: Callable[[], float] = time.time,
    ) -> None:
        self._cache = cache
        self._api_reader = api_reader
        self._client = client
        self._recorder = recorder
        self._config = config
        self._compiler = PolicyCompiler(watch_namespaces)
        self._now = now
        self._reconciling = False

    def cached_policies(self) -> list[Obj]:
        """The cached policies once this replica's controller runs (for metrics); nothing
        before, so a standby or a cluster without the CRD never waits on the informer."""
        if not self._reconciling:
            return []
        return self._policies()

    # mapping events to policies

    def _policies(self) -> list[Obj]:
        return list(self._cache.list(IOLimitPolicy, copy=False)["items"])

    def policies_for_pod(self, pod: Obj) -> list[Request]:
        meta = pod.get("metadata") or {}
        where = (meta.get("namespace"), meta.get("name"))
        requests = []
        for policy in self._policies():
            _, selection = self._compiler.compile(policy)
            throttles = (policy.get("status") or {}).get("throttles") or []
            if selection.selects(pod) or any(throttle_key(t)[:2] == where for t in throttles):
                requests.append(Request("", policy["metadata"]["name"]))
        return requests

    def all_policies(self, _obj: Obj) -> list[Request]:
        return [Request("", p["metadata"]["name"]) for p in self._policies()]

    # the reconcile

    def reconcile(self, request: Request) -> Result:
        self._reconciling = True
        fresh = [False]

        def attempt() -> Result:
            if fresh[0]:
                policy = self._api_reader.get(IOLimitPolicy, request.name)
            else:
                policy = self._cache.get(IOLimitPolicy, request.name, copy=False)
            fresh[0] = True
            return self._decide(policy)

        try:
            return retry_on_conflict(attempt)
        except NotFound:
            return Result()

    def _selected(self, selection_of: Any, namespaces: Iterable[str]) -> dict[tuple[str, str], Obj]:
        lists = (
            [self._cache.list(POD, namespace=ns, copy=False)["items"] for ns in namespaces]
            if namespaces
            else [self._cache.list(POD, copy=False)["items"]]
        )
        return {
            (p["metadata"]["namespace"], p["metadata"]["name"]): p
            for items in lists
            for p in items
            if selection_of.selects(p)
        }

    def _unselected(
        self, policy: Obj, selected: Mapping[tuple[str, str], Obj]
    ) -> dict[tuple[str, str], Obj]:
        found = {}
        for throttle in (policy.get("status") or {}).get("throttles") or []:
            where = throttle_key(throttle)[:2]
            if where in selected or where in found:
                continue
            with contextlib.suppress(NotFound):
                found[where] = self._cache.get(POD, where[1], where[0], copy=False)
        return found

    def _node_ready(self) -> dict[str, bool]:
        return {
            node["metadata"]["name"]: node_is_ready(node)
            for node in self._cache.list(NODE, copy=False)["items"]
        }

    def _decide(self, policy: Obj) -> Result:
        config = self._config()
        compiled, selection = self._compiler.compile(policy)
        selected = self._selected(selection, sorted(selection.namespaces))
        imports, marks, malformed = self._imports(policy, selected, config)
        observed = Observed(
            policy=compiled,
            generation=policy["metadata"].get("generation"),
            created_at=parse_time(policy["metadata"].get("creationTimestamp")),
            selected=selected,
            unselected=self._unselected(policy, selected),
            node_ready=self._node_ready(),
            imports=imports,
            stale_after=config.stale_after,
        )
        old = policy.get("status") or {}
        outcome = next_status(observed, old, self._now())
        if any(old.get(key) != value for key, value in outcome.status.items()):
            self._write(policy, outcome.status)
        for event in outcome.events:
            self._emit(policy, event)
        self._mark(marks, malformed, config.migration.annotation_prefix)
        return Result(requeue_after=config.stale_after / 2)

    def _write(self, policy: Obj, status: Obj) -> None:
        meta = policy["metadata"]
        body = {
            "apiVersion": IOLimitPolicy.GVK.api_version,
            "kind": IOLimitPolicy.GVK.kind,
            "metadata": {"name": meta["name"], "resourceVersion": meta["resourceVersion"]},
            "status": status,
        }
        self._client.status().patch(
            body, body, patch_type=APPLY_PATCH, field_manager=FIELD_MANAGER, force=True
        )

    def _emit(self, policy: Obj, event: EventSpec) -> None:
        if event.pod:
            target = {
                "apiVersion": "v1",
                "kind": "Pod",
                "metadata": {"name": event.pod, "namespace": event.namespace, "uid": event.pod_uid},
            }
        else:
            target = policy
        self._recorder.event(target, event.type, event.reason, event.message)

    # migration from the replaced service's annotations

    def _owns_migration(self, policy: Obj, pod: Obj) -> bool:
        """Whether ``policy`` is the oldest (then first by name) policy selecting ``pod``."""

        def rank(p: Obj) -> tuple[str, str]:
            return (str(p["metadata"].get("creationTimestamp") or ""), p["metadata"]["name"])

        owners = [p for p in self._policies() if self._compiler.compile(p)[1].selects(pod)]
        if not owners:
            return False
        return bool(min(owners, key=rank)["metadata"]["name"] == policy["metadata"]["name"])

    def _imports(
        self, policy: Obj, selected: Mapping[tuple[str, str], Obj], config: IOLimitConfig
    ) -> tuple[list[Import], list[Obj], list[tuple[Obj, str]]]:
        if not config.migration.enabled:
            return [], [], []
        prefix = config.migration.annotation_prefix
        imports, marks, malformed = [], [], []
        for pod in selected.values():
            annotations = pod["metadata"].get("annotations") or {}
            if not has_old_annotations(annotations, prefix) or is_imported(annotations, prefix):
                continue
            if not self._owns_migration(policy, pod):
                continue
            try:
                old = read_old_throttle(annotations, prefix)
            except MalformedAnnotations as error:
                malformed.append((pod, str(error)))
                continue
            if not running_containers(pod):
                # Nothing to attach the throttle to yet: marking the pod now would drop the
                # old decision. The pod's next status change brings it back here.
                continue
            imports.append(Import(pod, old))
            marks.append(pod)
        return imports, marks, malformed

    def _mark(self, imported: list[Obj], malformed: list[tuple[Obj, str]], prefix: str) -> None:
        for pod, reason in malformed:
            meta = pod["metadata"]
            log.warning(
                "old throttle annotations skipped",
                extra={"pod": f"{meta['namespace']}/{meta['name']}", "reason": reason},
            )
            message = f"annotations of the replaced service not imported: {reason}"
            self._recorder.event(pod, "Warning", "ThrottleImportSkipped", message)
        for pod in [*imported, *(p for p, _ in malformed)]:
            annotations = pod["metadata"].get("annotations") or {}
            mark = fingerprint(annotations, prefix)
            patch = {"metadata": {"annotations": {MARKER_ANNOTATION: mark}}}
            try:
                self._client.patch(pod, patch)
            except NotFound:
                continue
