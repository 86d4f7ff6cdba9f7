"""The reflector's GC pause: opt-in, shared by concurrent lists, never left on after an error."""

from __future__ import annotations

import gc
import threading

import pytest

from reconcile.cache.reflector import ReflectorOptions, gc_paused


def test_tuning_is_off_by_default() -> None:
    assert ReflectorOptions().tune_gc is False


def test_nested_and_concurrent_pauses_restore_once_the_last_ends() -> None:
    assert gc.isenabled()
    inner_started, outer_may_end = threading.Event(), threading.Event()
    seen: list[bool] = []

    def other_list() -> None:
        with gc_paused():
            inner_started.set()
            outer_may_end.wait(10)
            seen.append(gc.isenabled())

    with gc_paused():
        thread = threading.Thread(target=other_list)
        thread.start()
        assert inner_started.wait(10)
        assert not gc.isenabled()
    assert not gc.isenabled(), "the other list still runs: the pause holds"
    outer_may_end.set()
    thread.join(10)
    assert seen == [False]
    assert gc.isenabled()


def test_an_error_during_the_list_reenables_the_collector() -> None:
    with pytest.raises(RuntimeError), gc_paused():
        raise RuntimeError("list failed")
    assert gc.isenabled()


def test_a_collector_the_program_disabled_stays_disabled() -> None:
    gc.disable()
    try:
        with gc_paused():
            pass
        assert not gc.isenabled()
    finally:
        gc.enable()
