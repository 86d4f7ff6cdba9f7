"""An on-demand profiling endpoint, the Python counterpart of Go's ``net/http/pprof``.

Off by default (``ManagerOptions.pprof_bind_address = "0"``); bind it to loopback and
port-forward when a controller misbehaves. Needs no external profiler:

- ``/debug/pprof/`` lists the profiles;
- ``/debug/pprof/threads``: the stack of every thread (Go's ``goroutine?debug=2``), the
  first thing to read when a controller is stuck;
- ``/debug/pprof/heap?seconds=5&limit=30``: where memory is allocated, from a
  ``tracemalloc`` snapshot. If tracemalloc is already tracing (``PYTHONTRACEMALLOC``) the
  snapshot is immediate; otherwise tracing runs for ``seconds`` (default 5, at most 60)
  and is turned off again, so the endpoint leaves the process as it found it. Tracing
  slows allocations while it runs.
"""

from __future__ import annotations

import sys
import threading
import traceback
import tracemalloc

from reconcile.metrics.server import Route

__all__ = ["MAX_HEAP_SECONDS", "profiling_routes", "thread_stacks"]

MAX_HEAP_SECONDS = 60.0
"""Longest heap sampling window one request may ask for."""

_PLAIN = "text/plain; charset=utf-8"
_heap_lock = threading.Lock()


def thread_stacks() -> str:
    """Every live thread's name and stack, most recent call last."""
    names = {thread.ident: thread.name for thread in threading.enumerate()}
    sections = []
    for ident, frame in sorted(sys._current_frames().items(), key=lambda item: item[0]):
        stack = "".join(traceback.format_stack(frame))
        sections.append(f"thread {names.get(ident, '?')} ({ident}):\n{stack}")
    return f"{len(sections)} threads\n\n" + "\n".join(sections)


def _number(query: dict[str, list[str]], name: str, default: float) -> float:
    try:
        return float(query.get(name, [default])[0])
    except ValueError:
        return default


def _heap(seconds: float, limit: int) -> str:
    with _heap_lock:
        started_here = not tracemalloc.is_tracing()
        if started_here:
            tracemalloc.start()
            threading.Event().wait(seconds)
        try:
            snapshot = tracemalloc.take_snapshot()
        finally:
            if started_here:
                tracemalloc.stop()
    stats = snapshot.statistics("lineno")
    total = sum(stat.size for stat in stats)
    window = "already tracing" if not started_here else f"traced for {seconds:g}s"
    lines = [
        f"tracemalloc snapshot ({window}): {total / 1024:.1f} KiB in {len(stats)} locations",
        f"top {min(limit, len(stats))} by size:",
    ]
    lines += [str(stat) for stat in stats[:limit]]
    return "\n".join(lines) + "\n"


def profiling_routes() -> dict[str, Route]:
    """The routes of the profiling endpoint (see the module docstring)."""

    def index(path: str, query: dict[str, list[str]]) -> tuple[int, str, bytes]:
        body = (
            "profiles:\n"
            "  /debug/pprof/threads          stacks of every thread\n"
            "  /debug/pprof/heap?seconds=5   tracemalloc snapshot, top allocations\n"
        )
        return 200, _PLAIN, body.encode()

    def threads(path: str, query: dict[str, list[str]]) -> tuple[int, str, bytes]:
        return 200, _PLAIN, thread_stacks().encode()

    def heap(path: str, query: dict[str, list[str]]) -> tuple[int, str, bytes]:
        seconds = min(max(_number(query, "seconds", 5.0), 0.0), MAX_HEAP_SECONDS)
        limit = max(1, int(_number(query, "limit", 30)))
        return 200, _PLAIN, _heap(seconds, limit).encode()

    return {"/debug/pprof/": index, "/debug/pprof/threads": threads, "/debug/pprof/heap": heap}
