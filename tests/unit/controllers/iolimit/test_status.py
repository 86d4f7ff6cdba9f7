"""The controller's decisions (``status.next_status``): one behaviour per row."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import pytest

from controllers.iolimit.migration import OldThrottle
from controllers.iolimit.rules import Limits, compile_policy
from controllers.iolimit.status import MAX_REMOVED, MAX_THROTTLES, Import, Observed, next_status
from reconcile.timestamps import parse_time
from tests.unit.controllers.iolimit.builders import (
    EARLIER,
    NOW,
    STAMP,
    cid,
    pod,
    policy,
    proposal,
    report,
    rule,
    throttle,
)

W1 = pod("w1")


def _decide(
    obj: dict[str, Any],
    pods: Sequence[dict[str, Any]] = (W1,),
    *,
    unselected: Sequence[dict[str, Any]] = (),
    imports: Sequence[Import] = (),
    node_ready: dict[str, bool] | None = None,
    now: float = NOW,
) -> Any:
    def by_key(items: Sequence[dict[str, Any]]) -> dict[tuple[str, str], dict[str, Any]]:
        return {(p["metadata"]["namespace"], p["metadata"]["name"]): p for p in items}

    observed = Observed(
        policy=compile_policy(obj["spec"]),
        generation=1,
        created_at=parse_time(obj["metadata"]["creationTimestamp"]),
        selected=by_key(pods),
        unselected=by_key(unselected),
        node_ready=node_ready or {},
        imports=imports,
        stale_after=180.0,
    )
    return next_status(observed, obj["status"], now)


def _summary(outcome: Any) -> tuple[list[tuple[Any, ...]], list[tuple[str, str]], list[str]]:
    throttles = [
        (t["pod"], t["rule"], t["since"], t["containerID"][-4:], t.get("limits"), t["dryRun"])
        for t in outcome.status["throttles"]
    ]
    removed = [(r["pod"], r["removedReason"]) for r in outcome.status["removed"]]
    return throttles, removed, [e.reason for e in outcome.events]


SOFT = rule("soft", readIOPS=4000)
HARD = rule("hard", priority=10, writeIOPS=5)
HEAVY_W1 = ("w1", "heavy", EARLIER, "wwww", {"writeIOPS": 50}, False)

CASES = [
    pytest.param(policy(status={"nodes": [report(proposals=[proposal(cid("w"))])]}), (W1,),
                 ([("w1", "heavy", STAMP, "wwww", {"writeIOPS": 50}, False)], [], ["Throttled"]),
                 id="proposal-becomes-throttle-since-observed"),
    pytest.param(policy(status={"nodes": [report("node-2", proposals=[proposal(cid("w"))])]}),
                 (W1,), ([], [], []), id="proposal-from-another-node-ignored"),
    pytest.param(policy(status={"nodes": [report(proposals=[proposal(cid("w"), rule_name="x")])]}),
                 (W1,), ([], [], []), id="proposal-naming-unknown-rule-ignored"),
    pytest.param(policy(status={"nodes": [report(proposals=[proposal(cid("z"))])]}),
                 (W1,), ([], [], []), id="proposal-for-unselected-container-ignored"),
    pytest.param(policy(status={"throttles": [throttle()],
                                "nodes": [report(proposals=[proposal(cid("w"))])]}),
                 (W1,), ([HEAVY_W1], [], []), id="replayed-proposal-changes-nothing"),
    pytest.param(policy("p", SOFT, HARD, status={
                     "throttles": [throttle(rule_name="soft", limits={"readIOPS": 4000})],
                     "nodes": [report(proposals=[proposal(cid("w"), rule_name="hard")])]}),
                 (W1,), ([("w1", "hard", STAMP, "wwww", {"writeIOPS": 5}, False)], [],
                         ["Throttled"]), id="more-severe-rule-replaces"),
    pytest.param(policy("p", SOFT, HARD, status={
                     "throttles": [throttle(rule_name="hard", limits={"writeIOPS": 5})],
                     "nodes": [report(proposals=[proposal(cid("w"), rule_name="soft")])]}),
                 (W1,), ([("w1", "hard", EARLIER, "wwww", {"writeIOPS": 5}, False)], [], []),
                 id="less-severe-rule-ignored"),
    pytest.param(policy(status={"throttles": [throttle()], "nodes": [report(proposals=[
                     proposal(cid("w"), "Release", reason="recovered: 15m window below")])]}),
                 (W1,), ([], [("w1", "recovered: 15m window below")], ["ThrottleReleased"]),
                 id="release-lifts-throttle"),
    pytest.param(policy("p", rule(), SOFT, status={"throttles": [throttle()], "nodes": [
                     report(proposals=[proposal(cid("w"), "Release", rule_name="soft")])]}),
                 (W1,), ([HEAVY_W1], [], []), id="release-of-another-rule-ignored"),
    pytest.param(policy(status={"throttles": [throttle()]}), (),
                 ([], [("w1", "pod deleted")], ["ThrottleReleased"]), id="pod-deleted"),
    pytest.param(policy(status={"throttles": [throttle()]}), (pod("w1", uid="other"),),
                 ([], [("w1", "pod deleted (a new pod has its name)")], ["ThrottleReleased"]),
                 id="pod-replaced-by-namesake"),
    pytest.param(policy(status={"throttles": [throttle(container="gone")]}), (W1,),
                 ([], [("w1", "container gone no longer in the pod")], ["ThrottleReleased"]),
                 id="container-removed-from-pod"),
    pytest.param(policy(status={"throttles": [throttle(rule_name="old")]}), (W1,),
                 ([], [("w1", "rule old was removed from the policy")], ["ThrottleReleased"]),
                 id="rule-removed-from-spec"),
    pytest.param(policy(status={"throttles": [throttle(rule_name="gone", origin="Migrated",
                                                        limits={"readBPS": 7})]}), (W1,),
                 ([("w1", "heavy", EARLIER, "wwww", {"readBPS": 7}, False)], [], []),
                 id="migrated-throttle-keeps-limits-recovers-by-its-windows-rule"),
    pytest.param(policy("p", rule(writeIOPS=10), status={"throttles": [throttle()]}), (W1,),
                 ([("w1", "heavy", EARLIER, "wwww", {"writeIOPS": 10}, False)], [], []),
                 id="limits-follow-the-rule"),
    pytest.param(policy(status={"throttles": [throttle()]}), (pod("w1", containers={
                     "app": cid("n")}),),
                 ([("w1", "heavy", EARLIER, "nnnn", {"writeIOPS": 50}, False)], [], []),
                 id="recreated-container-keeps-throttle-under-new-id"),
    pytest.param(policy(status={"nodes": [report(proposals=[proposal(cid("w"))])]},
                        dryRun=True), (W1,),
                 ([("w1", "heavy", STAMP, "wwww", {"writeIOPS": 50}, True)], [], ["Throttled"]),
                 id="dry-run-records-decision"),
    pytest.param(policy(status={"throttles": [throttle(dryRun=True)]}), (W1,),
                 ([HEAVY_W1], [], []), id="dry-run-switched-off-enforces"),
]  # fmt: skip


@pytest.mark.parametrize(("obj", "pods", "expected"), CASES)
def test_decisions(obj: dict[str, Any], pods: Any, expected: Any) -> None:
    assert _summary(_decide(obj, pods)) == expected


def test_deselected_pod_is_released_with_that_reason() -> None:
    obj = policy(status={"throttles": [throttle()]})
    outcome = _decide(obj, (), unselected=(pod("w1", labels={"app": "web"}),))
    assert _summary(outcome)[1] == [("w1", "pod no longer selected by the policy")]
    assert outcome.events[0].pod == "w1"


def test_same_inputs_twice_give_the_same_status() -> None:
    obj = policy(status={"nodes": [report(proposals=[proposal(cid("w"))])]})
    first = _decide(obj)
    again = _decide({**obj, "status": {**obj["status"], **first.status}})
    assert again.status == first.status
    assert again.events == []


def test_removed_is_newest_first_and_bounded() -> None:
    old = [{**throttle(f"old{i}"), "removedAt": EARLIER, "removedReason": "x"} for i in range(50)]
    outcome = _decide(policy(status={"throttles": [throttle()], "removed": old}), ())
    removed = outcome.status["removed"]
    assert len(removed) == MAX_REMOVED
    assert removed[0]["pod"] == "w1" and removed[0]["removedAt"] == STAMP
    assert removed[-1]["pod"] == "old48"


def test_throttles_are_bounded_with_a_warning() -> None:
    many = [throttle(f"t{i}", container_id=cid(str(i % 10))) for i in range(MAX_THROTTLES)]
    pods = [pod(f"t{i}", containers={"app": cid(str(i % 10))}) for i in range(MAX_THROTTLES)]
    extra = pod("w1")
    obj = policy(status={"throttles": many, "nodes": [report(proposals=[proposal(cid("w"))])]})
    outcome = _decide(obj, [*pods, extra])
    assert len(outcome.status["throttles"]) == MAX_THROTTLES
    assert [e.reason for e in outcome.events] == ["ThrottleLimitReached"]


def _conditions(outcome: Any) -> dict[str, tuple[str, str, str]]:
    return {
        c["type"]: (c["status"], c["reason"], c["message"]) for c in outcome.status["conditions"]
    }


def test_conditions_when_in_force() -> None:
    obj = policy(status={"throttles": [throttle()], "nodes": [report(applied=[cid("w")])]})
    conditions = _conditions(_decide(obj))
    assert conditions["Ready"] == ("True", "InForce", "1 throttles in force")
    assert conditions["Throttling"] == ("True", "ContainersThrottled", "1 containers throttled")
    assert conditions["Degraded"][0] == "False"


def test_ready_waits_for_the_agent_to_apply() -> None:
    obj = policy(status={"throttles": [throttle()], "nodes": [report()]})
    assert _conditions(_decide(obj))["Ready"] == (
        "False",
        "Applying",
        "waiting for node agents to apply batch/w1/app on node-1",
    )


@pytest.mark.parametrize(
    ("reports", "node_ready", "message"),
    [
        pytest.param([], {}, "node agents failing: node-1 (no report)", id="no-report"),
        pytest.param([report(at="2027-01-15T07:50:00Z")], {},
                     "node agents failing: node-1 (last report 600s ago)", id="stale"),
        pytest.param([report(ready=False, message="cgroup gone")], {"node-1": False},
                     "node agents failing: node-1 (cgroup gone, node NotReady)",
                     id="failing-on-a-not-ready-node"),
    ],
)  # fmt: skip
def test_degraded_names_the_nodes(
    reports: list[dict[str, Any]], node_ready: dict[str, bool], message: str
) -> None:
    outcome = _decide(policy(status={"nodes": reports}), node_ready=node_ready)
    conditions = _conditions(outcome)
    assert conditions["Degraded"] == ("True", "AgentsNotReporting", message)
    assert conditions["Ready"] == ("False", "Degraded", message)


def test_new_pods_get_time_before_a_missing_report_degrades() -> None:
    young = pod("w1", created="2027-01-15T07:59:00Z")
    assert _conditions(_decide(policy(), (young,)))["Degraded"][0] == "False"


def test_invalid_rule_keeps_ready_false() -> None:
    obj = policy("p", {**rule(), "window": "5m"})
    assert _conditions(_decide(obj))["Ready"][:2] == ("False", "InvalidRule")


OLD = OldThrottle(window="30m", reason="30m window [ReadIOPS:0.65]", limits=Limits(read_iops=300))


def test_import_adds_a_migrated_throttle_per_container() -> None:
    target = pod("w1", containers={"app": cid("a"), "side": cid("b")})
    obj = policy("p", rule("heavy", "15m"), rule("slow", "30m"))
    outcome = _decide(obj, (target,), imports=[Import(target, OLD)])
    throttles = outcome.status["throttles"]
    assert [(t["container"], t["origin"], t["rule"], t["window"], t["reason"], t["limits"])
            for t in throttles] == [
        ("app", "Migrated", "slow", "30m", OLD.reason, {"readIOPS": 300}),
        ("side", "Migrated", "slow", "30m", OLD.reason, {"readIOPS": 300}),
    ]  # fmt: skip
    assert [e.reason for e in outcome.events] == ["ThrottleImported", "ThrottleImported"]
    again = _decide({**obj, "status": outcome.status}, (target,), imports=[Import(target, OLD)])
    assert again.status["throttles"] == throttles and again.events == []


def test_import_never_overrides_the_policys_own_decision() -> None:
    obj = policy(status={"throttles": [throttle(container="app", container_id=cid("w"))]})
    outcome = _decide(obj, imports=[Import(W1, OLD)])
    assert _summary(outcome)[0] == [HEAVY_W1]


def test_imported_removal_goes_to_history_once() -> None:
    old = OldThrottle(
        window="15m",
        reason="r",
        limits=Limits(),
        removed=True,
        removed_at="2024-01-15T10:30:00Z",
        removed_reason="IO recovered",
    )
    outcome = _decide(policy(), imports=[Import(W1, old)])
    assert outcome.status["throttles"] == []
    assert [
        (r["pod"], r["removedAt"], r["removedReason"], r["origin"])
        for r in outcome.status["removed"]
    ] == [("w1", "2024-01-15T10:30:00Z", "IO recovered", "Migrated")]
    again = _decide(policy(status=outcome.status), imports=[Import(W1, old)])
    assert len(again.status["removed"]) == 1
