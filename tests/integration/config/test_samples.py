"""The CRDs on the embedded server: samples accepted, printer columns, explain, bad objects.

Every invalid object goes through kubectl and must be refused with the offending field named
in the error, the way kube-apiserver reports 422 causes (``spec.minReplicas: Invalid value``).
"""

from __future__ import annotations

import copy
import json
import re
from collections.abc import Callable
from typing import Any

import pytest
import yaml

from tests.conftest import Kubectl
from tests.integration.config.manifests import CONFIG

SAMPLES = CONFIG / "samples"
Mutation = Callable[[dict[str, Any]], None]


@pytest.fixture(scope="module")
def crds(shared_kubectl: Kubectl) -> Kubectl:
    shared_kubectl("apply", "-k", str(CONFIG / "crd"))
    return shared_kubectl


@pytest.fixture(scope="module")
def applied_samples(crds: Kubectl) -> str:
    return crds("apply", "-f", str(SAMPLES))


def _sample(kind: str) -> dict[str, Any]:
    loaded: dict[str, Any] = yaml.safe_load(
        (SAMPLES / f"kreconcile_v1alpha1_{kind}.yaml").read_text()
    )
    return loaded


def test_samples_are_accepted_and_listed_with_their_columns(
    crds: Kubectl, applied_samples: str
) -> None:
    assert applied_samples.count(" created") == 3, applied_samples
    crds(
        "patch", "agentpool", "ci-agents", "--subresource=status", "--type=merge", "-p",
        json.dumps({"status": {"replicas": 2, "readyReplicas": 1, "busySlots": 4,
                               "idleSlots": 2, "pendingClaims": 1}}),
    )  # fmt: skip
    table = crds("get", "rr,iolp,ap").splitlines()
    headers = [line.split() for line in table if line.startswith("NAME")]
    assert headers == [
        ["NAME", "POD", "RESTARTS", "MISSED", "LAST", "REASON", "LAST", "RESTART", "AGE"],
        ["NAME", "SELECTED", "THROTTLED", "DRY", "RUN", "READY", "AGE"],
        ["NAME", "REPLICAS", "READY", "MAX", "BUSY", "IDLE", "PENDING", "AGE"],
    ]
    pool_row = next(line.split() for line in table if line.startswith("agentpool."))
    assert pool_row[1:7] == ["2", "1", "10", "4", "2", "1"]
    assert pool_row[7].endswith("s")  # the age, as kube-apiserver renders date columns
    policy_row = next(line.split() for line in table if line.startswith("iolimitpolicy."))
    assert "true" in policy_row  # dry run
    wide = crds("get", "ap", "ci-agents", "-o", "wide").splitlines()[0].split()
    assert "MIN" in wide  # priority-1 columns only with -o wide
    assert crds("get", "kreconcile", "-o", "name").count("kreconcile.io/") == 3


def test_explain_shows_the_types_descriptions(crds: Kubectl) -> None:
    text = crds("explain", "iolimitpolicy.spec.rules")
    assert "When a container's IO over a window crosses any threshold" in text
    assert "window\t<string> -required-" in text
    assert "enum: 15m, 30m, 60m" in text
    assert "the most severe" in text
    pool = crds("explain", "agentpool.spec.replicas")
    assert "never deletes a busy pod" in pool


def _set(path: str, value: Any) -> Mutation:
    def mutate(obj: dict[str, Any]) -> None:
        *parents, last = path.split(".")
        node: Any = obj
        for key in parents:
            node = node[int(key)] if isinstance(node, list) else node.setdefault(key, {})
        if isinstance(node, list):
            node[int(last)] = value
        elif value is _DELETE:
            del node[last]
        else:
            node[last] = value

    return mutate


_DELETE = object()
_RULE = {
    "name": "extra",
    "window": "30m",
    "thresholds": [{"metric": "WriteIOPS", "above": 100}],
    "limits": {"writeIOPS": 50},
}

INVALID_SPECS: list[Any] = [
    # AgentPool
    pytest.param("agentpool", _set("spec.minReplicas", 11), "spec.minReplicas",
                 "minReplicas must not be greater than maxReplicas", id="ap-min-over-max"),
    pytest.param("agentpool", _set("spec.slotsPerAgent", 0), "spec.slotsPerAgent",
                 "should be greater than or equal to 1", id="ap-zero-slots"),
    pytest.param("agentpool", _set("spec.maxReplicas", 201), "spec.maxReplicas",
                 "should be less than or equal to 200", id="ap-max-too-big"),
    pytest.param("agentpool", _set("spec.replicas", 11), "spec.replicas",
                 "replicas must not be greater than maxReplicas", id="ap-replicas-over-max"),
    pytest.param("agentpool", _set("spec.reservationTTLSeconds", -5),
                 "spec.reservationTTLSeconds", "greater than or equal to 1", id="ap-negative-ttl"),
    pytest.param("agentpool", _set("spec.template", _DELETE), "spec.template", "Required value",
                 id="ap-no-template"),
    pytest.param("agentpool",
                 _set("spec.template.metadata.labels", {f"k{i}": "v" for i in range(65)}),
                 "spec.template.metadata.labels", "must have at most 64 items",
                 id="ap-too-many-labels"),
    # IOLimitPolicy
    pytest.param("iolimitpolicy", _set("spec.rules.0.window", "5m"), "spec.rules[0].window",
                 'Unsupported value: "5m"', id="iolp-unknown-window"),
    pytest.param("iolimitpolicy", _set("spec.rules.0.limits.readIOPS", -1),
                 "spec.rules[0].limits.readIOPS", "greater than or equal to 1",
                 id="iolp-negative-limit"),
    pytest.param("iolimitpolicy", _set("spec.rules.0.limits", {}), "spec.rules[0].limits",
                 "set at least one of readIOPS", id="iolp-no-limits"),
    pytest.param("iolimitpolicy",
                 _set("spec.rules.0.thresholds.0", {"metric": "ReadIOPS", "above": 5,
                                                    "fractionOfCapacity": 0.5}),
                 "spec.rules[0].thresholds[0]", "set exactly one of above",
                 id="iolp-two-levels"),
    pytest.param("iolimitpolicy", _set("spec.rules.0.thresholds.0.fractionOfCapacity", 1.5),
                 "spec.rules[0].thresholds[0].fractionOfCapacity", "less than or equal to 1",
                 id="iolp-fraction-over-one"),
    pytest.param("iolimitpolicy", _set("spec.rules.0.thresholds.0.metric", "IOPS"),
                 "spec.rules[0].thresholds[0].metric", 'Unsupported value: "IOPS"',
                 id="iolp-unknown-metric"),
    pytest.param("iolimitpolicy", _set("spec.deviceCapacity", _DELETE), "spec.rules",
                 "fractionOfCapacity thresholds need spec.deviceCapacity",
                 id="iolp-fraction-without-capacity"),
    pytest.param("iolimitpolicy",
                 lambda o: (o["spec"].pop("namespaces"), o["spec"].update(selector={})),
                 "spec.selector", "an empty selector selects every pod",
                 id="iolp-empty-selector"),
    pytest.param("iolimitpolicy",
                 _set("spec.rules", [{**_RULE, "name": f"r{i}"} for i in range(17)]),
                 "spec.rules", "must have at most 16 items", id="iolp-too-many-rules"),
    pytest.param("iolimitpolicy", _set("spec.rules", [_RULE, _RULE]), "spec.rules[1]",
                 "Duplicate value", id="iolp-duplicate-rule"),
    pytest.param("iolimitpolicy", _set("spec.recovery.belowRatio", 0), "spec.recovery.belowRatio",
                 "should be greater than 0", id="iolp-zero-recovery-ratio"),
    # RestartRecord
    pytest.param("restartrecord", _set("spec", {}), "spec",
                 "set exactly one of podName", id="rr-no-subject"),
    pytest.param("restartrecord", _set("spec.inspection", {"clusterName": "prod"}), "spec",
                 "set exactly one of podName", id="rr-two-subjects"),
    pytest.param("restartrecord", _set("spec.podName", "p" * 254), "spec.podName",
                 "Too long", id="rr-long-pod-name"),
]  # fmt: skip


def _errors_by_name(stderr: str) -> dict[str, str]:
    """kubectl's one error line per refused object, by object name."""
    errors: dict[str, str] = {}
    for line in stderr.splitlines():
        match = re.search(r'"(invalid-\d+)" is invalid: (.*)', line)
        if match:
            errors[match.group(1)] = match.group(2)
    return errors


@pytest.fixture(scope="module")
def spec_errors(crds: Kubectl) -> dict[str, str]:
    """Every invalid object of the table in one kubectl apply; each is refused on its own."""
    items = []
    for index, param in enumerate(INVALID_SPECS):
        kind, mutate = param.values[0], param.values[1]
        obj = copy.deepcopy(_sample(kind))
        obj["metadata"]["name"] = f"invalid-{index}"
        mutate(obj)
        items.append(obj)
    result = crds.run(
        "apply", "-f", "-", input=json.dumps({"apiVersion": "v1", "kind": "List", "items": items}),
        check=False,
    )  # fmt: skip
    assert result.returncode != 0
    assert "created" not in result.stdout, f"accepted: {result.stdout}"
    return _errors_by_name(result.stderr)


@pytest.mark.parametrize(
    ("index", "field", "message"),
    [pytest.param(i, p.values[2], p.values[3], id=p.id) for i, p in enumerate(INVALID_SPECS)],
)
def test_invalid_objects_are_refused_with_the_field_named(
    spec_errors: dict[str, str], index: int, field: str, message: str
) -> None:
    error = spec_errors.get(f"invalid-{index}")
    assert error is not None, f"not refused; errors: {spec_errors}"
    assert f"{field}:" in error, error
    assert message in error, error


def _pool_status(pending: int) -> dict[str, Any]:
    return {"pending": [{"task": f"t{i}", "since": "2026-11-24T02:45:54Z"} for i in range(pending)]}


INVALID_STATUS: list[Any] = [
    pytest.param("agentpool", _pool_status(513), "status.pending",
                 "must have at most 512 items", id="ap-too-many-pending"),
    pytest.param("agentpool",
                 {"pods": [{"name": "ci-agents-0", "slots": [{"index": 0, "task": "t1"}]}]},
                 "status.pods[0].slots[0].task", "an Idle slot has none", id="ap-idle-with-task"),
    pytest.param("agentpool",
                 {"pods": [{"name": "ci-agents-0", "slots": [{"index": 16}]}]},
                 "status.pods[0].slots[0].index", "less than or equal to 15",
                 id="ap-slot-index-out-of-range"),
    pytest.param("iolimitpolicy",
                 {"nodes": [{"node": f"n{i}"} for i in range(65)]},
                 "status.nodes", "must have at most 64 items", id="iolp-too-many-nodes"),
    pytest.param("iolimitpolicy",
                 {"throttles": [{"namespace": "batch", "pod": "p", "container": "c",
                                 "limits": {"readIOPS": -3}}]},
                 "status.throttles[0].limits.readIOPS", "greater than or equal to 1",
                 id="iolp-negative-throttle"),
    pytest.param("iolimitpolicy",
                 {"nodes": [{"node": "n1", "proposals": [
                     {"containerID": "containerd://a", "action": "Pause", "rule": "r"}]}]},
                 "status.nodes[0].proposals[0].action", 'Unsupported value: "Pause"',
                 id="iolp-unknown-proposal"),
    pytest.param("iolimitpolicy",
                 {"nodes": [{"node": "n1", "proposals": [
                     {"containerID": f"containerd://{i}", "action": "Throttle", "rule": "r"}
                     for i in range(5)]}]},
                 "status.nodes[0].proposals", "must have at most 4 items",
                 id="iolp-too-many-proposals"),
    pytest.param("restartrecord",
                 {"containers": [{"name": "app", "history": [
                     {"podUID": "u", "restartCount": 1, "reason": "Crashed"}]}]},
                 "status.containers[0].history[0].reason", 'Unsupported value: "Crashed"',
                 id="rr-unknown-reason"),
    pytest.param("restartrecord",
                 {"containers": [{"name": "app", "reasons": {"Segfault": 1}}]},
                 "status.containers[0].reasons", "keys must be restart reasons",
                 id="rr-unknown-reason-key"),
    pytest.param("restartrecord",
                 {"containers": [{"name": "app", "history": [
                     {"podUID": "u", "restartCount": i + 1, "reason": "Error"}
                     for i in range(33)]}]},
                 "status.containers[0].history", "must have at most 32 items",
                 id="rr-history-too-long"),
]  # fmt: skip


@pytest.fixture(scope="module")
def status_errors(crds: Kubectl, applied_samples: str) -> dict[str, str]:
    """One object per invalid status, then every status written in one server-side apply."""
    objects, statuses = [], []
    for index, param in enumerate(INVALID_STATUS):
        kind, status = param.values[0], param.values[1]
        obj = copy.deepcopy(_sample(kind))
        obj["metadata"]["name"] = f"invalid-{index}"
        objects.append(obj)
        head = {k: obj[k] for k in ("apiVersion", "kind")}
        statuses.append({**head, "metadata": {"name": obj["metadata"]["name"]}, "status": status})
    crds(
        "apply", "-f", "-", input=json.dumps({"apiVersion": "v1", "kind": "List", "items": objects})
    )
    result = crds.run(
        "apply", "--server-side", "--subresource=status", "--field-manager=test", "-f", "-",
        input=json.dumps({"apiVersion": "v1", "kind": "List", "items": statuses}), check=False,
    )  # fmt: skip
    assert result.returncode != 0
    assert "serverside-applied" not in result.stdout, f"accepted: {result.stdout}"
    return _errors_by_name(result.stderr)


@pytest.mark.parametrize(
    ("index", "field", "message"),
    [pytest.param(i, p.values[2], p.values[3], id=p.id) for i, p in enumerate(INVALID_STATUS)],
)
def test_invalid_status_is_refused_with_the_field_named(
    status_errors: dict[str, str], index: int, field: str, message: str
) -> None:
    error = status_errors.get(f"invalid-{index}")
    assert error is not None, f"not refused; errors: {status_errors}"
    assert f"{field}:" in error, error
    assert message in error, error
