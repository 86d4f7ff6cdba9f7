"""Workload resolution: ReplicaSet -> Deployment, Job -> CronJob, one read per owner."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pytest

from controllers.restarts.workload import (
    WORKLOAD_KIND_LABEL,
    WORKLOAD_NAME_LABEL,
    Workload,
    WorkloadResolver,
    workload_labels,
)
from reconcile.errors import Forbidden, NotFound
from reconcile.gvk import KindLike, gvk_of


class Objects:
    """A Reader over a dict of (kind, namespace, name) -> object, counting reads."""

    def __init__(
        self, objects: dict[tuple[str, str, str], dict[str, Any]], fail: Exception | None = None
    ) -> None:
        self.objects = objects
        self.reads = 0
        self.fail = fail

    def get(self, kind: KindLike, name: str, namespace: str | None = None) -> dict[str, Any]:
        self.reads += 1
        if self.fail is not None:
            raise self.fail
        found = self.objects.get((gvk_of(kind).kind, namespace or "", name))
        if found is None:
            raise NotFound(f"{name} not found")
        return found

    def list(self, kind: KindLike, **options: Any) -> dict[str, Any]:
        raise AssertionError("the resolver never lists")


def owned(kind: str, name: str, api_version: str, *, controller: bool = True) -> dict[str, Any]:
    return {
        "metadata": {
            "ownerReferences": [
                {"apiVersion": api_version, "kind": kind, "name": name, "controller": controller}
            ]
        }
    }


def pod(
    kind: str, name: str, api_version: str, labels: Mapping[str, str] | None = None
) -> dict[str, Any]:
    obj = owned(kind, name, api_version)
    obj["metadata"].update(namespace="ns", name="p", labels=dict(labels or {}))
    return obj


OBJECTS = {
    ("ReplicaSet", "ns", "web-5d4f"): owned("Deployment", "web", "apps/v1"),
    ("Job", "ns", "backup-28840000"): owned("CronJob", "backup", "batch/v1"),
    ("Job", "ns", "once"): {"metadata": {}},
}


@pytest.mark.parametrize(
    ("owner", "expected"),
    [
        pytest.param(
            ("ReplicaSet", "web-5d4f", "apps/v1"),
            Workload("Deployment", "web"),
            id="rs-to-deployment",
        ),
        pytest.param(
            ("Job", "backup-28840000", "batch/v1"),
            Workload("CronJob", "backup"),
            id="job-to-cronjob",
        ),
        pytest.param(("Job", "once", "batch/v1"), Workload("Job", "once"), id="job-without-owner"),
        pytest.param(
            ("StatefulSet", "db", "apps/v1"), Workload("StatefulSet", "db"), id="as-written"
        ),
        pytest.param(
            ("DaemonSet", "agent", "apps/v1"), Workload("DaemonSet", "agent"), id="daemonset"
        ),
    ],
)
def test_top_owner(owner: tuple[str, str, str], expected: Workload) -> None:
    assert WorkloadResolver(Objects(OBJECTS)).resolve(pod(*owner)) == expected


def test_bare_pod_has_no_workload() -> None:
    assert WorkloadResolver(Objects(OBJECTS)).resolve({"metadata": {"name": "p"}}) is None


def test_one_read_per_owner_then_remembered() -> None:
    reader = Objects(OBJECTS)
    resolver = WorkloadResolver(reader)
    for _ in range(5):
        assert resolver.resolve(pod("ReplicaSet", "web-5d4f", "apps/v1")) == Workload(
            "Deployment", "web"
        )
    assert reader.reads == 1


def test_memory_is_bounded() -> None:
    reader = Objects({})
    resolver = WorkloadResolver(reader, cache_size=2)
    for name in ("a", "b", "c", "a"):
        resolver.resolve(pod("ReplicaSet", name, "apps/v1"))
    assert reader.reads == 4, "a was forgotten when c came"


@pytest.mark.parametrize(
    ("owner", "labels", "expected"),
    [
        pytest.param(
            ("ReplicaSet", "web-5d4f", "apps/v1"),
            {"pod-template-hash": "5d4f"},
            Workload("Deployment", "web"),
            id="rs-hash",
        ),
        pytest.param(
            ("ReplicaSet", "web-5d4f", "apps/v1"),
            {},
            Workload("ReplicaSet", "web-5d4f"),
            id="rs-no-hash",
        ),
        pytest.param(
            ("Job", "backup-28840000", "batch/v1"),
            {},
            Workload("CronJob", "backup"),
            id="cron-job-name",
        ),
        pytest.param(
            ("Job", "migrate", "batch/v1"), {}, Workload("Job", "migrate"), id="plain-job"
        ),
    ],
)
def test_gone_owner_is_named_by_convention(
    owner: tuple[str, str, str], labels: dict[str, str], expected: Workload
) -> None:
    assert WorkloadResolver(Objects({})).resolve(pod(*owner, labels=labels)) == expected


def test_unreadable_owner_is_guessed_and_not_remembered() -> None:
    reader = Objects(OBJECTS, fail=Forbidden("no"))
    resolver = WorkloadResolver(reader)
    labelled = pod("ReplicaSet", "web-5d4f", "apps/v1", labels={"pod-template-hash": "5d4f"})
    assert resolver.resolve(labelled) == Workload("Deployment", "web")
    reader.fail = None
    assert resolver.resolve(labelled) == Workload("Deployment", "web")
    assert reader.reads == 2, "the guess was not cached"


def test_labels_leave_out_values_a_label_cannot_hold() -> None:
    assert workload_labels(Workload("Deployment", "web")) == {
        WORKLOAD_KIND_LABEL: "Deployment",
        WORKLOAD_NAME_LABEL: "web",
    }
    assert workload_labels(Workload("Deployment", "a" * 64)) == {WORKLOAD_KIND_LABEL: "Deployment"}
    assert workload_labels(None) == {}
