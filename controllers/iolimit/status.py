"""The controller's decisions, as a pure function: observed state -> the next status.

``next_status`` takes what the reconciler read (the policy, the pods it selects, the pods
its throttles name, node readiness, imports from old annotations) and returns the status
fields the controller owns (``throttles``, ``removed``, counts, conditions) plus the Events
to emit once that status is written. The node agents' ``nodes`` entries are input only.

Order of a pass:

1. every throttle in force is checked against the world: its pod deleted (or replaced by
   a new pod of the same name), no longer selected, its container gone, or (for a
   policy's own decision) its rule removed from the spec: it moves to ``removed`` with that
   reason. Otherwise it follows the world: the container's current ID (a recreated
   container keeps its throttle), the pod's node, the rule's current limits, dry-run;
   its rule, window, reason and ``since`` never change here;
2. imported throttles of the replaced service are added where the container has none;
3. the agents' proposals are decided: ``Throttle`` adds a throttle (``since`` = when the
   agent saw the threshold crossed) or replaces one by a *more severe* rule; ``Release``
   lifts the throttle of that rule. A proposal about a container this policy does not
   select, from a node the container is not on, or naming an unknown rule is ignored;
4. conditions: Throttling, Degraded (naming the nodes whose agents do not report, report
   stale or fail) and Ready (in force on every node).

Deciding the same inputs twice gives the same status, so a replayed reconcile (after a
controller restart) changes nothing: no throttle dropped, none added twice.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from controllers.iolimit.migration import OldThrottle
from controllers.iolimit.rules import CompiledPolicy, Limits
from controllers.iolimit.selection import ContainerRef, running_containers
from reconcile.conditions import set_condition
from reconcile.timestamps import parse_time, rfc3339

__all__ = [
    "MAX_REMOVED",
    "MAX_THROTTLES",
    "EventSpec",
    "Import",
    "Observed",
    "Outcome",
    "next_status",
    "throttle_key",
]

MAX_THROTTLES = 200
"""status.throttles' bound in the CRD."""
MAX_REMOVED = 50
"""status.removed's bound: the newest are kept."""
_LISTED = 5
"""Names listed in a condition message before "and N more"."""

Key = tuple[str, str, str]
Obj = dict[str, Any]


def throttle_key(throttle: Mapping[str, Any]) -> Key:
    return (str(throttle["namespace"]), str(throttle["pod"]), str(throttle["container"]))


@dataclass(frozen=True, slots=True)
class EventSpec:
    """An Event to record: about a pod (``pod`` set) or about the policy itself."""

    type: str
    reason: str
    message: str
    namespace: str = ""
    pod: str = ""
    pod_uid: str = ""


@dataclass(frozen=True, slots=True)
class Import:
    """A pod whose old annotations describe ``old``."""

    pod: Obj
    old: OldThrottle


@dataclass(frozen=True, kw_only=True)
class Observed:
    """What the reconciler read for one policy."""

    policy: CompiledPolicy
    generation: int | None = None
    created_at: float | None = None
    selected: Mapping[tuple[str, str], Obj] = field(default_factory=dict)
    """Pods the policy selects, by (namespace, name)."""
    unselected: Mapping[tuple[str, str], Obj] = field(default_factory=dict)
    """Pods named by throttles that exist but are not selected any more."""
    node_ready: Mapping[str, bool] = field(default_factory=dict)
    imports: Sequence[Import] = ()
    stale_after: float = 180.0


@dataclass
class Outcome:
    status: Obj
    """The controller-owned status fields."""
    events: list[EventSpec]


def _pod_event(pod: Obj, kind: str, reason: str, message: str) -> EventSpec:
    meta = pod.get("metadata") or {}
    return EventSpec(
        kind, reason, message, meta.get("namespace", ""), meta.get("name", ""), meta.get("uid", "")
    )


class _Pass:
    """The mutable state of one ``next_status`` call."""

    def __init__(self, observed: Observed, old: Mapping[str, Any], now: float) -> None:
        self.observed = observed
        self.now = now
        self.stamp = rfc3339(now)
        self.throttles: dict[Key, Obj] = {
            throttle_key(t): dict(t) for t in old.get("throttles") or []
        }
        self.removed: list[Obj] = [dict(r) for r in old.get("removed") or []]
        self.events: list[EventSpec] = []
        self.containers: dict[str, ContainerRef] = {
            ref.container_id: ref
            for pod in observed.selected.values()
            for ref in running_containers(pod)
        }

    def remove(self, key: Key, reason: str, pod: Obj | None) -> None:
        throttle = self.throttles.pop(key)
        self.removed.insert(0, {**throttle, "removedAt": self.stamp, "removedReason": reason})
        del self.removed[MAX_REMOVED:]
        message = f"IO limits lifted from container {key[2]}: {reason}"
        if pod is not None:
            self.events.append(_pod_event(pod, "Normal", "ThrottleReleased", message))
        else:
            self.events.append(
                EventSpec("Normal", "ThrottleReleased", f"{key[0]}/{key[1]}: {message}")
            )

    def add(self, throttle: Obj, pod: Obj, message: str, reason: str = "Throttled") -> bool:
        key = throttle_key(throttle)
        if key not in self.throttles and len(self.throttles) >= MAX_THROTTLES:
            self.events.append(
                EventSpec(
                    "Warning",
                    "ThrottleLimitReached",
                    f"{MAX_THROTTLES} throttles in force: {key[0]}/{key[1]} container "
                    f"{key[2]} not throttled; narrow the policy's selector",
                )
            )
            return False
        self.throttles[key] = throttle
        self.events.append(_pod_event(pod, "Normal", reason, message))
        return True


def _check_existing(state: _Pass) -> None:
    observed = state.observed
    for key, throttle in list(state.throttles.items()):
        pod = observed.selected.get(key[:2])
        uid = throttle.get("podUID")
        if pod is None:
            other = observed.unselected.get(key[:2])
            if other is not None and (not uid or other["metadata"].get("uid") == uid):
                state.remove(key, "pod no longer selected by the policy", other)
            else:
                state.remove(key, "pod deleted", None)
            continue
        if uid and pod["metadata"].get("uid") != uid:
            state.remove(key, "pod deleted (a new pod has its name)", None)
            continue
        names = {c.get("name") for c in (pod.get("spec") or {}).get("containers") or []}
        if key[2] not in names:
            state.remove(key, f"container {key[2]} no longer in the pod", pod)
            continue
        rule = observed.policy.rule(str(throttle.get("rule", "")))
        if throttle.get("origin", "Policy") == "Policy" and rule is None:
            state.remove(key, f"rule {throttle.get('rule')} was removed from the policy", pod)
            continue
        if rule is None:  # a migrated throttle recovers by a rule of its window, if any
            throttle["rule"] = _import_rule(observed.policy, str(throttle.get("window", "")))
        _follow_world(throttle, pod, observed, rule.limits if rule is not None else None)


def _follow_world(throttle: Obj, pod: Obj, observed: Observed, limits: Limits | None) -> None:
    running = {ref.container: ref for ref in running_containers(pod)}
    ref = running.get(str(throttle["container"]))
    if ref is not None:
        throttle["containerID"] = ref.container_id
    throttle["podUID"] = pod["metadata"].get("uid", throttle.get("podUID", ""))
    node = (pod.get("spec") or {}).get("nodeName")
    if node:
        throttle["node"] = node
    if limits is not None and throttle.get("origin", "Policy") == "Policy":
        throttle["limits"] = limits.to_raw()
    throttle["dryRun"] = observed.policy.dry_run


def _throttle(ref: ContainerRef, dry_run: bool, **fields: Any) -> Obj:
    return {
        "namespace": ref.namespace,
        "pod": ref.pod,
        "container": ref.container,
        "podUID": ref.pod_uid,
        "containerID": ref.container_id,
        "node": ref.node,
        "dryRun": dry_run,
        **fields,
    }


def _import_rule(policy: CompiledPolicy, window: str) -> str:
    """The rule a migrated throttle recovers by: the most severe of its window, else any."""
    same = [r for r in policy.rules if r.window == window]
    chosen = (same or list(policy.rules))[:1]
    return chosen[0].name if chosen else ""


def _apply_imports(state: _Pass) -> None:
    policy = state.observed.policy
    for item in state.observed.imports:
        old = item.old
        for ref in running_containers(item.pod):
            existing = state.throttles.get(ref.key)
            if existing is not None and existing.get("origin") != "Migrated":
                continue  # this policy's own decision wins
            limits = {"limits": old.limits.to_raw()} if not old.limits.is_empty() else {}
            record = _throttle(
                ref,
                policy.dry_run,
                rule=_import_rule(policy, old.window),
                window=old.window,
                reason=old.reason,
                since=(existing or {}).get("since", state.stamp),
                origin="Migrated",
                **limits,
            )
            if old.removed:
                if existing is not None:
                    state.remove(
                        ref.key, old.removed_reason or "removed before migration", item.pod
                    )
                elif not any(throttle_key(r) == ref.key for r in state.removed):
                    record.update(
                        removedAt=old.removed_at or state.stamp, removedReason=old.removed_reason
                    )
                    state.removed.insert(0, record)
                    del state.removed[MAX_REMOVED:]
                continue
            if existing is not None:
                existing.update(record)
                continue
            state.add(
                record,
                item.pod,
                f"imported the replaced service's throttle of container {ref.container}: "
                f"{old.reason or old.window} ({old.limits.describe()})",
                "ThrottleImported",
            )


def _apply_proposals(state: _Pass, reports: Sequence[Mapping[str, Any]]) -> None:
    observed = state.observed
    for report in reports:
        for proposal in report.get("proposals") or []:
            ref = state.containers.get(str(proposal.get("containerID", "")))
            rule = observed.policy.rule(str(proposal.get("rule", "")))
            if ref is None or rule is None or ref.node != report.get("node"):
                continue
            pod = observed.selected[(ref.namespace, ref.pod)]
            existing = state.throttles.get(ref.key)
            current = observed.policy.rule(str(existing.get("rule", ""))) if existing else None
            if proposal.get("action") == "Release":
                if existing is not None and existing.get("rule") == rule.name:
                    state.remove(ref.key, str(proposal.get("reason") or "recovered"), pod)
                continue
            if existing is not None and (
                existing.get("rule") == rule.name
                or (current is not None and not rule.more_severe_than(current))
            ):
                continue
            reason = str(proposal.get("reason", ""))
            state.throttles.pop(ref.key, None)
            state.add(
                _throttle(
                    ref,
                    observed.policy.dry_run,
                    rule=rule.name,
                    window=rule.window,
                    limits=rule.limits.to_raw(),
                    reason=reason,
                    since=proposal.get("observedAt") or state.stamp,
                    origin="Policy",
                ),
                pod,
                f"container {ref.container} throttled by rule {rule.name} "
                f"({rule.limits.describe()}): {reason}"
                + (" [dry run: recorded, not applied]" if observed.policy.dry_run else ""),
            )


def _listed(items: Sequence[str]) -> str:
    head = ", ".join(items[:_LISTED])
    return head if len(items) <= _LISTED else f"{head} and {len(items) - _LISTED} more"


def _node_problems(state: _Pass, reports: Mapping[str, Mapping[str, Any]]) -> list[str]:
    observed = state.observed
    oldest: dict[str, float] = {}
    for pod in observed.selected.values():
        node = (pod.get("spec") or {}).get("nodeName")
        if not node or not running_containers(pod):
            continue
        created = parse_time(pod["metadata"].get("creationTimestamp")) or state.now
        oldest[node] = min(created, oldest.get(node, created))
    problems = []
    for node in sorted(oldest):
        since = max(oldest[node], observed.created_at or oldest[node])
        report = reports.get(node)
        suffix = "" if observed.node_ready.get(node, True) else ", node NotReady"
        if report is None:
            if state.now - since >= observed.stale_after:
                problems.append(f"{node} (no report{suffix})")
            continue
        reported = parse_time(report.get("reportedAt")) or 0.0
        if state.now - reported > observed.stale_after:
            problems.append(f"{node} (last report {state.now - reported:.0f}s ago{suffix})")
        elif not report.get("ready", False):
            problems.append(f"{node} ({report.get('message') or 'not ready'}{suffix})")
    return problems


def _conditions(state: _Pass, old: Mapping[str, Any]) -> list[Obj]:
    observed = state.observed
    conditions: list[Obj] = [dict(c) for c in old.get("conditions") or []]
    generation = observed.generation

    def put(kind: str, status: str, reason: str, message: str) -> None:
        set_condition(
            conditions,
            kind,
            status,
            reason,
            message,
            observed_generation=generation,
            now=state.stamp,
        )

    throttles = list(state.throttles.values())
    enforced = [t for t in throttles if not t.get("dryRun")]
    if enforced:
        put("Throttling", "True", "ContainersThrottled", f"{len(enforced)} containers throttled")
    elif throttles:
        put(
            "Throttling",
            "False",
            "DryRun",
            f"{len(throttles)} decisions recorded in dry run; no limit written",
        )
    else:
        put("Throttling", "False", "NoThrottle", "no container is throttled")
    reports = {str(r.get("node")): r for r in old.get("nodes") or []}
    problems = _node_problems(state, reports)
    if problems:
        put("Degraded", "True", "AgentsNotReporting", f"node agents failing: {_listed(problems)}")
    else:
        put("Degraded", "False", "AgentsReporting", "every node with selected pods reports")
    applied = {
        (node, str(a.get("containerID")))
        for node, report in reports.items()
        for a in report.get("applied") or []
    }
    pending = [
        f"{t['namespace']}/{t['pod']}/{t['container']} on {t.get('node') or '?'}"
        for t in enforced
        if (t.get("node"), t.get("containerID")) not in applied
    ]
    if observed.policy.errors:
        put("Ready", "False", "InvalidRule", "; ".join(observed.policy.errors)[:1024])
    elif problems:
        put("Ready", "False", "Degraded", f"node agents failing: {_listed(problems)}")
    elif pending:
        put("Ready", "False", "Applying", f"waiting for node agents to apply {_listed(pending)}")
    else:
        summary = f"{len(enforced)} throttles in force" if enforced else "no throttle to enforce"
        put("Ready", "True", "InForce", summary)
    return conditions


def next_status(observed: Observed, old: Mapping[str, Any], now: float) -> Outcome:
    """The status fields the controller owns, and the Events to emit once written."""
    state = _Pass(observed, old, now)
    _check_existing(state)
    _apply_imports(state)
    _apply_proposals(state, list(old.get("nodes") or []))
    throttles = sorted(state.throttles.values(), key=throttle_key)
    status: Obj = {
        "selectedPods": len(observed.selected),
        "activeThrottles": len(throttles),
        "throttles": throttles,
        "removed": state.removed,
        "conditions": _conditions(state, old),
    }
    if observed.generation is not None:
        status["observedGeneration"] = observed.generation
    return Outcome(status=status, events=state.events)
