"""The pure counting rules: pod status + record status -> new record status."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from controllers.restarts.status import (
    MAX_CONTAINERS,
    classify,
    expires_at,
    observe_pod,
    observe_pod_gone,
    restart_entry,
    restart_signature,
    signal_of,
)
from reconcile.timestamps import parse_time

NOW = "2026-11-24T03:00:00Z"


def terminated(reason: str = "Error", code: int = 1, **extra: Any) -> dict[str, Any]:
    return {
        "reason": reason,
        "exitCode": code,
        "startedAt": "2026-11-24T02:00:00Z",
        "finishedAt": "2026-11-24T02:30:00Z",
        "containerID": "containerd://old",
        **extra,
    }


def container(name: str, count: int, last: dict[str, Any] | None = None) -> dict[str, Any]:
    status: dict[str, Any] = {"name": name, "restartCount": count, "lastState": {}}
    if last is not None:
        status["lastState"] = {"terminated": last}
    return status


def pod(uid: str = "uid-1", *, regular=(), init=(), ephemeral=()) -> dict[str, Any]:
    status: dict[str, Any] = {"containerStatuses": list(regular)}
    if init:
        status["initContainerStatuses"] = list(init)
    if ephemeral:
        status["ephemeralContainerStatuses"] = list(ephemeral)
    return {"metadata": {"name": "web", "namespace": "ns", "uid": uid}, "status": status}


def observe(status: dict[str, Any] | None, p: dict[str, Any], limit: int = 20) -> dict[str, Any]:
    observed = observe_pod(status, p, now=NOW, history_limit=limit)
    assert observed is not None, "expected a change"
    return observed.status


def entry(status: dict[str, Any], name: str) -> dict[str, Any]:
    return next(c for c in status["containers"] if c["name"] == name)


@pytest.mark.parametrize(
    ("reason", "message", "expected"),
    [
        pytest.param("OOMKilled", "", "OOMKilled", id="oom"),
        pytest.param("Error", "Liveness probe failed", "Error", id="error-stays-error"),
        pytest.param("Completed", "", "Completed", id="completed"),
        pytest.param("LivenessProbe", "", "LivenessProbe", id="liveness-exact"),
        pytest.param("livenessprobefailed", "", "LivenessProbe", id="liveness-alias-any-case"),
        pytest.param(
            "Killing", "Container failed liveness probe", "LivenessProbe", id="liveness-msg"
        ),
        pytest.param("StartupProbe", "", "StartupProbe", id="startup-exact"),
        pytest.param("Unhealthy", "Startup probe failed", "StartupProbe", id="startup-msg"),
        pytest.param("Evicted", "", "Evicted", id="evicted"),
        pytest.param("ContainerCannotRun", "", "ContainerCannotRun", id="cannot-run"),
        pytest.param("StartError", "exec format error", "ContainerCannotRun", id="start-error"),
        pytest.param("DeadlineExceeded", "", "DeadlineExceeded", id="deadline"),
        pytest.param("ContainerStatusUnknown", "", "Unknown", id="status-unknown"),
        pytest.param("", "", "Unknown", id="no-reason"),
        pytest.param("Unknown", "", "Unknown", id="unknown"),
        pytest.param("Preempting", "", "Other", id="other"),
        pytest.param("OOMKilling", "", "OOMKilled", id="oom-alias"),
    ],
)
def test_reasons_map_to_the_bounded_set(reason: str, message: str, expected: str) -> None:
    assert classify(reason, message) == expected


@pytest.mark.parametrize(
    ("code", "signal"),
    [(0, None), (1, None), (128, None), (129, 1), (137, 9), (143, 15), (255, 127), (256, None)],
)
def test_signal_from_exit_code(code: int, signal: int | None) -> None:
    assert signal_of(code) == signal


@pytest.mark.parametrize(
    ("last", "expected"),
    [
        pytest.param(
            terminated("OOMKilled", 137),
            {"reason": "OOMKilled", "exitCode": 137, "signal": 9},
            id="oom-gives-signal",
        ),
        pytest.param(
            terminated("Error", 1, message="x" * 300),
            {"reason": "Error", "exitCode": 1, "message": "x" * 256},
            id="message-cut-to-256",
        ),
        pytest.param(
            terminated("Error", 2, signal=6),
            {"reason": "Error", "exitCode": 2, "signal": 6},
            id="runtime-signal-field",
        ),
        pytest.param(None, {"reason": "Unknown"}, id="no-terminated-state"),
    ],
)
def test_history_entry_from_terminated_state(
    last: dict[str, Any] | None, expected: dict[str, Any]
) -> None:
    got = restart_entry("u", 3, last)
    assert got["podUID"] == "u" and got["restartCount"] == 3
    assert {k: got[k] for k in expected} == expected
    assert "signal" in got or "signal" not in expected
    if last is not None:
        assert got["finishedAt"] == last["finishedAt"]
        assert got["containerID"] == "containerd://old"


def test_first_restart_is_counted_with_details() -> None:
    status = observe(None, pod(regular=[container("app", 1, terminated("OOMKilled", 137))]))
    app = entry(status, "app")
    assert (app["restarts"], app["missed"], app["reasons"]) == (1, 0, {"OOMKilled": 1})
    assert app["history"][0]["restartCount"] == 1 and app["history"][0]["signal"] == 9
    assert status["restarts"] == 1 and status["lastReason"] == "OOMKilled"
    assert status["lastRestartTime"] == "2026-11-24T02:30:00Z"
    assert status["podUID"] == "uid-1"
    assert status["conditions"][0]["type"] == "PodPresent"


def test_replaying_the_same_pod_adds_nothing() -> None:
    p = pod(regular=[container("app", 2, terminated())])
    status = observe(None, p)
    assert observe_pod(status, p, now="2026-11-24T05:00:00Z", history_limit=20) is None
    assert observe_pod(status, copy.deepcopy(p), now=NOW, history_limit=20) is None


def test_inputs_are_never_mutated() -> None:
    p = pod(regular=[container("app", 1, terminated())])
    status = observe(None, p)
    frozen_pod, frozen_status = copy.deepcopy(p), copy.deepcopy(status)
    observe(status, pod(regular=[container("app", 3, terminated("OOMKilled", 137))]))
    assert p == frozen_pod and status == frozen_status


@pytest.mark.parametrize(
    ("before", "after", "restarts", "missed", "unknown"),
    [
        pytest.param(0, 1, 1, 0, 0, id="one-restart"),
        pytest.param(0, 5, 5, 4, 4, id="first-seen-at-5: four missed"),
        pytest.param(2, 3, 3, 1, 1, id="next-restart (first seen at 2: one missed)"),
        pytest.param(2, 7, 7, 5, 5, id="jump-by-5-while-down: four more missed"),
        pytest.param(3, 3, 3, 2, 2, id="no-change"),
        pytest.param(3, 2, 3, 2, 2, id="stale-lower-count-ignored"),
    ],
)
def test_restart_count_jumps_count_missed_restarts_under_unknown(
    before: int, after: int, restarts: int, missed: int, unknown: int
) -> None:
    status = None
    if before:
        status = observe(None, pod(regular=[container("app", before, terminated())]))
    observed = observe_pod(
        status, pod(regular=[container("app", after, terminated("Error", 1))]), now=NOW,
        history_limit=20,
    )  # fmt: skip
    final = observed.status if observed else status
    assert final is not None
    app = entry(final, "app")
    assert (app["restarts"], app["missed"]) == (restarts, missed)
    assert app["reasons"].get("Unknown", 0) == unknown
    assert sum(app["reasons"].values()) == app["restarts"], "reasons add up to restarts"
    assert app["history"][0]["restartCount"] == max(before, after)


def test_history_is_bounded_newest_first() -> None:
    status = None
    for count in range(1, 8):
        status = observe(status, pod(regular=[container("app", count, terminated())]), limit=3)
    assert status is not None
    app = entry(status, "app")
    assert [h["restartCount"] for h in app["history"]] == [7, 6, 5]
    assert app["restarts"] == 7


def test_recreated_pod_continues_counts_without_mixing_histories() -> None:
    old = observe(None, pod("uid-1", regular=[container("app", 3, terminated())]))
    fresh = observe(old, pod("uid-2", regular=[container("app", 0)]))
    assert fresh["podUID"] == "uid-2" and fresh["previousPodUIDs"] == ["uid-1"]
    assert entry(fresh, "app")["restarts"] == 3, "a new pod with no restarts adds none"
    again = observe(
        fresh, pod("uid-2", regular=[container("app", 1, terminated("OOMKilled", 137))])
    )
    app = entry(again, "app")
    assert app["restarts"] == 4 and app["missed"] == 2, "only the first pod's jump was missed"
    assert [(h["podUID"], h["restartCount"]) for h in app["history"]] == [
        ("uid-2", 1),
        ("uid-1", 3),
    ]


def test_a_stale_view_of_the_previous_pod_is_ignored() -> None:
    old = observe(None, pod("uid-1", regular=[container("app", 1, terminated())]))
    fresh = observe(old, pod("uid-2", regular=[container("app", 1, terminated())]))
    late = pod("uid-1", regular=[container("app", 4, terminated())])
    assert observe_pod(fresh, late, now=NOW, history_limit=20) is None


def test_init_and_ephemeral_containers_are_counted_with_their_type() -> None:
    status = observe(
        None,
        pod(
            regular=[container("app", 0)],
            init=[container("sidecar", 2, terminated("Error", 1))],
            ephemeral=[container("debug", 1, terminated("Completed", 0))],
        ),
    )
    assert {(c["name"], c["type"], c["restarts"]) for c in status["containers"]} == {
        ("sidecar", "Init", 2),
        ("debug", "Ephemeral", 1),
    }
    assert status["restarts"] == 3


def test_containers_beyond_the_bound_are_skipped_and_reported() -> None:
    many = [container(f"c{i}", 1, terminated()) for i in range(MAX_CONTAINERS + 2)]
    observed = observe_pod(None, pod(regular=many), now=NOW, history_limit=20)
    assert observed is not None
    assert len(observed.status["containers"]) == MAX_CONTAINERS
    assert observed.skipped == (f"c{MAX_CONTAINERS}", f"c{MAX_CONTAINERS + 1}")


def test_missing_finish_time_uses_now() -> None:
    status = observe(None, pod(regular=[container("app", 1)]))
    app = entry(status, "app")
    assert app["lastRestartTime"] == NOW and app["history"][0]["reason"] == "Unknown"


def test_last_reason_is_the_newest_restart_over_all_containers() -> None:
    late = terminated("OOMKilled", 137, finishedAt="2026-11-24T02:59:00Z")
    status = observe(None, pod(regular=[container("a", 1, terminated()), container("b", 1, late)]))
    assert status["lastReason"] == "OOMKilled"
    assert status["lastRestartTime"] == "2026-11-24T02:59:00Z"


def test_pod_gone_sets_deletion_once_and_recreation_clears_it() -> None:
    status = observe(None, pod(regular=[container("app", 1, terminated())]))
    gone = observe_pod_gone(status, now=NOW)
    assert gone is not None and gone["podDeletedAt"] == NOW
    assert gone["conditions"][0]["status"] == "False"
    assert observe_pod_gone(gone, now="2026-11-25T00:00:00Z") is None
    assert expires_at(gone, 3600) == parse_time(NOW) + 3600  # type: ignore[operator]
    back = observe(gone, pod("uid-2", regular=[container("app", 0)]))
    assert "podDeletedAt" not in back and expires_at(back, 3600) is None
    assert back["conditions"][0]["status"] == "True"


def test_restart_signature_changes_only_with_uid_or_counts() -> None:
    base = pod(regular=[container("app", 1)])
    relabelled = copy.deepcopy(base)
    relabelled["metadata"]["labels"] = {"x": "y"}
    relabelled["status"]["phase"] = "Running"
    assert restart_signature(base) == restart_signature(relabelled)
    assert restart_signature(base) != restart_signature(pod(regular=[container("app", 2)]))
    assert restart_signature(base) != restart_signature(pod("uid-2", regular=[container("app", 1)]))
