"""Two manager processes competing for one Lease on the embedded API server."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from reconcile.apiserver import APIServer
from reconcile.client import Client
from reconcile.gvk import GroupVersionKind
from tests.durability.leader_process import HEARTBEAT
from tests.waiting import wait_for

LEASE, RENEW, RETRY = 3.0, 2.0, 0.4
EARLIEST_CRASH_TAKEOVER = LEASE - 2 * RETRY
"""A standby may not take a crashed leader's Lease before it expired: the leader renewed at
most one retry period before it died, and the heartbeat adds at most one more."""
CRASH_LIVENESS_BOUND = 3 * LEASE + 10.0
"""The standby must take over eventually; this bound only catches a standby that never does.
How fast takeover is (lease + about 2.2 x retry) is measured by bench/failover.py, not here,
so a loaded machine cannot fail the test."""
CONFIGMAP = GroupVersionKind("", "v1", "ConfigMap")


class Writers:
    """Follows the heartbeat ConfigMap and records (holder, seq, wall time) in order."""

    def __init__(self, client: Client) -> None:
        self.client = client
        self.history: list[tuple[str, int, float]] = []
        self.lock = threading.Lock()
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self._follow, daemon=True)
        self.thread.start()

    def _follow(self) -> None:
        while not self.stop.is_set():
            try:
                for event in self.client.watch(
                    CONFIGMAP,
                    namespace="default",
                    field_selector="metadata.name=heartbeat",
                    timeout_seconds=60,
                ):
                    data = (event.get("object") or {}).get("data") or {}
                    if "holder" in data:
                        with self.lock:
                            self.history.append(
                                (data["holder"], int(data["seq"]), float(data["at"]))
                            )
                    if self.stop.is_set():
                        return
            except Exception:
                self.stop.wait(0.1)

    def holder(self) -> str | None:
        with self.lock:
            return self.history[-1][0] if self.history else None

    def first_write_by(self, identity: str, after: float) -> float | None:
        with self.lock:
            return next(
                (at for who, _, at in self.history if who == identity and at >= after), None
            )

    def assert_single_writer(self) -> None:
        """Once a new holder wrote, the previous one never writes again."""
        with self.lock:
            sequence = [who for who, _, _ in self.history]
        switches = [sequence[0]] if sequence else []
        for who in sequence[1:]:
            if who != switches[-1]:
                switches.append(who)
        assert len(switches) == len(set(switches)), f"writers interleaved: {switches}"


@pytest.fixture
def writers(apiserver: APIServer, client: Client) -> Iterator[Writers]:
    client.create({**HEARTBEAT, "data": {}})
    follower = Writers(client)
    yield follower
    follower.stop.set()


def _spawn(kubeconfig: Path, identity: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [
            sys.executable,
            "-m",
            "tests.durability.leader_process",
            str(kubeconfig),
            identity,
            str(LEASE),
            str(RENEW),
            str(RETRY),
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )


@pytest.fixture
def pair(kubeconfig: Path, writers: Writers) -> Iterator[dict[str, subprocess.Popen[str]]]:
    processes = {"a": _spawn(kubeconfig, "a")}
    wait_for(lambda: writers.holder() == "a", timeout=30, what="a to lead")
    processes["b"] = _spawn(kubeconfig, "b")
    yield processes
    for process in processes.values():
        if process.poll() is None:
            process.kill()
        process.wait(10)


def _standby_stays_quiet(writers: Writers, seconds: float) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        assert writers.holder() == "a"
        time.sleep(0.05)  # sampling window, not synchronisation


def test_exactly_one_leader_and_graceful_handover(
    pair: dict[str, subprocess.Popen[str]], writers: Writers
) -> None:
    _standby_stays_quiet(writers, LEASE * 1.5)
    signalled = time.time()
    pair["a"].send_signal(signal.SIGTERM)
    assert pair["a"].wait(15) == 0
    wait_for(
        lambda: writers.first_write_by("b", signalled) is not None, timeout=10, what="b to lead"
    )
    first_by_b = writers.first_write_by("b", signalled)
    assert first_by_b is not None
    last_by_a = max(at for who, _, at in writers.history if who == "a")
    # A released Lease is taken at the standby's next retry; without the release the standby
    # would have had to wait for the Lease to expire after a's last renewal.
    gap = first_by_b - last_by_a
    assert gap < LEASE, f"b wrote {gap:.2f}s after a's last write: it waited for an expiry"
    writers.assert_single_writer()


def test_crash_failover_within_lease_bound(
    pair: dict[str, subprocess.Popen[str]], writers: Writers
) -> None:
    wait_for(lambda: pair["b"].poll() is None and writers.holder() == "a")
    _standby_stays_quiet(writers, RETRY * 3)
    killed = time.time()
    pair["a"].send_signal(signal.SIGKILL)
    pair["a"].wait(10)
    wait_for(
        lambda: writers.first_write_by("b", killed) is not None,
        timeout=CRASH_LIVENESS_BOUND,
        what="b to lead",
    )
    takeover = writers.first_write_by("b", killed) - killed  # type: ignore[operator]
    assert takeover >= EARLIEST_CRASH_TAKEOVER, (
        f"b took the Lease {takeover:.2f}s after the crash, before it could have expired"
    )
    writers.assert_single_writer()


def test_lease_outage_makes_leader_step_down_and_exit(
    apiserver: APIServer, pair: dict[str, subprocess.Popen[str]], writers: Writers
) -> None:
    _standby_stays_quiet(writers, RETRY * 3)
    apiserver.faults.fail(code=503, verb="update", resource="leases", count=10_000)
    apiserver.faults.fail(code=503, verb="get", resource="leases", count=10_000)
    assert pair["a"].wait(RENEW + LEASE + 10) == 1, "the leader exits non-zero"
    output = pair["a"].stdout.read() if pair["a"].stdout else ""
    stderr = pair["a"].stderr.read() if pair["a"].stderr else ""
    assert "leader election lost" in stderr
    exited_at = float(output.split()[2])
    last_write = max(at for who, _, at in writers.history if who == "a")
    assert last_write <= exited_at, "no heartbeat from the old leader after it stepped down"
    apiserver.faults.clear()
