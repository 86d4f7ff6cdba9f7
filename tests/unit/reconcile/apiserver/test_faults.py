"""Fault rules aimed at one user's requests for one object."""

from __future__ import annotations

from reconcile.apiserver import Faults


def test_a_rule_with_user_and_name_takes_only_their_requests() -> None:
    faults = Faults()
    faults.fail(code=409, verb="update", resource="widgets", user="bot", name="w1")
    assert faults.take("update", "widgets", "", user="alice", name="w1") is None
    assert faults.take("update", "widgets", "", user="bot", name="w2") is None
    rule = faults.take("update", "widgets", "", user="bot", name="w1")
    assert rule is not None and rule.code == 409
    assert faults.take("update", "widgets", "", user="bot", name="w1") is None, "used once"
    assert faults.count("update", "widgets") == 4


def test_a_rule_without_user_or_name_takes_anyones() -> None:
    faults = Faults()
    faults.fail(code=503, verb="get", count=2)
    assert faults.take("get", "pods", "", user="alice", name="p") is not None
    assert faults.take("get", "nodes", "") is not None
    assert faults.take("get", "pods", "") is None
