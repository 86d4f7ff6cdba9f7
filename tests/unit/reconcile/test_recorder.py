"""The event recorder's memory is bounded and its sender thread stops on close."""

from __future__ import annotations

from typing import Any

from reconcile.recorder import EventRecorder, RecorderOptions
from tests.unit.reconcile.memory_writer import MemoryWriter

Events = MemoryWriter


def _pod(i: int) -> dict[str, Any]:
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": f"p{i}", "namespace": "ns", "uid": f"uid-{i}"},
    }


def test_memory_per_object_is_bounded_by_an_lru() -> None:
    events = Events()
    recorder = EventRecorder(events, "test", RecorderOptions(cache_size=8))
    try:
        for i in range(100):
            recorder.event(_pod(i), "Normal", "Started", "started")
        assert recorder.flush(10)
        assert recorder.remembered() == 8
        assert len(events.created) == 100
        # A recent object is still aggregated; the oldest was forgotten and starts afresh.
        recorder.event(_pod(99), "Normal", "Started", "started")
        recorder.event(_pod(0), "Normal", "Started", "started")
        assert recorder.flush(10)
        assert len(events.patched) == 1 and len(events.created) == 101
    finally:
        assert recorder.close()


def test_close_writes_what_is_queued_then_stops_the_sender() -> None:
    events = Events()
    recorder = EventRecorder(events, "test")
    for i in range(5):
        recorder.event(_pod(i), "Warning", "Failed", "failed")
    assert recorder.close(10)
    assert len(events.created) == 5
    assert not recorder._sender.is_alive()
    assert recorder.close(1), "closing twice is harmless"
