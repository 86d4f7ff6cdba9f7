"""controllerutil and the event recorder against the embedded API server."""

from __future__ import annotations

from typing import Any

import pytest

from reconcile.client import Client
from reconcile.controllerutil import (
    AlreadyOwnedError,
    add_finalizer,
    create_or_patch,
    create_or_update,
    remove_finalizer,
    set_controller_reference,
)
from reconcile.gvk import GroupVersionKind
from reconcile.recorder import EventRecorder, RecorderOptions

EVENT = GroupVersionKind("", "v1", "Event")


def _cm(name: str) -> dict[str, Any]:
    return {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {"name": name, "namespace": "default"},
    }


def test_create_or_update_reports_what_it_did(client: Client) -> None:
    def mutate(obj: dict[str, Any]) -> None:
        obj["data"] = {"a": "1"}

    assert create_or_update(client, _cm("c"), mutate)[0] == "created"
    assert create_or_update(client, _cm("c"), mutate)[0] == "unchanged"
    assert create_or_update(client, _cm("c"), lambda o: o.update(data={"a": "2"}))[0] == "updated"
    assert create_or_patch(client, _cm("c"), lambda o: o.update(data={"a": "2"}))[0] == "unchanged"
    result, obj = create_or_patch(client, _cm("c"), lambda o: o["data"].update(b="3"))
    assert result == "updated" and obj["data"] == {"a": "2", "b": "3"}


def test_finalizers_and_controller_reference(client: Client) -> None:
    owner = client.create(_cm("owner"))
    other = client.create(_cm("other"))
    child = _cm("child")
    assert add_finalizer(child, "example.com/x") and not add_finalizer(child, "example.com/x")
    set_controller_reference(owner, child)
    with pytest.raises(AlreadyOwnedError, match="already controlled by ConfigMap 'owner'"):
        set_controller_reference(other, child)
    assert remove_finalizer(child, "example.com/x") and child["metadata"]["finalizers"] == []
    created = client.create(child)
    assert created["metadata"]["ownerReferences"][0]["uid"] == owner["metadata"]["uid"]


def test_recorder_aggregates_repeats(client: Client) -> None:
    subject = client.create(_cm("noisy"))
    recorder = EventRecorder(client, "test-controller", RecorderOptions(burst=1000))
    for _ in range(100):
        recorder.event(subject, "Warning", "Failing", "same message")
    assert recorder.flush()
    events = client.list(EVENT, namespace="default")["items"]
    assert len(events) == 1
    assert events[0]["count"] == 100
    assert events[0]["source"] == {"component": "test-controller"}
    assert events[0]["involvedObject"]["uid"] == subject["metadata"]["uid"]


def test_recorder_spam_filter_bounds_a_hot_loop(client: Client) -> None:
    subject = client.create(_cm("hot"))
    recorder = EventRecorder(client, "hot-loop", RecorderOptions(burst=5, refill_interval=3600))
    for i in range(50):
        recorder.event(subject, "Normal", f"Reason{i}", "different every time")
    assert recorder.flush()
    assert recorder.written == 5 and recorder.dropped == 45
    recorder.close()


def test_recorder_combines_similar_messages(client: Client) -> None:
    subject = client.create(_cm("similar"))
    recorder = EventRecorder(client, "similar", RecorderOptions(burst=1000, similar_threshold=3))
    for i in range(10):
        recorder.event(subject, "Warning", "Failed", f"attempt {i} failed")
    assert recorder.flush()
    events = client.list(EVENT, namespace="default")["items"]
    combined = [e for e in events if e["message"].startswith("(combined from similar events): ")]
    assert len(combined) == 1 and combined[0]["count"] == 7
    assert len(events) == 4
