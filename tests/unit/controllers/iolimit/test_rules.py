"""Policy semantics: thresholds, reasons, severity, recovery, the strictest of several."""

from __future__ import annotations

from typing import Any

import pytest

from controllers.iolimit.rules import Limits, compile_policy

CAPACITY = {"readIOPS": 20000, "writeIOPS": 10000, "readBPS": 500_000_000, "writeBPS": 250_000_000}


def _rule(
    name: str, window: str, *thresholds: dict[str, Any], priority: int = 0, **limits: int
) -> dict[str, Any]:
    return {
        "name": name,
        "window": window,
        "thresholds": list(thresholds),
        "limits": limits or {"readIOPS": 100},
        "priority": priority,
    }


def _spec(*rules: dict[str, Any], **extra: Any) -> dict[str, Any]:
    return {"deviceCapacity": CAPACITY, "rules": list(rules), **extra}


def _rates(riops: float = 0, wiops: float = 0, rbps: float = 0, wbps: float = 0) -> Any:
    return (riops, wiops, rbps, wbps)


READ_065 = {"metric": "ReadIOPS", "fractionOfCapacity": 0.65}
WRITE_BPS_100M = {"metric": "WriteBPS", "above": 100_000_000}


@pytest.mark.parametrize(
    ("rules", "averages", "expected"),
    [
        pytest.param([_rule("r", "15m", READ_065)], {"15m": _rates(riops=13001)},
                     ("r", "15m window [ReadIOPS:0.65]"), id="fraction-crossed-reads-as-old-service"),
        pytest.param([_rule("r", "15m", READ_065)], {"15m": _rates(riops=13000)},
                     None, id="fraction-at-level-is-not-above"),
        pytest.param([_rule("r", "15m", WRITE_BPS_100M)], {"15m": _rates(wbps=125_829_120)},
                     ("r", "15m window [WriteBPS:125829120]"), id="absolute-shows-rate"),
        pytest.param([_rule("r", "15m", {"metric": "WriteIOPS", "above": 1})],
                     {"15m": _rates(wiops=2.5)}, ("r", "15m window [WriteIOPS:2.50]"),
                     id="small-rates-two-decimals"),
        pytest.param([_rule("r", "15m", READ_065, {"metric": "WriteIOPS",
                                                     "fractionOfCapacity": 0.5})],
                     {"15m": _rates(riops=13100, wiops=5800)},
                     ("r", "15m window [ReadIOPS:0.66,WriteIOPS:0.58]"),
                     id="every-crossed-threshold-named"),
        pytest.param([_rule("r", "30m", READ_065)], {"15m": _rates(riops=20000)}, None,
                     id="other-window-not-judged"),
        pytest.param([_rule("r", "60m", READ_065)], {}, None, id="unknown-window-never-triggers"),
        pytest.param([_rule("soft", "15m", READ_065, readIOPS=4000),
                      _rule("hard", "60m", WRITE_BPS_100M, priority=10, writeBPS=1)],
                     {"15m": _rates(riops=15000), "60m": _rates(wbps=200_000_000)},
                     ("hard", "60m window [WriteBPS:200000000]"), id="higher-priority-wins"),
        pytest.param([_rule("loose", "15m", READ_065, readIOPS=4000),
                      _rule("tight", "30m", READ_065, readIOPS=1000)],
                     {"15m": _rates(riops=15000), "30m": _rates(riops=15000)},
                     ("tight", "30m window [ReadIOPS:0.75]"), id="tie-lower-limits-win"),
        pytest.param([_rule("loose", "15m", READ_065, readIOPS=4000),
                      _rule("tight", "30m", READ_065, readIOPS=1000)],
                     {"15m": _rates(riops=15000), "30m": _rates(riops=100)},
                     ("loose", "15m window [ReadIOPS:0.75]"), id="only-triggered-rules-compete"),
        pytest.param([_rule("b", "15m", READ_065, readIOPS=10),
                      _rule("a", "15m", READ_065, readIOPS=10)],
                     {"15m": _rates(riops=15000)}, ("a", "15m window [ReadIOPS:0.75]"),
                     id="full-tie-by-name"),
    ],
)  # fmt: skip
def test_most_severe_trigger(rules: list[dict[str, Any]], averages: Any, expected: Any) -> None:
    trigger = compile_policy(_spec(*rules)).most_severe_trigger(averages)
    found = None if trigger is None else (trigger.rule.name, trigger.reason)
    assert found == expected


@pytest.mark.parametrize(
    ("averages", "recovered"),
    [
        pytest.param({"15m": _rates(riops=10400)}, False, id="at-ratio-is-not-below"),
        pytest.param({"15m": _rates(riops=10399)}, True, id="below-ratio-of-fraction-level"),
        pytest.param({"15m": _rates(riops=10399, wbps=90_000_000)}, False,
                     id="every-threshold-must-be-below"),
        pytest.param({"30m": _rates()}, False, id="rule-window-unknown"),
    ],
)  # fmt: skip
def test_recovery_is_below_a_ratio_of_every_threshold(averages: Any, recovered: bool) -> None:
    policy = compile_policy(
        _spec(_rule("r", "15m", READ_065, WRITE_BPS_100M), recovery={"belowRatio": 0.8})
    )
    reason = policy.below_recovery(policy.rules[0], averages)
    assert (reason is not None) == recovered
    if reason is not None:
        assert reason.startswith("recovered: 15m window below 80% of the threshold for 600s [")


def test_limits_strictest_is_lowest_per_field() -> None:
    merged = Limits.strictest(
        [Limits(read_iops=4000, write_bps=20), Limits(read_iops=300), Limits(write_iops=7)]
    )
    assert merged == Limits(read_iops=300, write_iops=7, write_bps=20)
    assert Limits.strictest([]) == Limits()
    assert Limits.from_raw({"readIOPS": 5, "writeBPS": 9}).to_raw() == {
        "readIOPS": 5,
        "writeBPS": 9,
    }


@pytest.mark.parametrize(
    ("rule", "error"),
    [
        pytest.param(_rule("r", "5m", READ_065), "spec.rules[0].window: unknown window '5m'",
                     id="unknown-window"),
        pytest.param(_rule("r", "15m", {"metric": "ReadIOPS", "fractionOfCapacity": 0.5}),
                     "spec.rules[0].thresholds[0].fractionOfCapacity: spec.deviceCapacity."
                     "readIOPS is not declared", id="capacity-missing"),
        pytest.param({**_rule("r", "15m", WRITE_BPS_100M), "limits": {}},
                     "spec.rules[0].limits: set at least one", id="no-limits"),
    ],
)  # fmt: skip
def test_rules_that_cannot_be_evaluated_are_named(rule: dict[str, Any], error: str) -> None:
    spec = {"rules": [rule], "deviceCapacity": {"writeIOPS": 1}}
    policy = compile_policy(spec)
    assert policy.rules == ()
    assert policy.errors[0].startswith(error)


def test_compiled_defaults_and_dry_run() -> None:
    policy = compile_policy(_spec(_rule("r", "15m", READ_065), dryRun=True))
    assert (policy.below_ratio, policy.delay_seconds, policy.dry_run) == (0.8, 600.0, True)
    assert policy.rule("r") is policy.rules[0]
    assert policy.rule("missing") is None
