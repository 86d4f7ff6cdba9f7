"""Event filters: only Pod and RestartRecord events that can change a record pass."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from controllers.restarts.filters import InspectionRecordEvents, PodRestartEvents, RecordEvents
from reconcile.cache.store import Store


def pod(name: str = "p", namespace: str = "ns", count: int = 0, uid: str = "u") -> dict[str, Any]:
    return {
        "metadata": {"name": name, "namespace": namespace, "uid": uid},
        "status": {"containerStatuses": [{"name": "app", "restartCount": count}]},
    }


def record_store(*names: str) -> Store:
    store = Store()
    for name in names:
        store.upsert({"metadata": {"name": name, "namespace": "ns"}})
    return store


@pytest.mark.parametrize(
    ("obj", "records", "passes"),
    [
        pytest.param(pod(count=0), (), False, id="never-restarted-no-record"),
        pytest.param(pod(count=2), (), True, id="restarted"),
        pytest.param(pod(count=0), ("p",), True, id="recreated-with-record"),
        pytest.param(pod(namespace="other", count=2), (), False, id="other-namespace"),
    ],
)
def test_pod_create_and_delete(obj: dict[str, Any], records: tuple[str, ...], passes: bool) -> None:
    predicate = PodRestartEvents(record_store(*records), ["ns"])
    assert predicate.create(obj) is passes
    assert predicate.delete(obj) is passes


def test_pod_updates_pass_only_when_a_restart_count_or_the_uid_changes() -> None:
    predicate = PodRestartEvents(record_store())
    old = pod(count=1)
    ready = copy.deepcopy(old)
    ready["status"]["phase"] = "Running"
    ready["metadata"]["resourceVersion"] = "9"
    assert not predicate.update(old, ready)
    assert predicate.update(old, pod(count=2))
    assert predicate.update(old, pod(count=1, uid="u2"))


def _record(spec: dict[str, Any], generation: int = 1) -> dict[str, Any]:
    return {"metadata": {"name": "r", "namespace": "ns", "generation": generation}, "spec": spec}


def test_record_events_ignore_status_writes_and_inspection_records() -> None:
    events = RecordEvents()
    mine = _record({"podName": "r"})
    assert events.create(mine)
    assert not events.create(_record({"inspection": {"clusterName": "c"}}))
    assert not events.update(mine, copy.deepcopy(mine)), "a status write keeps the generation"
    assert events.update(mine, _record({"podName": "r"}, generation=2))
    assert not events.delete(mine)


def test_inspection_record_events_pass_creations_only() -> None:
    events = InspectionRecordEvents(["ns"])
    inspection = _record({"inspection": {"clusterName": "c"}})
    assert events.create(inspection)
    assert not events.create(_record({"podName": "r"}))
    assert not events.update(inspection, inspection) and not events.delete(inspection)
