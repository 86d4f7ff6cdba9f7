"""What one node's agent must do now, from the cached policies and the pods of its node.

``build_plan`` is pure: for every running container on the node it finds the policies
that select its pod, the throttles in force on it, and the limits to write, which are the
strictest per field among the throttles of every policy that are not dry-run (the
documented precedence when several policies match one pod). A throttle names its
container by namespace, pod and container name (and the pod's UID), never only by
container ID: a recreated container, under a new ID, is the same container and gets the
same limits in its new cgroup.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from controllers.iolimit.compiler import PolicyCompiler
from controllers.iolimit.rules import CompiledPolicy, Limits
from controllers.iolimit.selection import ContainerRef, PodSelection, running_containers
from controllers.iolimit.status import throttle_key

__all__ = ["Plan", "PolicyView", "build_plan"]

Key = tuple[str, str, str]
Obj = dict[str, Any]


@dataclass(frozen=True, slots=True)
class PolicyView:
    """One policy as this node's agent sees it."""

    name: str
    policy: CompiledPolicy
    selection: PodSelection
    throttles: Mapping[Key, Obj]
    """The policy's throttles, by (namespace, pod, container)."""
    report: Mapping[str, Any] | None
    """This node's entry in the policy's status.nodes, as last written."""

    def throttle_for(self, ref: ContainerRef) -> Obj | None:
        throttle = self.throttles.get(ref.key)
        if throttle is None:
            return None
        uid = throttle.get("podUID")
        return throttle if not uid or uid == ref.pod_uid else None


def _view(raw: Obj, node: str, compiler: PolicyCompiler) -> PolicyView:
    policy, selection = compiler.compile(raw)
    status = raw.get("status") or {}
    return PolicyView(
        name=str(raw["metadata"]["name"]),
        policy=policy,
        selection=selection,
        throttles={throttle_key(t): t for t in status.get("throttles") or []},
        report=next((r for r in status.get("nodes") or [] if r.get("node") == node), None),
    )


@dataclass
class Plan:
    """The containers to sample and the limits to write on this node."""

    views: dict[str, PolicyView] = field(default_factory=dict)
    refs: dict[str, ContainerRef] = field(default_factory=dict)
    """Container ID -> container, for every running container of a selected or throttled
    pod on the node."""
    selecting: dict[str, list[str]] = field(default_factory=dict)
    """Container ID -> names of the policies that select its pod."""
    desired: dict[str, Limits] = field(default_factory=dict)
    """Container ID -> the limits to write (strictest of the throttles in force)."""
    reported_applied: set[str] = field(default_factory=set)
    """Container IDs this node's reports say carry limits (what an earlier run applied)."""


def build_plan(
    node: str, policies: Sequence[Obj], pods: Sequence[Obj], compiler: PolicyCompiler
) -> Plan:
    views = {str(p["metadata"]["name"]): _view(p, node, compiler) for p in policies}
    compiler.forget_except(set(views))
    plan = Plan(views=views)
    for view in views.values():
        for entry in (view.report or {}).get("applied") or []:
            plan.reported_applied.add(str(entry.get("containerID", "")))
    for pod in pods:
        if (pod.get("spec") or {}).get("nodeName") != node:
            continue
        for ref in running_containers(pod):
            selecting = [v.name for v in views.values() if v.selection.selects(pod)]
            enforced = [
                Limits.from_raw(t.get("limits"))
                for v in views.values()
                if (t := v.throttle_for(ref)) is not None and not t.get("dryRun")
            ]
            if not selecting and not enforced:
                continue
            plan.refs[ref.container_id] = ref
            plan.selecting[ref.container_id] = selecting
            if enforced:
                limits = Limits.strictest(enforced)
                if not limits.is_empty():
                    plan.desired[ref.container_id] = limits
    return plan
