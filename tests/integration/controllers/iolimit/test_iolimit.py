"""The controller and the node agents together, on cgroup v2 trees that mimic cgroupfs.

The tests feed ``io.stat`` themselves and read back the ``io.max`` lines the agents write.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from prometheus_client import generate_latest

from crds import IOLimitPolicy
from reconcile.client import Client
from tests.integration.controllers.iolimit.conftest import Cluster
from tests.integration.controllers.iolimit.harness import (
    POD,
    container_id,
    create_namespace,
    create_policy,
    events_for,
    make_cgroup,
    node_report,
    policy_status,
    running_pod,
    set_containers,
)
from tests.integration.controllers.processes import get_metrics
from tests.integration.controllers.rbac import (
    MANAGER_USER,
    METRICS_READER_ROLE,
    bind_cluster_role,
    requested,
)
from tests.waiting import wait_for

WORKERS = {"app": "worker"}
HOT = "8:0 rbytes=0 wbytes=0 rios=0 wios=200000 dbytes=0 dios=0\n"
"""200,000 writes by a container that just started: 222 write IOPS over 15 minutes."""


def _throttles(client: Client, policy: str) -> list[dict[str, Any]]:
    return list(policy_status(client, policy).get("throttles") or [])


def _io_max(path: Any) -> list[str]:
    return list((path / "io.max").read_text().splitlines())


def _conditions(client: Client, policy: str) -> dict[str, tuple[str, str]]:
    return {
        c["type"]: (c["status"], c["reason"])
        for c in policy_status(client, policy).get("conditions") or []
    }


def _hot_worker(
    cluster: Cluster, name: str, namespace: str, node: str, seed: str
) -> tuple[dict[str, Any], str, Path]:
    """A selected pod on ``node`` whose one container has just written a lot."""
    cid = container_id(seed)
    pod = running_pod(
        cluster.client,
        name,
        namespace=namespace,
        node=node,
        containers={"app": cid},
        labels=WORKERS,
    )
    return pod, cid, make_cgroup(cluster.roots[node], pod, cid, HOT)


def _metric(text: str, registry: Any) -> bool:
    return text in generate_latest(registry).decode()


def test_crossed_threshold_is_throttled_follows_recreation_and_ends_with_the_pod(
    cluster: Cluster,
) -> None:
    client = cluster.client
    create_namespace(client, "t1")
    create_policy(client, "p1", "t1", {"writeIOPS": 50, "writeBPS": 2097152}, labels=WORKERS)
    pod, first, cgroup = _hot_worker(cluster, "w1", "t1", "node-1", "a")
    expected = [
        "8:0 rbps=max wbps=2097152 riops=max wiops=50",
        "8:16 rbps=max wbps=2097152 riops=max wiops=50",
    ]
    wait_for(lambda: _io_max(cgroup) == expected, timeout=20, what="io.max written")
    (decided,) = _throttles(client, "p1")
    assert (decided["rule"], decided["window"], decided["reason"], decided["containerID"]) == (
        "heavy",
        "15m",
        "15m window [WriteIOPS:222]",
        first,
    )
    assert decided["limits"] == {"writeIOPS": 50, "writeBPS": 2097152}
    wait_for(
        lambda: _conditions(client, "p1").get("Ready") == ("True", "InForce"),
        timeout=20,
        what="Ready",
    )
    assert _conditions(client, "p1")["Throttling"] == ("True", "ContainersThrottled")
    assert node_report(client, "p1", "node-1")["applied"] == [
        {"containerID": first, "devices": ["8:0", "8:16"]}
    ]
    wait_for(
        lambda: any(r == "Throttled" for r, _ in events_for(client, "t1", "w1")),
        timeout=10,
        what="the Throttled event",
    )
    assert _metric(
        'kreconcile_io_throttle_active{container="app",namespace="t1",pod="w1",policy="p1"} 1.0',
        cluster.manager.manager.registry,
    )
    agent_registry = cluster.agents["node-1"].manager.registry
    assert _metric(
        'kreconcile_io_container_write_ops_total{container="app",namespace="t1",pod="w1"} 200000.0',
        agent_registry,
    )
    table = cluster.kubectl("get", "iolp", "p1", "--no-headers").split()
    assert table[:3] == ["p1", "1", "1"], table

    second = container_id("b")
    set_containers(client, pod, {"app": second})
    recreated = make_cgroup(cluster.roots["node-1"], pod, second)
    wait_for(lambda: _io_max(recreated) == expected, timeout=20, what="limits in the new cgroup")
    wait_for(
        lambda: _throttles(client, "p1")[0]["containerID"] == second,
        timeout=10,
        what="the throttle to follow the new container",
    )
    (followed,) = _throttles(client, "p1")
    assert {k: v for k, v in followed.items() if k != "containerID"} == {
        k: v for k, v in decided.items() if k != "containerID"
    }, "since, rule, reason unchanged"

    client.delete(client.get(POD, "w1", "t1"))
    wait_for(lambda: not _throttles(client, "p1"), timeout=20, what="the throttle released")
    removed = policy_status(client, "p1")["removed"][0]
    assert (removed["pod"], removed["removedReason"], removed["reason"]) == (
        "w1",
        "pod deleted",
        decided["reason"],
    )
    assert _conditions(client, "p1")["Throttling"] == ("False", "NoThrottle")


def test_dry_run_records_the_decision_and_changes_no_file(cluster: Cluster) -> None:
    client = cluster.client
    create_namespace(client, "t2")
    create_policy(client, "p2", "t2", {"writeIOPS": 50}, labels=WORKERS, dryRun=True)
    _, _, cgroup = _hot_worker(cluster, "w2", "t2", "node-2", "c")
    _, _, other = _hot_worker(cluster, "w2b", "t2", "node-1", "g")
    untouched = (cgroup / "io.max").stat().st_mtime_ns
    wait_for(lambda: len(_throttles(client, "p2")) == 2, timeout=20, what="dry-run decisions")
    assert {(t["pod"], t["dryRun"], t["reason"]) for t in _throttles(client, "p2")} == {
        ("w2", True, "15m window [WriteIOPS:222]"),
        ("w2b", True, "15m window [WriteIOPS:222]"),
    }

    def decided_on_both_nodes() -> bool:
        reports = [node_report(client, "p2", node) for node in ("node-1", "node-2")]
        return all(r.get("proposals") == [] for r in reports)

    wait_for(decided_on_both_nodes, timeout=10, what="both agents to see the decisions")
    reports = policy_status(client, "p2")["nodes"]
    assert sorted(r["node"] for r in reports) == ["node-1", "node-2"], "neither clobbers the other"
    assert _conditions(client, "p2")["Throttling"] == ("False", "DryRun")
    assert (cgroup / "io.max").read_text() == (other / "io.max").read_text() == ""
    assert (cgroup / "io.max").stat().st_mtime_ns == untouched
    assert node_report(client, "p2", "node-2")["applied"] == []


def test_two_policies_on_one_pod_the_strictest_limit_wins_per_field(cluster: Cluster) -> None:
    client = cluster.client
    create_namespace(client, "t3")
    create_policy(client, "p3-reads", "t3", {"writeIOPS": 50, "readBPS": 1000000}, labels=WORKERS)
    create_policy(client, "p3-writes", "t3", {"writeIOPS": 80, "writeBPS": 3000000}, labels=WORKERS)
    _, _, cgroup = _hot_worker(cluster, "w3", "t3", "node-1", "d")
    both = "8:16 rbps=1000000 wbps=3000000 riops=max wiops=50"
    wait_for(lambda: _io_max(cgroup)[-1:] == [both], timeout=20, what="merged limits")
    assert len(_throttles(client, "p3-reads")) == len(_throttles(client, "p3-writes")) == 1
    reads = client.get(IOLimitPolicy, "p3-reads")
    client.patch(reads, {"spec": {"dryRun": True}})
    only_writes = "8:16 rbps=max wbps=3000000 riops=max wiops=80"
    wait_for(
        lambda: _io_max(cgroup)[-1:] == [only_writes],
        timeout=20,
        what="the other policy's limits alone",
    )


OLD = {
    "kubediskguard.io/triggered-by": "30m",
    "kubediskguard.io/trigger-reason": "30m window [ReadIOPS:0.65,WriteIOPS:0.58]",
    "kubediskguard.io/read-iops-limit": "300",
    "kubediskguard.io/write-iops-limit": "300",
    "kubediskguard.io/read-bps-limit": "0",
}


def test_old_annotations_are_imported_once_and_malformed_ones_skipped(cluster: Cluster) -> None:
    client = cluster.client
    create_namespace(client, "t4")
    create_policy(client, "p4", "t4", {"writeIOPS": 50}, labels={"app": "legacy"})
    cid = container_id("e")
    pod = running_pod(
        client,
        "legacy-1",
        namespace="t4",
        node="node-2",
        containers={"app": cid},
        labels={"app": "legacy"},
        annotations=OLD,
    )
    broken = running_pod(
        client,
        "legacy-2",
        namespace="t4",
        node="node-2",
        containers={"app": container_id("f")},
        labels={"app": "legacy"},
        annotations={**OLD, "kubediskguard.io/triggered-by": "5m"},
    )
    cgroup = make_cgroup(cluster.roots["node-2"], pod, cid)
    make_cgroup(cluster.roots["node-2"], broken, container_id("f"))
    expected = [
        "8:0 rbps=max wbps=max riops=300 wiops=300",
        "8:16 rbps=max wbps=max riops=300 wiops=300",
    ]
    wait_for(lambda: _io_max(cgroup) == expected, timeout=20, what="the imported limits")
    (imported,) = _throttles(client, "p4")
    assert (imported["pod"], imported["origin"], imported["window"], imported["reason"]) == (
        "legacy-1",
        "Migrated",
        "30m",
        OLD["kubediskguard.io/trigger-reason"],
    )
    marked = client.get(POD, "legacy-1", "t4")["metadata"]["annotations"]
    assert "iolimit.kreconcile.io/imported" in marked
    wait_for(
        lambda: any(r == "ThrottleImportSkipped" for r, _ in events_for(client, "t4", "legacy-2")),
        timeout=10,
        what="the skipped-import event",
    )
    skipped = [m for r, m in events_for(client, "t4", "legacy-2") if r == "ThrottleImportSkipped"]
    assert "kubediskguard.io/triggered-by: '5m' is not a window" in skipped[0]
    imports = [r for r, _ in events_for(client, "t4", "legacy-1")]
    assert imports == ["ThrottleImported"]

    client.patch(client.get(POD, "legacy-1", "t4"), {"metadata": {"labels": {"touched": "1"}}})
    client.patch(client.get(IOLimitPolicy, "p4"), {"metadata": {"labels": {"touched": "1"}}})
    wait_for(
        lambda: node_report(client, "p4", "node-2").get("applied"),
        timeout=10,
        what="the agent to report the imported throttle",
    )
    assert _throttles(client, "p4") == [imported]
    assert [r for r, _ in events_for(client, "t4", "legacy-1")] == ["ThrottleImported"]


def test_a_conflict_on_the_status_write_is_decided_again_from_a_fresh_read(
    cluster: Cluster,
) -> None:
    client = cluster.client
    create_namespace(client, "t5")
    cluster.server.faults.fail(
        code=409, verb="patch", resource="iolimitpolicies", user=MANAGER_USER, name="p5"
    )
    create_policy(client, "p5", "t5", {"writeIOPS": 50}, labels=WORKERS)
    wait_for(
        lambda: _conditions(client, "p5").get("Ready", ("", ""))[0] == "True",
        timeout=15,
        what="the policy's conditions written after a 409",
    )
    assert requested(cluster.server, MANAGER_USER, "get", "iolimitpolicies", "p5")


def test_metrics_are_served_to_tokens_allowed_to_get_them(cluster: Cluster) -> None:
    """``--metrics-secure``: the API server authenticates the scraper's token (TokenReview)
    and authorizes ``get /metrics`` (SubjectAccessReview), asked with each process's own
    ServiceAccount (config/rbac/metrics_auth_role.yaml)."""
    create_namespace(cluster.client, "monitoring")
    bind_cluster_role(cluster.client, METRICS_READER_ROLE, ("monitoring", "prometheus"))
    prometheus = cluster.identities.token("monitoring", "prometheus")
    stranger = cluster.identities.token("monitoring", "stranger")
    endpoints = {
        "manager": cluster.manager.manager.metrics_server.address,
        **{node: agent.manager.metrics_server.address for node, agent in cluster.agents.items()},
    }
    for process, address in endpoints.items():
        assert address is not None, process
        status, body = get_metrics(address, prometheus)
        assert status == 200, (process, body)
        assert 'kreconcile_config_last_reload_successful{name="operators"} 1.0' in body
        assert get_metrics(address, None) == (401, "Unauthorized\n"), process
        assert get_metrics(address, "not-a-token") == (401, "Unauthorized\n"), process
        denied = "Authorization denied for user system:serviceaccount:monitoring:stranger\n"
        assert get_metrics(address, stranger) == (403, denied), process
