"""Which pods a policy selects, and a pod's running containers."""

from __future__ import annotations

from typing import Any

import pytest

from controllers.iolimit.selection import PodSelection, label_selector, running_containers
from reconcile.timestamps import parse_time, rfc3339
from tests.unit.controllers.iolimit.builders import STAMP, cid, pod


@pytest.mark.parametrize(
    ("spec", "watch", "target", "selected"),
    [
        pytest.param({"selector": {"matchLabels": {"app": "worker"}}}, (), pod("a"), True,
                     id="labels-match-any-namespace"),
        pytest.param({"selector": {"matchLabels": {"app": "web"}}}, (), pod("a"), False,
                     id="labels-differ"),
        pytest.param({"selector": {}, "namespaces": ["batch"]}, (), pod("a"), True,
                     id="namespace-listed-empty-selector"),
        pytest.param({"selector": {}, "namespaces": ["other"]}, (), pod("a"), False,
                     id="namespace-not-listed"),
        pytest.param({"selector": {}, "namespaces": ["kube-system"]}, (),
                     pod("a", namespace="kube-system"), False, id="kube-system-excluded-by-default"),
        pytest.param({"selector": {}, "namespaces": ["batch"], "excludedNamespaces": ["batch"]},
                     (), pod("a"), False, id="exclusion-wins-over-listing"),
        pytest.param({"selector": {}, "excludedNamespaces": []}, (),
                     pod("a", namespace="kube-system"), True, id="exclusions-can-be-emptied"),
        pytest.param({"selector": {}, "namespaces": ["batch"]}, ("team",), pod("a"), False,
                     id="outside-the-operators-namespaces"),
        pytest.param({"selector": {"matchExpressions": [
                         {"key": "tier", "operator": "In", "values": ["db", "cache"]},
                         {"key": "canary", "operator": "DoesNotExist"}]}}, (),
                     pod("a", labels={"tier": "db"}), True, id="expressions-anded"),
        pytest.param({"selector": {"matchExpressions": [
                         {"key": "tier", "operator": "NotIn", "values": ["db"]}]}}, (),
                     pod("a", labels={"tier": "db"}), False, id="not-in"),
        pytest.param({"selector": {"matchExpressions": [
                         {"key": "tier", "operator": "Exists"}]}}, (),
                     pod("a", labels={}), False, id="exists"),
    ],
)  # fmt: skip
def test_selects(spec: dict[str, Any], watch: tuple[str, ...], target: Any, selected: bool) -> None:
    assert PodSelection.of(spec, watch).selects(target) is selected


def test_unknown_operator_is_named() -> None:
    with pytest.raises(ValueError, match="unknown operator 'Like'; use In, NotIn"):
        label_selector({"matchExpressions": [{"key": "a", "operator": "Like"}]})


def test_running_containers_skip_waiting_and_unstarted() -> None:
    target = pod("w", containers={"app": cid("a"), "side": cid("b")}, started=STAMP)
    target["status"]["containerStatuses"][1]["state"] = {"waiting": {"reason": "Pulling"}}
    target["status"]["containerStatuses"].append({"name": "new", "state": {"running": {}}})
    refs = running_containers(target)
    assert [(r.container, r.container_id, r.node, r.qos) for r in refs] == [
        ("app", cid("a"), "node-1", "BestEffort")
    ]
    assert refs[0].started_at == parse_time(STAMP)
    assert refs[0].key == ("batch", "w", "app")


def test_time_round_trip() -> None:
    assert rfc3339(parse_time(STAMP) or 0.0) == STAMP
    assert parse_time("yesterday") is None
    assert parse_time(None) is None
