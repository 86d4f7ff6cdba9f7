"""Claimers for the concurrency tests: each claims one task, then claims it again (a retry).

``claim_twice`` runs in a thread; ``claim_in_processes`` starts this module as a helper
process that imports the client once, forks one claimer process per task (it has a single
thread, so forking is safe), releases them all at once and prints their outcomes as JSON.
"""

from __future__ import annotations

import json
import multiprocessing
import os
import subprocess
import sys
from multiprocessing.synchronize import Barrier
from typing import Any

from controllers.agentpool.ledger import Pending, Placement, SlotRef
from controllers.agentpool.slots import Slots
from reconcile.client import Client, RestConfig

Outcome = tuple[str, str, int]
"""("slot", pod, index) or ("pending", "", position)."""


def outcome(placement: Placement) -> Outcome:
    if isinstance(placement, SlotRef):
        return ("slot", placement.pod, placement.index)
    assert isinstance(placement, Pending)
    return ("pending", "", placement.position)


def claim_twice(
    kubeconfig: str, namespace: str, pool: str, task: str, start: Any
) -> tuple[Outcome, Outcome]:
    """Claim ``task`` once every claimer is ready (``start.wait()``), then claim it again."""
    slots = Slots(Client(RestConfig.from_kubeconfig(kubeconfig)))
    slots.get(namespace, pool)  # discovery and a connection, before the race starts
    start.wait(60)
    return outcome(slots.claim(namespace, pool, task)), outcome(slots.claim(namespace, pool, task))


def _child(kubeconfig: str, namespace: str, pool: str, task: str, start: Barrier, out: Any) -> None:
    # Fifty busy claimers would otherwise starve the API server they all wait on (two cores).
    os.nice(10)
    try:
        out.put((task, claim_twice(kubeconfig, namespace, pool, task, start)))
    except BaseException as error:
        out.put((task, repr(error)))


def _fork_claimers(kubeconfig: str, namespace: str, pool: str, tasks: list[str]) -> dict[str, Any]:
    context = multiprocessing.get_context("fork")
    start = context.Barrier(len(tasks))
    out = context.Queue()
    processes = [
        context.Process(target=_child, args=(kubeconfig, namespace, pool, task, start, out))
        for task in tasks
    ]
    for process in processes:
        process.start()
    outcomes = dict(out.get(timeout=120) for _ in tasks)
    for process in processes:
        process.join(30)
    return outcomes


def claim_in_processes(
    kubeconfig: str, namespace: str, pool: str, tasks: list[str]
) -> dict[str, Any]:
    """Each task claimed (twice) by a process of its own, all racing at once."""
    result = subprocess.run(
        [sys.executable, "-m", __name__, kubeconfig, namespace, pool, *tasks],
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    outcomes: dict[str, Any] = json.loads(result.stdout)
    return outcomes


if __name__ == "__main__":
    config, ns, name, *names = sys.argv[1:]
    print(json.dumps(_fork_claimers(config, ns, name, names)))
