"""From samples to proposals, and from the node's state to its report in each policy.

``Evaluator`` runs after every sample. For each container a policy selects it asks the
policy's rules (``rules.CompiledPolicy``) about the container's known windows:

- the most severe triggered rule becomes a ``Throttle`` proposal when the container has no
  throttle of this policy, or one by a less severe rule; the proposal keeps the time and
  reason of its first sample, so it reads the same until the controller decides;
- a throttled container whose rule's thresholds all stay below the recovery ratio is timed
  from the first such sample; once that lasts ``delaySeconds`` it becomes a ``Release``
  proposal. One sample above the ratio restarts the timing (hysteresis). After an agent
  restart the timing starts again: a throttle is then held longer, never dropped early.

``build_report`` turns the node's state into its entry of a policy's ``status.nodes``:
the containers sampled, the throttles in force here, the proposals still undecided (at
most four, oldest first) and whether the agent works.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal

from controllers.iolimit.agent.plan import Plan, PolicyView
from controllers.iolimit.agent.windows import WindowSeries
from controllers.iolimit.rules import CompiledRule
from reconcile.timestamps import parse_time, rfc3339

__all__ = ["MAX_APPLIED", "MAX_PROPOSALS", "Candidate", "Evaluator", "build_report", "content_of"]

MAX_PROPOSALS = 4
"""status.nodes[].proposals' bound in the CRD."""
MAX_APPLIED = 32
"""status.nodes[].applied's bound in the CRD."""

_ACTIONS = ("Throttle", "Release")
CandidateKey = tuple[str, str]
"""(policy name, container ID)."""


@dataclass(frozen=True, slots=True)
class Candidate:
    action: Literal["Throttle", "Release"]
    rule: str
    window: str
    reason: str
    observed_at: float


def _escalates(
    rule: CompiledRule, throttle: Mapping[str, Any] | None, current: CompiledRule | None
) -> bool:
    """Whether ``rule`` should replace the container's throttle (or start one)."""
    if throttle is None:
        return True
    if throttle.get("rule") == rule.name:
        return False
    return current is None or rule.more_severe_than(current)


class Evaluator:
    """Proposals per (policy, container) from the windows; remembers first sightings."""

    def __init__(self) -> None:
        self._first: dict[tuple[str, str, str], tuple[float, str]] = {}
        self._below: dict[tuple[str, str, str], float] = {}
        self._carried: dict[CandidateKey, Candidate] = {}
        self.candidates: dict[CandidateKey, Candidate] = {}

    def carry_over(self, plan: Plan) -> None:
        """Adopt the proposals an earlier run of this agent left in its reports.

        They stand until this run's own windows can judge their rule (a restart must not
        withdraw a crossing the controller has not decided yet, for an older container whose
        window takes a while to rebuild).
        """
        for name, view in plan.views.items():
            for item in (view.report or {}).get("proposals") or []:
                cid = str(item.get("containerID", ""))
                observed = parse_time(item.get("observedAt"))
                action = item.get("action")
                if cid not in plan.refs or observed is None or action not in _ACTIONS:
                    continue
                candidate = Candidate(
                    action,
                    str(item.get("rule", "")),
                    str(item.get("window", "")),
                    str(item.get("reason", "")),
                    observed,
                )
                self._carried[(name, cid)] = candidate
                self.candidates[(name, cid)] = candidate

    def evaluate(self, plan: Plan, series: Mapping[str, WindowSeries]) -> None:
        first: dict[tuple[str, str, str], tuple[float, str]] = {}
        below: dict[tuple[str, str, str], float] = {}
        candidates: dict[CandidateKey, Candidate] = {}
        for cid, ref in plan.refs.items():
            samples = series.get(cid)
            at = samples.last_time if samples is not None else None
            if samples is None or at is None:
                continue
            averages = samples.averages()
            for name in plan.selecting.get(cid, ()):
                view = plan.views[name]
                policy = view.policy
                throttle = view.throttle_for(ref)
                current = policy.rule(str(throttle.get("rule"))) if throttle else None
                trigger = policy.most_severe_trigger(averages)
                if trigger is not None and _escalates(trigger.rule, throttle, current):
                    key = (name, cid, trigger.rule.name)
                    seen, reason = first[key] = self._first.get(key, (at, trigger.reason))
                    candidates[(name, cid)] = Candidate(
                        "Throttle", trigger.rule.name, trigger.rule.window, reason, seen
                    )
                    continue
                if current is None:
                    continue
                recovered = policy.below_recovery(current, averages)
                if recovered is None:
                    continue
                key = (name, cid, current.name)
                since = below[key] = self._below.get(key, at)
                if at - since >= policy.delay_seconds:
                    candidates[(name, cid)] = Candidate(
                        "Release", current.name, current.window, recovered, at
                    )
        for held, carried in list(self._carried.items()):
            samples = series.get(held[1])
            known = samples is not None and carried.window in samples.averages()
            if known or held[1] not in plan.refs:
                del self._carried[held]
            else:
                candidates.setdefault(held, carried)
        self._first, self._below, self.candidates = first, below, candidates


def _still_open(candidate: Candidate, view: PolicyView, throttle: Mapping[str, Any] | None) -> bool:
    """Whether the controller has not decided the candidate yet (per the cached status)."""
    if candidate.action == "Release":
        return throttle is not None and throttle.get("rule") == candidate.rule
    rule = view.policy.rule(candidate.rule)
    if rule is None:
        return False
    current = view.policy.rule(str(throttle.get("rule"))) if throttle else None
    return _escalates(rule, throttle, current)


def build_report(
    *,
    node: str,
    view: PolicyView,
    plan: Plan,
    applied: Mapping[str, list[str]],
    candidates: Mapping[CandidateKey, Candidate],
    version: str | None,
    error: str,
    now: float,
) -> dict[str, Any] | None:
    """This node's entry for ``view``'s policy; None when the node has nothing there."""
    selected = [cid for cid, names in plan.selecting.items() if view.name in names]
    in_force = sorted(
        cid
        for cid, ref in plan.refs.items()
        if (t := view.throttle_for(ref)) is not None and not t.get("dryRun") and cid in applied
    )
    proposals = sorted(
        (
            (c.observed_at, cid, c)
            for (name, cid), c in candidates.items()
            if name == view.name
            and cid in plan.refs
            and _still_open(c, view, view.throttle_for(plan.refs[cid]))
        ),
        key=lambda item: (item[0], item[1]),
    )[:MAX_PROPOSALS]
    if not selected and not in_force and not proposals:
        return None
    entry: dict[str, Any] = {
        "node": node,
        "reportedAt": rfc3339(now),
        "containers": len(selected),
        "applied": [
            {"containerID": cid, "devices": applied[cid]} for cid in in_force[:MAX_APPLIED]
        ],
        "proposals": [
            {
                "containerID": cid,
                "action": c.action,
                "rule": c.rule,
                "window": c.window,
                "reason": c.reason[:128],
                "observedAt": rfc3339(at),
            }
            for at, cid, c in proposals
        ],
        "ready": not error,
        "message": error[:512],
    }
    if version is not None:
        entry["cgroupVersion"] = version
    return entry


def content_of(entry: Mapping[str, Any] | None) -> dict[str, Any] | None:
    """The entry without its timestamp: what decides whether a report must be written."""
    if entry is None:
        return None
    return {k: v for k, v in entry.items() if k != "reportedAt"}
