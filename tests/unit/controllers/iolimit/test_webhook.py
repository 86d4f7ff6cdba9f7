"""The IOLimitPolicy webhook: a policy selecting pods another policy selects is admitted
with a warning naming the other; the overlap rules are exact."""

from __future__ import annotations

from typing import Any

import pytest

from controllers.iolimit.webhook import (
    IOLimitPolicyValidator,
    namespaces_overlap,
    overlapping_policies,
    selectors_overlap,
)
from crds import IOLimitPolicy
from crds.iolimitpolicy import DEFINITION as IOLIMIT_DEFINITION
from reconcile.envtest.fake import FakeClient


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


def test_overlaps_are_named_whatever_the_priorities() -> None:
    others = [_policy("same", "db", 5), _policy("higher", "db", 6),
              _policy("elsewhere", "web", 5), _policy("mine", "db", 5)]  # fmt: skip
    assert overlapping_policies(_policy("mine", "db", 1, 5), others) == ["higher", "same"]


def test_validator_warns_naming_the_other_policy_and_stays_quiet_on_old_overlaps() -> None:
    existing = _policy("db-throttle", "db", 5)
    client = FakeClient(crds=[IOLIMIT_DEFINITION.manifest()], objects=[existing])
    validator = IOLimitPolicyValidator(client)
    (warning,) = validator.validate_create(_policy("db-strict", "db", 5)) or []
    assert warning.startswith('spec.selector: IOLimitPolicy "db-throttle" also select')
    assert "per limit, the lowest value" in warning
    assert not validator.validate_create(_policy("web", "web", 5))

    client.create(_policy("legacy", "db", 5))  # overlapping since before this edit
    legacy = client.get(IOLimitPolicy, "legacy")
    assert not validator.validate_update(legacy, {**legacy, "spec": {**legacy["spec"]}})
    moved = _policy("web-only", "web", 5)
    client.create(moved)
    (warning,) = validator.validate_update(moved, _policy("web-only", "db", 5)) or []
    assert 'IOLimitPolicies "db-throttle", "legacy" also select' in warning
