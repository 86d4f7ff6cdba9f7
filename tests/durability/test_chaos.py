"""Proof under fire: operator processes killed at random while the API server misbehaves.

The API server runs as a process with sqlite persistence and an audit log; two
``kreconcile run`` replicas compete for the Lease; one ``kreconcile agent`` per node. While
the simulated kubelet restarts containers at random, hot pods do IO and slots are claimed,
started and released, the driver kills a random operator process every few seconds
(SIGKILL, sometimes SIGTERM), starts it again, and makes the API server fail (500s, 429s,
dropped and silent watches, 5 s stalls, one crash and restart). Then, everything quiet, the
operators' status and metrics are checked against what the driver itself recorded (see
``chaos/checks.py``), and a summary table is printed.

``CHAOS_KILLS`` sets the number of kills: 10 by default (this suite), 100 for ``make chaos``.
"""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from crds import AgentPool, IOLimitPolicy, RestartRecord
from reconcile.apiserver.audit import read_audit_log
from tests.durability.chaos import checks
from tests.durability.chaos.checks import Findings
from tests.durability.chaos.cluster import REPLICAS
from tests.durability.chaos.scenario import (
    HOT,
    IO,
    POD,
    POLICY,
    POOL,
    POOL_NAMESPACE,
    RESTARTS,
    Cluster,
    create_objects,
)
from tests.durability.chaos.schedule import Schedule
from tests.waiting import wait_for

KILLS = int(os.environ.get("CHAOS_KILLS", "10"))
SEED = int(os.environ.get("CHAOS_SEED", "17"))
QUIET_TIMEOUT = 90.0

pytestmark = [pytest.mark.chaos, pytest.mark.timeout(300 + 20 * KILLS)]


@pytest.fixture
def cluster(tmp_path: Path) -> Iterator[Cluster]:
    running = Cluster.start(tmp_path)
    try:
        yield running
    finally:
        running.stop()


def _records(cluster: Cluster) -> dict[tuple[str, str], dict[str, Any]]:
    return {
        (r["metadata"]["namespace"], r["metadata"]["name"]): r
        for namespace in (RESTARTS, IO)
        for r in cluster.client.list(RestartRecord, namespace=namespace)["items"]
    }


def _recorded_all(cluster: Cluster) -> bool:
    """Each container's record counts what its pod's restartCount says."""
    records = _records(cluster)
    for namespace in (RESTARTS, IO):
        for pod in cluster.client.list(POD, namespace=namespace)["items"]:
            meta = pod["metadata"]
            for status in pod["status"]["containerStatuses"]:
                entry = checks._container(records.get((namespace, meta["name"])), status["name"])
                if int(entry.get("restarts", 0)) != status["restartCount"]:
                    return False
    return True


def _throttled(cluster: Cluster) -> bool:
    assert cluster.actors is not None
    findings = Findings()
    pods = cluster.client.list(POD, namespace=IO)["items"]
    policy = cluster.client.get(IOLimitPolicy, POLICY)
    checks.check_throttles(pods, policy, cluster.actors.io, set(HOT), findings)
    return not findings.problems


def _metrics_agree(cluster: Cluster) -> list[str]:
    return checks.metric_mismatches(
        cluster.replicas(),
        list(_records(cluster).values()),
        cluster.client.list(IOLimitPolicy)["items"],
        cluster.client.get(AgentPool, POOL, POOL_NAMESPACE),
        (RESTARTS, IO),
    )


def _settle(cluster: Cluster, what: str, condition: Any) -> None:
    """Wait for ``condition``; on timeout the checks below say what is wrong."""
    try:
        wait_for(condition, timeout=QUIET_TIMEOUT, interval=0.5, what=what)
    except AssertionError as error:
        print(error)


def test_nothing_lost_nothing_doubled_under_random_kills_and_api_faults(
    cluster: Cluster,
) -> None:
    create_objects(cluster.client)
    actors = cluster.run_actors(seed=SEED)
    cluster.run_operators()
    wait_for(lambda: _throttled(cluster), timeout=90, interval=0.5, what="hot pods throttled")

    schedule = Schedule(cluster.server, cluster.operators, cluster.hold, kills=KILLS, seed=SEED)
    actors.kubelet.chaos.set()
    started = time.time()
    schedule.run()
    ended = time.time()

    actors.kubelet.chaos.clear()
    actors.claimer.end()
    cluster.server.fault("clear")
    _settle(cluster, "every restart recorded", lambda: _recorded_all(cluster))
    _settle(cluster, "every throttle in force", lambda: _throttled(cluster))
    _settle(cluster, "metrics equal to status", lambda: not _metrics_agree(cluster))
    actors.history.step()

    findings = Findings()
    events = list(read_audit_log(cluster.server.audit_log))
    leases = checks.lease_writes(events, REPLICAS)
    starts = {op.name: op.started for op in cluster.operators}
    down = checks.outages(schedule.stops, schedule.windows, leases, starts)
    findings.outage_seconds = checks.covered(down, started, ended)
    checks.check_restarts(
        actors.kubelet.restarts, _records(cluster), actors.history.seen,
        actors.history.repeated, down, findings,
    )  # fmt: skip
    checks.check_throttles(
        cluster.client.list(POD, namespace=IO)["items"],
        cluster.client.get(IOLimitPolicy, POLICY), actors.io, set(HOT), findings,
    )  # fmt: skip
    checks.check_deletes(events, POOL_NAMESPACE, list(actors.claimer.tasks.values()), findings)
    checks.check_ledger(
        cluster.client.get(AgentPool, POOL, POOL_NAMESPACE),
        list(actors.claimer.tasks.values()),
        findings,
    )
    checks.check_leaders(events, REPLICAS, findings)
    for mismatch in _metrics_agree(cluster):
        findings.problem(mismatch)

    print(f"\n{checks.summary(schedule.tally, findings, KILLS, ended - started)}")
    assert schedule.tally.kills == KILLS
    assert findings.restarts > 0 and findings.deletes > 0 and findings.leader_writes > 0
    assert not findings.problems, "\n".join(findings.problems)
