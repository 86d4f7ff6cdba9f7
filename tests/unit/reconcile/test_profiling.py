"""The profiling endpoint's routes: thread stacks and on-demand tracemalloc snapshots."""

from __future__ import annotations

import threading
import tracemalloc

from reconcile.profiling import profiling_routes


def test_thread_stacks_name_every_thread() -> None:
    parked = threading.Event()
    thread = threading.Thread(target=parked.wait, name="parked-worker", daemon=True)
    thread.start()
    try:
        status, _, body = profiling_routes()["/debug/pprof/threads"]("/debug/pprof/threads", {})
    finally:
        parked.set()
        thread.join()
    text = body.decode()
    assert status == 200
    assert "thread parked-worker" in text and "in wait" in text
    assert "thread MainThread" in text


def test_heap_traces_for_the_window_and_leaves_tracemalloc_off() -> None:
    assert not tracemalloc.is_tracing()
    route = profiling_routes()["/debug/pprof/heap"]
    status, _, body = route("/debug/pprof/heap", {"seconds": ["0.05"], "limit": ["3"]})
    assert status == 200
    lines = body.decode().splitlines()
    assert lines[0].startswith("tracemalloc snapshot (traced for 0.05s)")
    assert lines[1].startswith("top ") and len(lines) <= 5
    assert not tracemalloc.is_tracing(), "tracing is turned off again"


def test_heap_snapshot_is_immediate_when_already_tracing() -> None:
    tracemalloc.start()
    try:
        _, _, body = profiling_routes()["/debug/pprof/heap"]("/debug/pprof/heap", {})
        assert body.decode().startswith("tracemalloc snapshot (already tracing)")
        assert tracemalloc.is_tracing(), "a tracer the program started is left running"
    finally:
        tracemalloc.stop()
