"""Proposals from samples (first sighting kept, hysteresis) and the node's report entry."""

from __future__ import annotations

from typing import Any

from controllers.iolimit.agent.plan import Plan, build_plan
from controllers.iolimit.agent.report import Evaluator, build_report, content_of
from controllers.iolimit.agent.windows import WindowSeries
from controllers.iolimit.compiler import PolicyCompiler
from reconcile.timestamps import rfc3339
from tests.unit.controllers.iolimit.builders import (
    NOW,
    cid,
    pod,
    policy,
    proposal,
    report,
    rule,
    throttle,
)

W = cid("w")
START = NOW - 60
"""The container started a minute before NOW: its windows are exact from the first reading."""
FRESH = pod("w1", started=rfc3339(START))


def _plan(*policies: dict[str, Any], pods: Any = (FRESH,)) -> Plan:
    return build_plan("node-1", list(policies), list(pods), PolicyCompiler())


def _series(*readings: tuple[float, int]) -> dict[str, WindowSeries]:
    series = WindowSeries(started_at=START, spacing=1.0)
    for at, wios in readings:
        series.add(at, (0, wios, 0, 0))
    return {W: series}


def _candidate(evaluator: Evaluator, name: str = "p") -> tuple[str, str, str, float] | None:
    found = evaluator.candidates.get((name, W))
    return None if found is None else (found.action, found.rule, found.reason, found.observed_at)


def test_a_crossing_is_proposed_with_its_first_sighting() -> None:
    evaluator = Evaluator()
    plan = _plan(policy())
    evaluator.evaluate(plan, _series((NOW, 200_000)))
    assert _candidate(evaluator) == ("Throttle", "heavy", "15m window [WriteIOPS:222]", NOW)
    evaluator.evaluate(plan, _series((NOW, 200_000), (NOW + 10, 300_000)))
    assert _candidate(evaluator) == ("Throttle", "heavy", "15m window [WriteIOPS:222]", NOW)
    evaluator.evaluate(plan, _series((NOW + 20, 10)))
    assert _candidate(evaluator) is None


def test_only_a_more_severe_rule_is_proposed_over_a_throttle() -> None:
    soft, hard = rule("soft", above=100, readIOPS=9), rule("hard", above=200, priority=5)
    evaluator = Evaluator()
    held_by_hard = _plan(
        policy("p", soft, hard, status={"throttles": [throttle(rule_name="hard")]})
    )
    evaluator.evaluate(held_by_hard, _series((NOW, 100_000)))
    assert _candidate(evaluator) is None
    held_by_soft = _plan(
        policy("p", soft, hard, status={"throttles": [throttle(rule_name="soft")]})
    )
    evaluator.evaluate(held_by_soft, _series((NOW, 200_000)))
    assert _candidate(evaluator)[:2] == ("Throttle", "hard")  # type: ignore[index]


def test_release_needs_the_whole_delay_below_the_ratio() -> None:
    plan = _plan(policy(status={"throttles": [throttle()]}))
    evaluator = Evaluator()
    readings = [(NOW, 1000)]
    evaluator.evaluate(plan, _series(*readings))
    assert _candidate(evaluator) is None, "below since NOW; the delay is 60 s"
    readings.append((NOW + 30, 1100))
    evaluator.evaluate(plan, _series(*readings))
    assert _candidate(evaluator) is None
    readings.append((NOW + 40, 80_000))
    evaluator.evaluate(plan, _series(*readings))
    assert _candidate(evaluator) is None, "above 80% of the threshold: timing restarts"
    for moment, wios in ((NOW + 1000, 80_100), (NOW + 1030, 80_110)):
        readings.append((moment, wios))
        evaluator.evaluate(plan, _series(*readings))
        assert _candidate(evaluator) is None, "below again since NOW + 1000"
    readings.append((NOW + 1060, 80_120))
    evaluator.evaluate(plan, _series(*readings))
    found = _candidate(evaluator)
    assert found is not None and found[:2] == ("Release", "heavy")
    assert found[2].startswith("recovered: 15m window below 80% of the threshold for 60s")


def _entry(plan: Plan, evaluator: Evaluator, applied: dict[str, list[str]] | None = None) -> Any:
    return build_report(
        node="node-1",
        view=plan.views["p"],
        plan=plan,
        applied=applied or {},
        candidates=evaluator.candidates,
        version="v2",
        error="",
        now=NOW,
    )


def test_report_lists_open_proposals_then_drops_decided_ones() -> None:
    evaluator = Evaluator()
    undecided = _plan(policy())
    evaluator.evaluate(undecided, _series((NOW, 200_000)))
    entry = _entry(undecided, evaluator)
    assert entry["proposals"] == [
        {
            "containerID": W,
            "action": "Throttle",
            "rule": "heavy",
            "window": "15m",
            "reason": "15m window [WriteIOPS:222]",
            "observedAt": rfc3339(NOW),
        }
    ]
    assert (entry["containers"], entry["applied"], entry["ready"]) == (1, [], True)
    decided = _plan(policy(status={"throttles": [throttle()]}))
    entry = _entry(decided, evaluator, {W: ["8:0"]})
    assert entry["proposals"] == []
    assert entry["applied"] == [{"containerID": W, "devices": ["8:0"]}]


def test_nothing_to_report_and_content_ignores_the_time() -> None:
    plan = _plan(policy(), pods=[pod("w1", labels={"app": "web"})])
    assert _entry(plan, Evaluator()) is None
    entry = _entry(_plan(policy()), Evaluator())
    assert content_of(entry) == content_of({**entry, "reportedAt": "later"})


def test_a_restarted_agent_keeps_its_undecided_proposal_until_it_can_judge_again() -> None:
    old_container = pod("w1", started=rfc3339(NOW - 7200))
    left = report(proposals=[proposal(W, at=rfc3339(NOW - 30))])
    plan = _plan(policy(status={"nodes": [left]}), pods=[old_container])
    evaluator = Evaluator()
    evaluator.carry_over(plan)
    assert _candidate(evaluator) == ("Throttle", "heavy", "15m window [WriteIOPS:222]", NOW - 30)
    older = WindowSeries(started_at=NOW - 7200, spacing=1.0)
    older.add(NOW, (0, 5_000_000, 0, 0))
    evaluator.evaluate(plan, {W: older})
    assert _candidate(evaluator) is not None, "the 15m window is not known yet"
    older.add(NOW + 900, (0, 5_000_900, 0, 0))
    evaluator.evaluate(plan, {W: older})
    assert _candidate(evaluator) is None, "judged again: 1 write per second is no crossing"
