"""What a node must enforce: the strictest limits of every policy's throttles in force."""

from __future__ import annotations

from controllers.iolimit.agent.plan import build_plan
from controllers.iolimit.compiler import PolicyCompiler
from controllers.iolimit.rules import Limits
from tests.unit.controllers.iolimit.builders import cid, pod, policy, report, rule, throttle


def test_several_policies_matching_one_pod_the_lowest_limit_wins_per_field() -> None:
    first = policy(
        "a",
        rule(writeIOPS=50, readBPS=1000),
        status={"throttles": [throttle(limits={"writeIOPS": 50, "readBPS": 1000})]},
    )
    second = policy(
        "b",
        rule(writeIOPS=80, writeBPS=7),
        status={"throttles": [throttle(limits={"writeIOPS": 80, "writeBPS": 7})]},
    )
    plan = build_plan("node-1", [first, second], [pod("w1")], PolicyCompiler())
    assert plan.desired == {cid("w"): Limits(write_iops=50, read_bps=1000, write_bps=7)}
    assert plan.selecting == {cid("w"): ["a", "b"]}


def test_dry_run_namesakes_and_other_nodes_are_not_enforced() -> None:
    throttles = [
        throttle("w1", dryRun=True),
        throttle("w2", podUID="uid-previous"),
        throttle("w3", node="node-2"),
    ]
    pods = [
        pod("w1"),
        pod("w2", containers={"app": cid("x")}),
        pod("w3", node="node-2", containers={"app": cid("y")}),
    ]
    plan = build_plan("node-1", [policy(status={"throttles": throttles})], pods, PolicyCompiler())
    assert plan.desired == {}
    assert sorted(plan.refs) == sorted([cid("w"), cid("x")])


def test_throttled_pod_no_longer_selected_is_still_enforced_until_released() -> None:
    obj = policy(status={"throttles": [throttle()], "nodes": [report(applied=[cid("w")])]})
    plan = build_plan("node-1", [obj], [pod("w1", labels={"app": "web"})], PolicyCompiler())
    assert plan.desired == {cid("w"): Limits(write_iops=50)}
    assert plan.selecting == {cid("w"): []}
    assert plan.reported_applied == {cid("w")}
