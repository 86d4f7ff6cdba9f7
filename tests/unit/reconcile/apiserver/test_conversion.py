"""One store, two versions: Events and HorizontalPodAutoscalers converted both ways."""

from __future__ import annotations

from reconcile.apiserver.conversion import from_storage, to_storage
from reconcile.apiserver.registry import Registry

REGISTRY = Registry()


def test_hpa_v1_cpu_target_is_a_v2_resource_metric_and_back() -> None:
    v1 = REGISTRY.lookup("autoscaling", "v1", "horizontalpodautoscalers")
    v2 = REGISTRY.lookup("autoscaling", "v2", "horizontalpodautoscalers")
    assert v1 is not None and v2 is not None
    hpa = {
        "apiVersion": "autoscaling/v1",
        "kind": "HorizontalPodAutoscaler",
        "metadata": {"name": "h"},
        "spec": {"scaleTargetRef": {"kind": "Deployment", "name": "d"}, "maxReplicas": 3,
                 "targetCPUUtilizationPercentage": 50},
    }  # fmt: skip
    stored = to_storage(v1, hpa)
    assert stored["spec"]["metrics"] == [
        {
            "type": "Resource",
            "resource": {
                "name": "cpu",
                "target": {"type": "Utilization", "averageUtilization": 50},
            },
        }
    ]
    assert from_storage(v2, stored)["apiVersion"] == "autoscaling/v2"
    assert from_storage(v1, stored) == hpa


def test_events_v1_fields_map_to_core_names_and_back() -> None:
    events = REGISTRY.lookup("events.k8s.io", "v1", "events")
    core = REGISTRY.lookup("", "v1", "events")
    assert events is not None and core is not None
    event = {
        "apiVersion": "events.k8s.io/v1",
        "kind": "Event",
        "metadata": {"name": "e"},
        "regarding": {"kind": "Pod", "name": "p"},
        "note": "hello",
        "reportingController": "ctl",
        "deprecatedCount": 2,
    }
    stored = to_storage(events, event)
    assert (stored["involvedObject"], stored["message"], stored["count"]) == (
        {"kind": "Pod", "name": "p"},
        "hello",
        2,
    )
    assert from_storage(core, stored)["apiVersion"] == "v1"
    assert from_storage(events, stored) == event
