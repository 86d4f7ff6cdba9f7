"""Namespace inspection: window shares, root cause, and the Normal/Abnormal state machine."""

from __future__ import annotations

from typing import Any

import pytest

from controllers.restarts.inspection import (
    Verdict,
    WindowObservation,
    inspect,
    memory_limit,
    observe_namespace,
    root_cause,
)
from controllers.restarts.options import InspectionOptions
from reconcile.timestamps import parse_time, rfc3339

T0 = 1_800_000_000.0
WINDOW = 600.0
SETTINGS = InspectionOptions(window=WINDOW, ratio_threshold=0.3, rise_factor=2.0, silence=3600.0)


def record(
    pod: str, restarts: list[tuple[float, str, int | None]], *, container: str = "app",
    workload: tuple[str, str] | None = ("Deployment", "api"),
) -> dict[str, Any]:  # fmt: skip
    """A pod record whose container restarted at (seconds before T0, reason, exit code)."""
    history = [
        {
            "podUID": "u",
            "restartCount": i + 1,
            "reason": reason,
            "finishedAt": rfc3339(T0 - ago),
        }
        | ({} if code is None else {"exitCode": code})
        for i, (ago, reason, code) in enumerate(restarts)
    ]
    history.reverse()
    spec: dict[str, Any] = {"podName": pod}
    if workload:
        spec["workload"] = {"kind": workload[0], "name": workload[1]}
    containers: list[dict[str, Any]] = [{"name": container, "history": history}]
    if history:
        containers[0]["lastRestartTime"] = history[0]["finishedAt"]
    return {
        "metadata": {"name": pod, "namespace": "ns"},
        "spec": spec,
        "status": {"containers": containers},
    }


def live(*names: str, limit: str = "") -> list[dict[str, Any]]:
    resources = {"limits": {"memory": limit}} if limit else {}
    return [
        {"metadata": {"name": n}, "spec": {"containers": [{"name": "app", "resources": resources}]}}
        for n in names
    ]


def observation(ratio: float, previous: float = 0.0, restarted: int = 3) -> WindowObservation:
    return WindowObservation(
        pods_total=10, pods_restarted=restarted, previous_restarted=0, ratio=ratio,
        previous_ratio=previous, restarts=(), started_at=T0 - 60,
    )  # fmt: skip


def anomaly(started_at: float | None, not_before: float | None) -> dict[str, Any]:
    started = started_at or max(T0 - 60, not_before or 0.0)
    return {"startedAt": rfc3339(started), "detectedAt": rfc3339(T0), "summary": "why"}


def test_shares_of_this_window_and_the_one_before() -> None:
    records = [
        record("a", [(30, "OOMKilled", 137)]),
        record("b", [(700, "Error", 1)]),  # previous window only
        record("gone", [(100, "Error", 1)]),  # restarted, then deleted: still counts
        record("old", [(5000, "Error", 1)]),  # older than both windows
        {"metadata": {"name": "namespace-inspection"}, "spec": {"inspection": {}}, "status": {}},
    ]
    seen = observe_namespace(records, live("a", "b", "c", "old"), now=T0, window=WINDOW)
    assert (seen.pods_restarted, seen.pods_total, seen.ratio) == (2, 5, 0.4)
    assert (seen.previous_restarted, seen.previous_ratio) == (1, 0.25)
    assert sorted(r.pod for r in seen.restarts) == ["a", "gone"]
    assert seen.started_at == T0 - 100


def test_a_missed_restart_counts_through_the_last_restart_time() -> None:
    missed = record("m", [])
    missed["status"]["containers"][0]["lastRestartTime"] = rfc3339(T0 - 10)
    seen = observe_namespace([missed], live("m", "n"), now=T0, window=WINDOW)
    assert (seen.pods_restarted, seen.ratio, seen.restarts) == (1, 0.5, ())


def test_root_cause_names_oom_against_the_memory_limit() -> None:
    records = [
        record("a", [(30, "OOMKilled", 137), (20, "OOMKilled", 137)]),
        record("b", [(40, "OOMKilled", 137)], workload=("StatefulSet", "db"), container="db"),
        record("c", [(50, "Error", 1)], workload=None),
    ]
    pods = {p["metadata"]["name"]: p for p in live("a", "c", limit="256Mi")}
    seen = observe_namespace(records, pods.values(), now=T0, window=WINDOW)
    cause = root_cause(seen, pods, now=T0, window=WINDOW, cluster="prod", namespace="ns")
    assert cause["topReasons"] == [
        {"reason": "OOMKilled", "count": 3},
        {"reason": "Error", "count": 1},
    ]
    assert cause["exitCodes"] == [{"exitCode": 137, "count": 3}, {"exitCode": 1, "count": 1}]
    assert cause["oomKilled"] == [
        {"workload": "Deployment/api", "container": "app", "count": 2, "memoryLimit": "256Mi"},
        {"workload": "StatefulSet/db", "container": "db", "count": 1, "memoryLimit": ""},
    ]
    assert cause["workloads"][0] == {
        "workload": "Deployment/api",
        "container": "app",
        "restarts": 2,
    }
    assert {"workload": "Pod/c", "container": "app", "restarts": 1} in cause["workloads"]
    assert cause["startedAt"] == rfc3339(T0 - 50)
    summary = cause["summary"]
    assert "3 of 3 pods (100%) of namespace ns in cluster prod restarted in the last 10m" in summary
    assert "OOMKilled 3" in summary and "at its memory limit 256Mi" in summary
    assert "no memory limit (the node ran out of memory)" in summary
    assert len(summary) <= 1024


def test_memory_limit_looks_in_every_container_list() -> None:
    pod = {"spec": {"initContainers": [{"name": "s", "resources": {"limits": {"memory": "1Gi"}}}]}}
    assert memory_limit(pod, "s") == "1Gi"
    assert memory_limit(pod, "missing") == "" and memory_limit(None, "s") == ""


def run(previous: dict[str, Any] | None, seen: WindowObservation, now: float = T0) -> Verdict:
    return inspect(previous, seen, anomaly, SETTINGS, now=now)


@pytest.mark.parametrize(
    ("ratio", "previous", "restarted", "abnormal"),
    [
        pytest.param(0.5, 0.0, 3, True, id="rose-over-threshold"),
        pytest.param(0.5, 0.25, 3, True, id="doubled"),
        pytest.param(0.5, 0.3, 3, False, id="high-but-not-rising"),
        pytest.param(0.2, 0.0, 3, False, id="below-threshold"),
        pytest.param(0.5, 0.0, 0, False, id="no-pods"),
    ],
)
def test_normal_turns_abnormal_when_the_share_rises_over_the_threshold(
    ratio: float, previous: float, restarted: int, abnormal: bool
) -> None:
    verdict = run(None, observation(ratio, previous, restarted))
    assert (verdict.inspection["state"] == "Abnormal") is abnormal
    assert verdict.fire is abnormal
    assert verdict.inspection["lastInspectedAt"] == rfc3339(T0)
    assert verdict.inspection["ratio"] == ratio and verdict.inspection["windowSeconds"] == 600


def test_an_anomaly_fires_once_per_silence_period() -> None:
    first = run(None, observation(0.5))
    assert first.fire and first.inspection["silencedUntil"] == rfc3339(T0 + 3600)
    second = run(first.inspection, observation(0.6), now=T0 + 60)
    assert not second.fire and second.inspection["state"] == "Abnormal"
    reminder = run(second.inspection, observation(0.6), now=T0 + 3601)
    assert reminder.fire, "still abnormal after the silence: remind"
    assert reminder.inspection["current"]["startedAt"] == first.inspection["current"]["startedAt"]
    assert reminder.inspection["current"]["detectedAt"] == first.inspection["current"]["detectedAt"]


def test_recovery_moves_the_anomaly_to_history_with_its_duration() -> None:
    first = run(None, observation(0.5))
    recovered = run(first.inspection, observation(0.1), now=T0 + 240)
    assert recovered.recovered is not None and not recovered.fire
    ins = recovered.inspection
    assert ins["state"] == "Normal" and "current" not in ins
    entry = ins["history"][0]
    assert entry["recoveredAt"] == rfc3339(T0 + 240)
    assert entry["durationSeconds"] == 300  # started 60 s before T0
    assert ins["silencedUntil"] == first.inspection["silencedUntil"], "silence survives recovery"


def test_a_new_anomaly_within_the_silence_is_recorded_without_an_event() -> None:
    first = run(None, observation(0.5))
    recovered = run(first.inspection, observation(0.0, restarted=0), now=T0 + 120)
    again = run(recovered.inspection, observation(0.7), now=T0 + 180)
    assert again.inspection["state"] == "Abnormal" and not again.fire
    started = parse_time(again.inspection["current"]["startedAt"])
    assert started is not None and started >= T0 + 120, "starts after the last recovery"


def test_history_keeps_twenty_anomalies() -> None:
    inspection: dict[str, Any] | None = None
    now = T0
    for _ in range(25):
        inspection = run(inspection, observation(0.5), now=now).inspection
        now += 10
        inspection = run(inspection, observation(0.0, restarted=0), now=now).inspection
        now += 10
    assert inspection is not None and len(inspection["history"]) == 20
    starts = [h["startedAt"] for h in inspection["history"]]
    assert starts == sorted(starts, reverse=True) and len(set(starts)) == 20
