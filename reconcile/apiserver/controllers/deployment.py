"""The Deployment controller: one ReplicaSet per pod template, rolled as the strategy says.

Each template gets a ReplicaSet named ``<deployment>-<pod-template-hash>`` carrying the
``deployment.kubernetes.io/revision`` annotation (a re-used older template takes the next
revision, which is how ``kubectl rollout undo`` works). A RollingUpdate scales the new set
up to ``replicas + maxSurge`` pods in total and the old ones down while at least
``replicas - maxUnavailable`` pods stay available; Recreate empties the old sets first.
Status carries the replica counts, ``observedGeneration`` and the Available/Progressing
conditions ``kubectl rollout status`` reads; old sets beyond ``revisionHistoryLimit`` go.
"""

from __future__ import annotations

import copy
import hashlib
import json
from typing import Any

from reconcile.apiserver.controllers.deployment_status import (
    deployment_status,
    spec_replicas,
    status_count,
    surge_and_unavailable,
)
from reconcile.apiserver.controllers.pods import controlled_by, live, selector_of, write_status
from reconcile.apiserver.controllers.replicaset import REPLICASET
from reconcile.builder import ControllerBuilder
from reconcile.errors import AlreadyExists, NotFound
from reconcile.gvk import GroupVersionKind
from reconcile.reconciler import Request, Result

__all__ = ["DEPLOYMENT", "DeploymentReconciler", "setup", "template_hash"]

DEPLOYMENT = GroupVersionKind("apps", "v1", "Deployment")
REVISION = "deployment.kubernetes.io/revision"
HASH_LABEL = "pod-template-hash"
_ALPHABET = "bcdfghjklmnpqrstvwxz2456789"
_NOT_COPIED = ("kubectl.kubernetes.io/last-applied-configuration", REVISION)


def template_hash(template: dict[str, Any]) -> str:
    """A short stable name for a pod template (kube's pod-template-hash)."""
    digest = hashlib.sha256(json.dumps(template, sort_keys=True).encode()).digest()
    return "".join(_ALPHABET[b % len(_ALPHABET)] for b in digest[:10])


def _revision(rs: dict[str, Any]) -> int:
    try:
        return int((rs["metadata"].get("annotations") or {}).get(REVISION, "0"))
    except ValueError:
        return 0


def _without_hash(template: dict[str, Any]) -> dict[str, Any]:
    plain = copy.deepcopy(template)
    labels = (plain.get("metadata") or {}).get("labels") or {}
    labels.pop(HASH_LABEL, None)
    return plain


class DeploymentReconciler:
    def __init__(self, manager: Any) -> None:
        self.reader = manager.api_reader
        self.recorder = manager.get_event_recorder("deployment-controller")

    def reconcile(self, request: Request) -> Result:
        deployment = live(self.reader, DEPLOYMENT, request)
        if deployment is None:
            return Result()
        sets = self._replica_sets(deployment)
        new, created = self._new_replica_set(deployment, sets)
        old = [rs for rs in sets if rs["metadata"]["uid"] != new["metadata"]["uid"]]
        if not deployment["spec"].get("paused"):
            if (deployment["spec"].get("strategy") or {}).get("type") == "Recreate":
                self._recreate(deployment, new, old)
            else:
                self._roll(deployment, new, old)
            self._clean_up(deployment, old)
        self._sync_revision(deployment, new)
        status, recheck = deployment_status(deployment, new, [new, *old], created=created)
        write_status(self.reader, deployment, status)
        return Result(requeue_after=recheck) if recheck is not None else Result()

    # replica sets

    def _replica_sets(self, deployment: dict[str, Any]) -> list[dict[str, Any]]:
        listed = self.reader.list(
            REPLICASET,
            namespace=deployment["metadata"]["namespace"],
            label_selector=selector_of(deployment),
        )
        return [rs for rs in listed.get("items") or [] if controlled_by(rs, deployment)]

    def _new_replica_set(
        self, deployment: dict[str, Any], sets: list[dict[str, Any]]
    ) -> tuple[dict[str, Any], bool]:
        template = deployment["spec"]["template"]
        top = max((_revision(rs) for rs in sets), default=0)
        for rs in sets:
            if _without_hash(rs["spec"]["template"]) == template:
                stale = _revision(rs) < top or not _revision(rs)
                return (self._annotate(deployment, rs, top + 1) if stale else rs), False
        return self._create_replica_set(deployment, sets, top + 1), True

    def _annotations(self, deployment: dict[str, Any], revision: int) -> dict[str, str]:
        own = deployment["metadata"].get("annotations") or {}
        annotations = {k: v for k, v in own.items() if k not in _NOT_COPIED}
        replicas = int(deployment["spec"].get("replicas", 1))
        surge, _ = surge_and_unavailable(deployment, replicas)
        annotations.update(
            {
                REVISION: str(revision),
                "deployment.kubernetes.io/desired-replicas": str(replicas),
                "deployment.kubernetes.io/max-replicas": str(replicas + surge),
            }
        )
        return annotations

    def _annotate(
        self, deployment: dict[str, Any], rs: dict[str, Any], revision: int
    ) -> dict[str, Any]:
        patch = {"metadata": {"annotations": self._annotations(deployment, revision)}}
        updated: dict[str, Any] = self.reader.patch(rs, patch)
        return updated

    def _create_replica_set(
        self, deployment: dict[str, Any], sets: list[dict[str, Any]], revision: int
    ) -> dict[str, Any]:
        meta = deployment["metadata"]
        template = copy.deepcopy(deployment["spec"]["template"])
        pod_hash = template_hash(template)
        template.setdefault("metadata", {}).setdefault("labels", {})[HASH_LABEL] = pod_hash
        selector = copy.deepcopy(deployment["spec"]["selector"])
        selector.setdefault("matchLabels", {})[HASH_LABEL] = pod_hash
        replicas = int(deployment["spec"].get("replicas", 1))
        if sets and (deployment["spec"].get("strategy") or {}).get("type") != "Recreate":
            surge, _ = surge_and_unavailable(deployment, replicas)
            replicas = max(0, min(replicas, replicas + surge - sum(map(spec_replicas, sets))))
        elif sets:
            replicas = 0
        rs: dict[str, Any] = {
            "apiVersion": "apps/v1",
            "kind": "ReplicaSet",
            "metadata": {
                "name": f"{meta['name']}-{pod_hash}",
                "namespace": meta["namespace"],
                "labels": template["metadata"]["labels"],
                "annotations": self._annotations(deployment, revision),
                "ownerReferences": [
                    {
                        "apiVersion": "apps/v1",
                        "kind": "Deployment",
                        "name": meta["name"],
                        "uid": meta["uid"],
                        "controller": True,
                        "blockOwnerDeletion": True,
                    }
                ],
            },
            "spec": {
                "replicas": replicas,
                "minReadySeconds": deployment["spec"].get("minReadySeconds", 0),
                "selector": selector,
                "template": template,
            },
        }
        try:
            created: dict[str, Any] = self.reader.create(rs)
        except AlreadyExists:
            name = rs["metadata"]["name"]
            existing: dict[str, Any] = self.reader.get(REPLICASET, name, meta["namespace"])
            return existing
        self._scaled(deployment, created, 0, replicas)
        return created

    def _scale(self, deployment: dict[str, Any], rs: dict[str, Any], replicas: int) -> None:
        before = spec_replicas(rs)
        if before == replicas:
            return
        rs["spec"]["replicas"] = replicas
        self.reader.patch(rs, {"spec": {"replicas": replicas}})
        self._scaled(deployment, rs, before, replicas)

    def _scaled(
        self, deployment: dict[str, Any], rs: dict[str, Any], before: int, after: int
    ) -> None:
        if before == after:
            return
        direction = "up" if after > before else "down"
        self.recorder.event(
            deployment,
            "Normal",
            "ScalingReplicaSet",
            f"Scaled {direction} replica set {rs['metadata']['name']} from {before} to {after}",
        )

    # strategies

    def _recreate(
        self, deployment: dict[str, Any], new: dict[str, Any], old: list[dict[str, Any]]
    ) -> None:
        for rs in old:
            self._scale(deployment, rs, 0)
        if any(status_count(rs, "replicas") for rs in old):
            return  # wait until the old pods are gone
        self._scale(deployment, new, int(deployment["spec"].get("replicas", 1)))

    def _roll(
        self, deployment: dict[str, Any], new: dict[str, Any], old: list[dict[str, Any]]
    ) -> None:
        replicas = int(deployment["spec"].get("replicas", 1))
        surge, unavailable = surge_and_unavailable(deployment, replicas)
        total = spec_replicas(new) + sum(map(spec_replicas, old))
        current = spec_replicas(new)
        if current > replicas:
            self._scale(deployment, new, replicas)
        elif current < replicas:
            room = max(0, replicas + surge - total)
            self._scale(deployment, new, min(replicas, current + room))
        all_sets = [new, *old]
        min_available = replicas - unavailable
        new_unavailable = spec_replicas(new) - status_count(new, "availableReplicas")
        budget = sum(map(spec_replicas, all_sets)) - min_available - new_unavailable
        for rs in sorted(old, key=_revision):  # unhealthy old replicas first
            broken = spec_replicas(rs) - status_count(rs, "availableReplicas")
            cut = max(0, min(broken, budget))
            if cut:
                self._scale(deployment, rs, spec_replicas(rs) - cut)
                budget -= cut
        available = sum(status_count(rs, "availableReplicas") for rs in all_sets)
        budget = min(budget, available - min_available)
        for rs in sorted(old, key=_revision):
            cut = max(0, min(spec_replicas(rs), budget))
            if cut:
                self._scale(deployment, rs, spec_replicas(rs) - cut)
                budget -= cut

    def _clean_up(self, deployment: dict[str, Any], old: list[dict[str, Any]]) -> None:
        limit = int(deployment["spec"].get("revisionHistoryLimit", 10))
        idle = [rs for rs in old if not spec_replicas(rs) and not status_count(rs, "replicas")]
        for rs in sorted(idle, key=_revision)[: max(0, len(idle) - limit)]:
            try:
                self.reader.delete(rs)
            except NotFound:
                continue

    # status

    def _sync_revision(self, deployment: dict[str, Any], new: dict[str, Any]) -> None:
        revision = str(_revision(new))
        annotations = deployment["metadata"].get("annotations") or {}
        if annotations.get(REVISION) == revision:
            return
        try:
            patched = self.reader.patch(
                deployment, {"metadata": {"annotations": {REVISION: revision}}}
            )
        except NotFound:
            return
        deployment["metadata"] = patched["metadata"]


def setup(manager: Any) -> None:
    """Register the Deployment controller."""
    ControllerBuilder(manager).named("deployment").for_(DEPLOYMENT).owns(REPLICASET).complete(
        DeploymentReconciler(manager)
    )
