"""Typed objects from and to raw dicts: names, defaults, nesting, errors."""

from __future__ import annotations

from typing import Any

import pytest

from crds import AgentPool, IOLimitPolicy, RestartRecord, from_dict, to_dict
from crds.agentpool import AgentPoolStatus, PodSlots, Slot
from crds.introspect import json_name
from crds.iolimitpolicy import IOLimits, NodeReport, RemovedThrottle

POOL: dict[str, Any] = {
    "apiVersion": "kreconcile.io/v1alpha1",
    "kind": "AgentPool",
    "metadata": {"name": "ci", "namespace": "default", "resourceVersion": "7"},
    "spec": {
        "template": {"spec": {"containers": [{"name": "agent", "image": "busybox"}]}},
        "maxReplicas": 5,
        "minReplicas": 1,
        "slotsPerAgent": 3,
    },
    "status": {
        "replicas": 1,
        "pods": [
            {
                "name": "ci-0",
                "uid": "u-1",
                "slots": [
                    {
                        "index": 0,
                        "state": "Reserved",
                        "task": "t-1",
                        "since": "2026-11-24T02:45:54Z",
                    },
                    {"index": 1},
                ],
            }
        ],
        "pending": [{"task": "t-2", "since": "2026-11-24T02:46:00Z"}],
    },
}


@pytest.mark.parametrize(
    ("attribute", "json"),
    [
        pytest.param("slots_per_agent", "slotsPerAgent", id="camel-case"),
        pytest.param("container_id", "containerID", id="initialism-id"),
        pytest.param("pod_uid", "podUID", id="initialism-uid"),
        pytest.param("reservation_ttl_seconds", "reservationTTLSeconds", id="initialism-inside"),
        pytest.param("read_iops", "readIOPS", id="iops"),
        pytest.param("name", "name", id="one-word"),
    ],
)
def test_json_names(attribute: str, json: str) -> None:
    assert json_name(attribute) == json


def test_round_trip_keeps_every_field() -> None:
    pool = AgentPool.from_dict(POOL)
    assert pool.spec.max_replicas == 5
    assert pool.status.pods[0].slots[0] == Slot(
        index=0, state="Reserved", task="t-1", since="2026-11-24T02:45:54Z"
    )
    assert pool.status.pods[0].slots[1].state == "Idle"  # the Python default
    out = pool.to_dict()
    assert out["apiVersion"] == "kreconcile.io/v1alpha1" and out["kind"] == "AgentPool"
    assert out["spec"]["template"] == POOL["spec"]["template"]
    assert out["status"]["pods"][0]["slots"][0] == POOL["status"]["pods"][0]["slots"][0]
    assert out["status"]["pending"] == POOL["status"]["pending"]
    assert AgentPool.from_dict(out) == pool


def test_none_fields_are_left_out_and_defaults_filled() -> None:
    slot = to_dict(Slot(index=2))
    assert slot == {"index": 2, "state": "Idle"}
    status = from_dict(AgentPoolStatus, {})
    assert status.pods == [] and status.replicas == 0
    assert from_dict(AgentPoolStatus, {}).pods is not status.pods  # fresh mutable defaults


def test_free_form_fields_are_shared_not_copied() -> None:
    raw: dict[str, Any] = {"spec": {"template": {"spec": {"containers": []}}, "maxReplicas": 1}}
    pool = AgentPool.from_dict(raw)
    assert pool.spec.template.spec is raw["spec"]["template"]["spec"]


def test_unknown_keys_are_ignored() -> None:
    pod = from_dict(PodSlots, {"name": "a", "surprise": 1})
    assert pod == PodSlots(name="a")


def test_missing_required_field_names_its_path() -> None:
    with pytest.raises(ValueError, match=r"status\.pods\[0\]\.name: required field missing"):
        from_dict(AgentPoolStatus, {"pods": [{"uid": "x"}]}, path="status")


def test_wrong_shape_names_its_path() -> None:
    with pytest.raises(ValueError, match=r"spec: expected an object"):
        AgentPool.from_dict({"spec": ["not", "an", "object"]})


def test_inherited_fields_and_optional_nested_types() -> None:
    raw = {
        "namespace": "batch",
        "pod": "p",
        "container": "c",
        "limits": {"writeBPS": 1024},
        "removedAt": "2026-11-24T03:00:00Z",
        "removedReason": "Recovered",
    }
    removed = from_dict(RemovedThrottle, raw)
    assert removed.limits == IOLimits(write_bps=1024)
    assert to_dict(removed) == {
        **raw,
        "podUID": "",
        "containerID": "",
        "node": "",
        "rule": "",
        "reason": "",
        "dryRun": False,
        "origin": "Policy",
    }


def test_integers_decode_into_float_fields() -> None:
    policy = IOLimitPolicy.from_dict(
        {
            "spec": {
                "selector": {"matchLabels": {"a": "b"}},
                "rules": [
                    {
                        "name": "r",
                        "window": "15m",
                        "thresholds": [{"metric": "ReadIOPS", "fractionOfCapacity": 1}],
                        "limits": {"readIOPS": 10},
                    }
                ],
                "recovery": {"belowRatio": 1, "delaySeconds": 5},
            }
        }
    )
    assert isinstance(policy.spec.rules[0].thresholds[0].fraction_of_capacity, float)
    assert isinstance(policy.spec.recovery.below_ratio, float)
    assert policy.spec.excluded_namespaces == ["kube-system"]


def test_restart_record_maps_and_lists() -> None:
    record = RestartRecord.from_dict(
        {
            "metadata": {"name": "web-1"},
            "spec": {"podName": "web-1"},
            "status": {
                "containers": [
                    {
                        "name": "app",
                        "restarts": 2,
                        "reasons": {"OOMKilled": 1, "Unknown": 1},
                        "history": [{"podUID": "u", "restartCount": 2, "reason": "OOMKilled"}],
                    }
                ]
            },
        }
    )
    container = record.status.containers[0]
    assert container.reasons == {"OOMKilled": 1, "Unknown": 1}
    assert container.history[0].reason == "OOMKilled"
    assert record.to_dict()["status"]["containers"][0]["reasons"] == container.reasons


def test_node_report_key_is_the_node() -> None:
    report = NodeReport(node="node-1", ready=True)
    assert to_dict(report)["node"] == "node-1"
