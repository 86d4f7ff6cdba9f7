"""The IOLimitPolicy webhook: overlapping selectors at equal precedence are refused, naming
the other policy; the overlap and precedence rules are exact."""

from __future__ import annotations

from typing import Any

import pytest

from controllers.iolimit.webhook import (
    IOLimitPolicyValidator,
    conflicting_policies,
    namespaces_overlap,
    precedence,
    selectors_overlap,
)
from crds import IOLimitPolicy
from crds.iolimitpolicy import DEFINITION as IOLIMIT_DEFINITION
from reconcile.envtest.fake import FakeClient
from reconcile.errors import Invalid


def _expr(key: str, operator: str, *values: str) -> dict[str, Any]:
    return {"key": key, "operator": operator, "values": list(values)}


@pytest.mark.parametrize(
    ("a", "b", "overlap"),
    [
        pytest.param({"matchLabels": {"app": "db"}}, {"matchLabels": {"app": "db"}}, True,
                     id="same-labels"),
        pytest.param({"matchLabels": {"app": "db"}}, {"matchLabels": {"app": "web"}}, False,
                     id="different-values"),
        pytest.param({"matchLabels": {"app": "db"}}, {"matchLabels": {"tier": "x"}}, True,
                     id="different-keys-both-settable"),
        pytest.param({"matchExpressions": [_expr("app", "In", "db", "web")]},
                     {"matchExpressions": [_expr("app", "NotIn", "db")]}, True,
                     id="in-minus-notin-leaves-web"),
        pytest.param({"matchExpressions": [_expr("app", "In", "db")]},
                     {"matchExpressions": [_expr("app", "NotIn", "db")]}, False,
                     id="in-minus-notin-empty"),
        pytest.param({"matchExpressions": [_expr("app", "Exists")]},
                     {"matchExpressions": [_expr("app", "DoesNotExist")]}, False,
                     id="exists-vs-absent"),
        pytest.param({"matchLabels": {"app": "db"}},
                     {"matchExpressions": [_expr("app", "DoesNotExist")]}, False,
                     id="label-vs-absent"),
        pytest.param({"matchExpressions": [_expr("app", "NotIn", "db")]},
                     {"matchExpressions": [_expr("app", "DoesNotExist")]}, True,
                     id="notin-allows-absent"),
        pytest.param({"matchExpressions": [_expr("app", "In", "a", "b")]},
                     {"matchExpressions": [_expr("app", "In", "b", "c")]}, True,
                     id="in-sets-intersect"),
    ],
)  # fmt: skip
def test_selectors_overlap(a: dict[str, Any], b: dict[str, Any], overlap: bool) -> None:
    assert selectors_overlap(a, b) is overlap
    assert selectors_overlap(b, a) is overlap


@pytest.mark.parametrize(
    ("a", "b", "overlap"),
    [
        pytest.param({}, {}, True, id="both-everywhere"),
        pytest.param({"namespaces": ["a"]}, {"namespaces": ["b"]}, False, id="disjoint"),
        pytest.param({"namespaces": ["a", "b"]}, {"namespaces": ["b"]}, True, id="shared"),
        pytest.param({"namespaces": ["a"]}, {"excludedNamespaces": ["a"]}, False,
                     id="excluded-by-the-other"),
        pytest.param({"namespaces": ["kube-system"]}, {}, False, id="kube-system-by-default"),
        pytest.param({"namespaces": ["kube-system"], "excludedNamespaces": []},
                     {"excludedNamespaces": []}, True, id="unless-unexcluded"),
    ],
)  # fmt: skip
def test_namespaces_overlap(a: dict[str, Any], b: dict[str, Any], overlap: bool) -> None:
    assert namespaces_overlap(a, b) is overlap
    assert namespaces_overlap(b, a) is overlap


def _policy(
    name: str, app: str, *priorities: int, namespaces: tuple[str, ...] = ()
) -> dict[str, Any]:
    rules = [{"name": f"r{i}", "window": "15m", "priority": p,
              "thresholds": [{"metric": "ReadIOPS", "above": 10}], "limits": {"readIOPS": 5}}
             for i, p in enumerate(priorities or (0,))]  # fmt: skip
    return {
        "apiVersion": "kreconcile.io/v1alpha1",
        "kind": "IOLimitPolicy",
        "metadata": {"name": name},
        "spec": {"selector": {"matchLabels": {"app": app}}, "namespaces": list(namespaces),
                 "rules": rules},
    }  # fmt: skip


def test_precedence_is_the_highest_rule_priority() -> None:
    assert precedence(_policy("p", "db", 1, 7, 3)) == 7
    assert precedence({"spec": {"rules": [{"name": "r"}]}}) == 0


def test_only_equal_precedence_overlaps_conflict() -> None:
    others = [_policy("same", "db", 5), _policy("higher", "db", 6),
              _policy("elsewhere", "web", 5), _policy("mine", "db", 5)]  # fmt: skip
    assert conflicting_policies(_policy("mine", "db", 1, 5), others) == ["same"]


def test_validator_refuses_naming_the_other_policy_and_lets_old_overlaps_be_edited() -> None:
    existing = _policy("db-throttle", "db", 5)
    client = FakeClient(crds=[IOLIMIT_DEFINITION.manifest()], objects=[existing])
    validator = IOLimitPolicyValidator(client)
    with pytest.raises(Invalid) as error:
        validator.validate_create(_policy("db-strict", "db", 5))
    message = error.value.message
    assert message.startswith('IOLimitPolicy.kreconcile.io "db-strict" is invalid: spec.selector:')
    assert 'IOLimitPolicy "db-throttle" also selects' in message
    assert "same precedence (5, the highest rule priority of each)" in message
    validator.validate_create(_policy("db-urgent", "db", 9))  # a higher precedence passes

    client.create(_policy("legacy", "db", 5))  # overlapping since before the webhook
    legacy = client.get(IOLimitPolicy, "legacy")
    validator.validate_update(legacy, {**legacy, "spec": {**legacy["spec"]}})  # still editable
    moved = _policy("web-only", "web", 5)
    client.create(moved)
    with pytest.raises(Invalid, match='"db-throttle", "legacy"'):
        validator.validate_update(moved, _policy("web-only", "db", 5))
