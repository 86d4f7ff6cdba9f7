"""The AgentPool operator against the embedded server and the simulated kubelet: scaling."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from typing import Any

import pytest

from controllers.agentpool.ledger import Pending, SlotRef
from controllers.agentpool.pods import DELETION_COST, DELETION_COST_ANNOTATION, POD
from controllers.agentpool.slots import Slots
from crds import AgentPool
from reconcile.client import Client, RestConfig
from reconcile.conditions import find_condition
from reconcile.gvk import GroupVersionKind
from tests.integration.controllers.agentpool.conftest import Cluster
from tests.integration.controllers.agentpool.pools import (
    PodDeletions,
    busy,
    pod_uids,
    pool_manifest,
    status,
    wait_ready,
)
from tests.integration.controllers.rbac import MANAGER_USER, requested
from tests.waiting import wait_for

EVENT = GroupVersionKind("", "v1", "Event")


@pytest.fixture
def slots(cluster: Cluster) -> Slots:
    return Slots(Client(RestConfig.from_kubeconfig(cluster.claimer_kubeconfig)))


def _condition(client: Client, namespace: str, name: str, kind: str) -> dict[str, Any]:
    return find_condition(status(client, namespace, name).get("conditions") or [], kind) or {}


def _events(client: Client, namespace: str, reason: str) -> list[dict[str, Any]]:
    items = client.list(EVENT, namespace=namespace)["items"]
    return [e for e in items if e.get("reason") == reason]


@pytest.fixture
def deletions(cluster: Cluster, namespace: str) -> Iterator[PodDeletions]:
    watcher = PodDeletions(cluster.client, namespace)
    yield watcher
    watcher.close()


def test_pending_claims_scale_the_pool_up_and_get_slots(
    cluster: Cluster, namespace: str, slots: Slots
) -> None:
    client = cluster.client
    client.create(pool_manifest(namespace, "up", minReplicas=1, maxReplicas=4, slotsPerAgent=2))
    wait_ready(client, namespace, "up", 1)
    first = [slots.claim(namespace, "up", f"t{i}") for i in range(5)]
    assert first == [
        SlotRef("up-0", 0, "Reserved"),
        SlotRef("up-0", 1, "Reserved"),
        Pending(1),
        Pending(2),
        Pending(3),
    ]
    wait_ready(client, namespace, "up", 3)
    wait_for(lambda: status(client, namespace, "up").get("pendingClaims") == 0, timeout=10)
    again = [slots.claim(namespace, "up", f"t{i}") for i in range(5)]
    assert again[:2] == first[:2]  # a retried claim gets the same slot
    assert len({(p.pod, p.index) for p in again if isinstance(p, SlotRef)}) == 5
    assert sorted(pod_uids(client, namespace, "up")) == ["up-0", "up-1", "up-2"]
    pod = client.get(POD, "up-1", namespace)
    owner = pod["metadata"]["ownerReferences"][0]
    assert (owner["kind"], owner["name"], owner["controller"]) == ("AgentPool", "up", True)
    assert pod["metadata"]["labels"]["kreconcile.io/agentpool"] == "up"
    assert pod["metadata"]["labels"]["app.kubernetes.io/name"] == "ci-agent"

    # 9 slots of work need 5 agents; maxReplicas is 4: the rest waits, and the pool says so
    for i in range(5, 9):
        slots.claim(namespace, "up", f"t{i}")
    wait_for(
        lambda: _condition(client, namespace, "up", "ScalingLimited").get("status") == "True",
        timeout=15,
        what="ScalingLimited",
    )
    wait_ready(client, namespace, "up", 4)
    assert status(client, namespace, "up")["pendingClaims"] == 1
    registry = cluster.manager.registry
    labels = {"namespace": namespace, "pool": "up"}
    wait_for(
        lambda: (
            registry.get_sample_value("kreconcile_agentpool_pending_claims", labels) == 1
            and registry.get_sample_value(
                "kreconcile_agentpool_slots", {**labels, "state": "Reserved"}
            )
            == 8
        ),
        timeout=10,
        what="the metrics to follow the ledger",
    )
    ups = registry.get_sample_value(
        "kreconcile_agentpool_scale_events_total", {**labels, "direction": "up"}
    )
    assert ups is not None and 2 <= ups <= 4  # up-0 at first, the others as claims came


def test_idle_pods_go_only_after_the_window_and_busy_pods_never(
    cluster: Cluster, namespace: str, slots: Slots, deletions: PodDeletions
) -> None:
    client = cluster.client
    window = 2
    manifest = pool_manifest(
        namespace,
        "down",
        minReplicas=0,
        maxReplicas=3,
        slotsPerAgent=2,
        scaleDownStabilizationSeconds=window,
    )
    client.create(manifest)
    slots.claim(namespace, "down", "a")
    slots.claim(namespace, "down", "b")
    slots.claim(namespace, "down", "c")
    wait_ready(client, namespace, "down", 2)
    wait_for(lambda: slots.claim(namespace, "down", "c") == SlotRef("down-1", 0, "Reserved"))
    slots.start(namespace, "down", "a")
    slots.release(namespace, "down", "b")  # down-0 holds a, down-1 holds c: 2 busy slots fit
    # in one agent, yet neither pod may go while it holds a task
    released = time.time()
    slots.release(namespace, "down", "a")
    wait_for(lambda: "down-0" in deletions.deleted, timeout=20, what="down-0 to be removed")
    deleted_at, last = deletions.deleted["down-0"]
    assert deleted_at - released >= window
    assert last["metadata"]["annotations"][DELETION_COST_ANNOTATION] == DELETION_COST
    ledger = status(client, namespace, "down")
    assert busy(ledger["pods"]) == {
        "down-1": [
            {"index": 0, "state": "Reserved", "task": "c", **_times(ledger, "down-1")},
            {"index": 1, "state": "Idle"},
        ]
    }
    assert "down-1" not in deletions.deleted
    assert [e["reason"] for e in _events(client, namespace, "ScaledDown")] == ["ScaledDown"]


def _times(ledger: dict[str, Any], pod: str) -> dict[str, Any]:
    entry = next(e for e in ledger["pods"] if e["name"] == pod)
    return {k: v for k, v in entry["slots"][0].items() if k in ("since", "expiresAt")}


def test_starting_pods_are_never_removed(cluster: Cluster, namespace: str) -> None:
    client = cluster.client
    manifest = pool_manifest(
        namespace, "stuck", minReplicas=0, replicas=2, scaleDownStabilizationSeconds=0
    )
    manifest["spec"]["template"] = {
        "spec": {**manifest["spec"]["template"]["spec"], "nodeName": "no-such-node"}
    }
    client.create(manifest)
    wait_for(lambda: len(pod_uids(client, namespace, "stuck")) == 2, timeout=15)
    before = pod_uids(client, namespace, "stuck")
    client.scale(client.get(AgentPool, "stuck", namespace), 0)
    generation = client.get(AgentPool, "stuck", namespace)["metadata"]["generation"]
    wait_for(
        lambda: status(client, namespace, "stuck").get("desiredReplicas") == 0,
        timeout=15,
        what="the autoscaler to want no pods",
    )
    ledger = status(client, namespace, "stuck")
    assert ledger["observedGeneration"] == generation
    assert [e["state"] for e in ledger["pods"]] == ["Starting", "Starting"]
    assert pod_uids(client, namespace, "stuck") == before
    assert _condition(client, namespace, "stuck", "Ready")["status"] == "True"


def test_expired_reservations_free_their_slot_for_pending_work(
    cluster: Cluster, namespace: str, slots: Slots
) -> None:
    client = cluster.client
    manifest = pool_manifest(
        namespace, "ttl", minReplicas=1, maxReplicas=1, slotsPerAgent=1, reservationTTLSeconds=1
    )
    client.create(manifest)
    wait_ready(client, namespace, "ttl", 1)
    assert slots.claim(namespace, "ttl", "forgotten") == SlotRef("ttl-0", 0, "Reserved")
    assert slots.claim(namespace, "ttl", "next") == Pending(1)  # at maxReplicas: no pod to add
    assert slots.wait_for_slot(namespace, "ttl", "next", timeout=15) == SlotRef(
        "ttl-0", 0, "Reserved"
    )
    assert slots.claim(namespace, "ttl", "forgotten") == Pending(1)  # its reservation is gone
    expired = wait_for(lambda: _events(client, namespace, "ReservationExpired"), timeout=10)
    assert "task forgotten expired" in expired[0]["message"]
    assert expired[0]["type"] == "Warning"


def test_a_vanished_pod_gives_its_tasks_back_to_pending(
    cluster: Cluster, namespace: str, slots: Slots
) -> None:
    client = cluster.client
    client.create(pool_manifest(namespace, "gone", minReplicas=2, slotsPerAgent=1))
    wait_ready(client, namespace, "gone", 2)
    assert slots.claim(namespace, "gone", "a") == SlotRef("gone-0", 0, "Reserved")
    assert slots.start(namespace, "gone", "a") == SlotRef("gone-0", 0, "Running")
    old_uid = pod_uids(client, namespace, "gone")["gone-0"]
    cluster.kubectl("delete", "pod", "gone-0", "-n", namespace, "--wait=false")
    requeued = wait_for(lambda: _events(client, namespace, "TasksRequeued"), timeout=15)
    assert "pod gone-0 is gone; tasks back to pending: a" in requeued[0]["message"]
    # a ledger pod missing from the cache is looked up before it is given up for gone
    assert requested(cluster.server, MANAGER_USER, "get", "pods", "gone-0")
    placement = slots.wait_for_slot(namespace, "gone", "a", timeout=15)
    assert isinstance(placement, SlotRef) and placement.state == "Reserved"
    wait_ready(client, namespace, "gone", 2)
    assert pod_uids(client, namespace, "gone").get("gone-0") not in (None, old_uid)


def test_kubectl_scale_sets_a_floor_and_get_shows_the_ledger(
    cluster: Cluster, namespace: str, slots: Slots
) -> None:
    client, kubectl = cluster.client, cluster.kubectl
    manifest = pool_manifest(
        namespace, "web", minReplicas=1, maxReplicas=3, scaleDownStabilizationSeconds=0
    )
    client.create(manifest)
    wait_ready(client, namespace, "web", 1)
    kubectl("scale", "agentpool/web", "--replicas=3", "-n", namespace)
    wait_ready(client, namespace, "web", 3)
    slots.claim(namespace, "web", "one")
    wait_for(lambda: status(client, namespace, "web").get("busySlots") == 1)
    row = kubectl("get", "ap", "web", "-n", namespace, "--no-headers").split()
    assert row[:7] == ["web", "3", "3", "3", "1", "8", "0"]  # replicas ready max busy idle pending
    refused = kubectl.run("scale", "agentpool/web", "--replicas=4", "-n", namespace, check=False)
    assert refused.returncode != 0
    assert "spec.replicas" in refused.stderr
    assert "replicas must not be greater than maxReplicas" in refused.stderr
    kubectl("scale", "agentpool/web", "--replicas=0", "-n", namespace)  # back to minReplicas
    wait_for(lambda: len(pod_uids(client, namespace, "web")) == 1, timeout=20)
    assert list(pod_uids(client, namespace, "web")) == ["web-0"]  # the pod holding "one"


@pytest.mark.parametrize(
    ("spec", "field", "message"),
    [
        pytest.param(
            {"minReplicas": 4, "maxReplicas": 2},
            "spec.minReplicas",
            "minReplicas must not be greater than maxReplicas",
            id="min-over-max",
        ),
        pytest.param(
            {"slotsPerAgent": 0},
            "spec.slotsPerAgent",
            "should be greater than or equal to 1",
            id="no-slots",
        ),
    ],
)
def test_invalid_specs_are_refused_with_the_field_named(
    cluster: Cluster, namespace: str, spec: dict[str, Any], field: str, message: str
) -> None:
    manifest = pool_manifest(namespace, "bad", **spec)
    result = cluster.kubectl.run("apply", "-f", "-", input=json.dumps(manifest), check=False)
    assert result.returncode != 0
    assert f"{field}: Invalid value" in result.stderr
    assert message in result.stderr


def test_pods_the_api_server_refuses_are_one_warning_counted_on_repeats(
    cluster: Cluster, namespace: str
) -> None:
    client = cluster.client
    manifest = pool_manifest(namespace, "refused", minReplicas=1, maxReplicas=1)
    container = {**manifest["spec"]["template"]["spec"]["containers"][0], "name": "Agent_1"}
    manifest["spec"]["template"] = {
        **manifest["spec"]["template"],
        "spec": {"containers": [container]},
    }
    client.create(manifest)
    repeated = wait_for(
        lambda: [e for e in _events(client, namespace, "FailedCreate") if e.get("count", 1) > 1],
        timeout=20,
        what="the FailedCreate Warning counted again on a retry",
    )
    assert len(_events(client, namespace, "FailedCreate")) == 1, "repeats patch one Event"
    (event,) = repeated
    assert event["type"] == "Warning"
    assert event["involvedObject"]["name"] == "refused"
    assert "spec.containers[0].name" in event["message"]
    assert pod_uids(client, namespace, "refused") == {}


def test_a_conflict_on_the_ledger_write_is_planned_again_from_a_fresh_read(
    cluster: Cluster, namespace: str
) -> None:
    cluster.server.faults.fail(
        code=409, verb="update", resource="agentpools", user=MANAGER_USER, name="contested"
    )
    cluster.client.create(pool_manifest(namespace, "contested", minReplicas=1, maxReplicas=2))
    wait_ready(cluster.client, namespace, "contested", 1)
    assert requested(cluster.server, MANAGER_USER, "get", "agentpools", "contested")
