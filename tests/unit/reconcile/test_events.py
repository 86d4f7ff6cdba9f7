"""The events.k8s.io/v1 recorder: fields, and repeats folded into a series."""

from __future__ import annotations

import pytest

from reconcile.events import EventsRecorder, EventsRecorderOptions
from tests.unit.reconcile.memory_writer import MemoryWriter

Events = MemoryWriter


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


POOL = {
    "apiVersion": "kreconcile.io/v1alpha1",
    "kind": "AgentPool",
    "metadata": {"name": "pool", "namespace": "ns", "uid": "u-pool", "resourceVersion": "7"},
}
POD = {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "pool-0", "namespace": "ns"}}


def _recorder(events: Events, clock: Clock) -> EventsRecorder:
    options = EventsRecorderOptions(reporting_instance="ctrl-host", clock=clock)
    return EventsRecorder(events, "agentpool-controller", options)


def test_an_event_names_what_was_done_to_what() -> None:
    events = Events()
    recorder = _recorder(events, Clock())
    recorder.eventf(POOL, POD, "Normal", "ScaledUp", "CreatePod", "created pod %s", "pool-0")
    assert recorder.close()
    (event,) = events.created
    assert event["apiVersion"] == "events.k8s.io/v1"
    assert event["metadata"]["namespace"] == "ns"
    assert event["metadata"]["name"].startswith("pool.")
    assert event["regarding"] == {
        "apiVersion": "kreconcile.io/v1alpha1",
        "kind": "AgentPool",
        "name": "pool",
        "namespace": "ns",
        "uid": "u-pool",
        "resourceVersion": "7",
    }
    assert event["related"] == {
        "apiVersion": "v1",
        "kind": "Pod",
        "name": "pool-0",
        "namespace": "ns",
    }
    assert (event["type"], event["reason"], event["action"]) == ("Normal", "ScaledUp", "CreatePod")
    assert event["note"] == "created pod pool-0"
    assert (event["reportingController"], event["reportingInstance"]) == (
        "agentpool-controller",
        "ctrl-host",
    )
    assert event["eventTime"].endswith("Z") and "." in event["eventTime"]


def test_repeats_become_a_series_patched_on_refresh_and_close() -> None:
    events, clock = Events(), Clock()
    recorder = _recorder(events, clock)
    for note in ("slot 1 expired", "slot 2 expired", "slot 3 expired", "slot 4 expired"):
        recorder.eventf(POOL, None, "Warning", "Expired", "ReleaseSlot", note)
        clock.now += 10
    assert recorder.flush()
    assert len(events.created) == 1, "isomorphic events fold into one (the note may differ)"
    name = events.created[0]["metadata"]["name"]
    assert [(n, p["series"]["count"]) for n, p in events.patched] == [(name, 2)]
    assert recorder.close()
    assert [(n, p["series"]["count"]) for n, p in events.patched] == [(name, 2), (name, 4)]


def test_a_silent_series_ends_and_a_different_action_is_another_event() -> None:
    events, clock = Events(), Clock()
    recorder = _recorder(events, clock)
    recorder.eventf(POOL, None, "Normal", "Synced", "Reconcile", "ok")
    recorder.eventf(POOL, None, "Normal", "Synced", "Resync", "ok")
    assert recorder.flush(), "written at time 0"
    clock.now = 361.0  # past the 6-minute series window
    recorder.eventf(POOL, None, "Normal", "Synced", "Reconcile", "ok")
    assert recorder.close()
    assert [e["action"] for e in events.created] == ["Reconcile", "Resync", "Reconcile"]
    assert events.patched == []


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("Info", "R", "A", "n"), "Normal or Warning"),
        (("Normal", "", "A", "n"), "needs a reason and an action"),
        (("Normal", "R", "", "n"), "needs a reason and an action"),
    ],
)
def test_bad_events_are_refused(args: tuple[str, str, str, str], message: str) -> None:
    recorder = _recorder(Events(), Clock())
    try:
        with pytest.raises(ValueError, match=message):
            recorder.eventf(POOL, None, *args)
    finally:
        assert recorder.close()
