"""Fifty claimers racing on one pool, as threads and as processes, and the slots CLI."""

from __future__ import annotations

import json
import subprocess
import threading
from typing import Any

import pytest

from controllers.agentpool.cli import EXIT_PENDING
from controllers.cli import main
from tests.integration.controllers.agentpool.claimers import (
    Outcome,
    claim_in_processes,
    claim_twice,
)
from tests.integration.controllers.agentpool.conftest import Cluster
from tests.integration.controllers.agentpool.pools import pool_manifest, status, wait_ready
from tests.integration.controllers.processes import command

CLAIMERS = 50


def _pool(cluster: Cluster, namespace: str) -> str:
    """A pool of 2 agents x 3 slots that may not grow: 6 claims placed, the rest pending."""
    cluster.client.create(
        pool_manifest(namespace, "race", minReplicas=2, maxReplicas=2, slotsPerAgent=3)
    )
    wait_ready(cluster.client, namespace, "race", 2)
    return "race"


def _check(ledger: dict[str, Any], outcomes: dict[str, Any]) -> None:
    """No slot twice, every task exactly once (placed or pending), retries agree."""
    errors = {task: result for task, result in outcomes.items() if isinstance(result, str)}
    assert not errors, errors
    held = [
        (entry["name"], slot["index"], slot["task"])
        for entry in ledger["pods"]
        for slot in entry["slots"]
        if slot.get("task")
    ]
    pending = [claim["task"] for claim in ledger["pending"]]
    assert len({(pod, index) for pod, index, _ in held}) == len(held) == 6
    assert sorted([task for _, _, task in held] + pending) == sorted(outcomes)
    for task, (first, retry) in outcomes.items():
        assert tuple(first) == tuple(retry), f"{task}: a retried claim moved {first} -> {retry}"
        kind, pod, number = first
        if kind == "slot":
            assert (pod, number, task) in held
        else:
            assert pending[number - 1] == task


def test_fifty_threads_never_share_a_slot(cluster: Cluster, namespace: str) -> None:
    pool = _pool(cluster, namespace)
    start = threading.Barrier(CLAIMERS)
    outcomes: dict[str, tuple[Outcome, Outcome] | str] = {}

    def claimer(task: str) -> None:
        try:
            outcomes[task] = claim_twice(
                str(cluster.claimer_kubeconfig), namespace, pool, task, start
            )
        except BaseException as error:
            outcomes[task] = repr(error)

    threads = [threading.Thread(target=claimer, args=(f"thread-{i}",)) for i in range(CLAIMERS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(120)
    assert len(outcomes) == CLAIMERS
    _check(status(cluster.client, namespace, pool), outcomes)


def test_fifty_processes_never_share_a_slot(cluster: Cluster, namespace: str) -> None:
    pool = _pool(cluster, namespace)
    tasks = [f"process-{i}" for i in range(CLAIMERS)]
    outcomes = claim_in_processes(str(cluster.claimer_kubeconfig), namespace, pool, tasks)
    _check(status(cluster.client, namespace, pool), outcomes)


def _slots(
    cluster: Cluster, namespace: str, capsys: pytest.CaptureFixture[str], *args: str
) -> tuple[int, str, str]:
    """``kreconcile slots ARGS`` through the CLI's entry point: (exit code, stdout, stderr)."""
    code = main(["slots", f"--kubeconfig={cluster.claimer_kubeconfig}", "-n", namespace, *args])
    out, err = capsys.readouterr()
    return code, out, err


def test_the_slots_cli_claims_starts_lists_and_releases(
    cluster: Cluster, namespace: str, capsys: pytest.CaptureFixture[str]
) -> None:
    cluster.client.create(
        pool_manifest(namespace, "cli", minReplicas=1, maxReplicas=1, slotsPerAgent=1)
    )
    wait_ready(cluster.client, namespace, "cli", 1)
    assert _slots(cluster, namespace, capsys, "claim", "cli", "--task", "build-1") == (
        0,
        "reserved cli-0 slot 0\n",
        "",
    )
    code, out, _ = _slots(
        cluster, namespace, capsys, "-o", "json", "claim", "cli", "--task", "build-2"
    )
    assert (code, json.loads(out)) == (
        EXIT_PENDING,
        {"action": "claim", "state": "Pending", "position": 1},
    )
    # an agent reports a start for a slot of another pod: refused, the ledger is the truth
    code, _, err = _slots(
        cluster, namespace, capsys, "start", "cli", "--task", "build-1", "--pod", "cli-9"
    )
    assert code == 1
    assert "holds a slot on pod 'cli-0', not on 'cli-9'" in err
    started = _slots(
        cluster, namespace, capsys, "start", "cli", "--task", "build-1", "--pod", "cli-0"
    )
    assert started == (0, "running cli-0 slot 0\n", "")
    code, out, _ = _slots(cluster, namespace, capsys, "-o", "json", "list", "cli")
    ledger = json.loads(out)
    assert ledger["pods"][0]["slots"][0]["task"] == "build-1"
    assert [claim["task"] for claim in ledger["pending"]] == ["build-2"]
    released = _slots(cluster, namespace, capsys, "release", "cli", "--task", "build-1")
    assert released == (0, "released cli-0 slot 0\n", "")
    # the console script itself, as a workload runs it: waits for the freed slot
    waited = subprocess.run(
        command("slots", f"--kubeconfig={cluster.claimer_kubeconfig}", "-n", namespace,
                "claim", "cli", "--task", "build-2", "--wait", "20"),
        capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip
    assert (waited.returncode, waited.stdout) == (0, "reserved cli-0 slot 0\n"), waited.stderr
    assert status(cluster.client, namespace, "cli")["busySlots"] == 1
