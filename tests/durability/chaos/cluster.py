"""The processes of the chaos suite: the API server, two manager replicas and the agents.

Every process writes its output to a log file of its own (never a pipe nobody reads), keeps
its ports across restarts, and is started, killed and restarted only through these classes,
which record when each happened: the ground truth the checks compare against.
"""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

from tests.integration.controllers.processes import command, environment, free_address, get
from tests.waiting import wait_for

NODES = ("node-1", "node-2")
REPLICAS = ("replica-a", "replica-b")


def agent_user(node: str) -> str:
    return f"agent-{node}"


@dataclass(frozen=True)
class Stop:
    """One end of a process's life: killed (by signal) or exited by itself."""

    name: str
    at: float
    how: str
    """``SIGKILL``, ``SIGTERM`` or ``exit N`` (it stopped on its own)."""


class ApiServer:
    """``tests.durability.chaos.apiserver_process`` on a fixed port, restartable."""

    def __init__(self, workdir: Path, users: list[str]) -> None:
        self.dir = workdir
        self.users = users
        self.port = int(free_address().rsplit(":", 1)[1])
        self.process: subprocess.Popen[str] | None = None
        self.downtime: list[tuple[float, float]] = []
        self._lock = threading.Lock()

    @property
    def audit_log(self) -> Path:
        return self.dir / "audit.log"

    def kubeconfig(self, user: str | None = None) -> Path:
        return self.dir / (f"kubeconfig-{user}" if user else "kubeconfig")

    def start(self, timeout: float = 60.0) -> None:
        ready = self.dir / "ready"
        ready.unlink(missing_ok=True)
        with (self.dir / "apiserver.log").open("a") as log:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "tests.durability.chaos.apiserver_process",
                 str(self.dir), str(self.port), *self.users],
                stdin=subprocess.PIPE, stdout=log, stderr=subprocess.STDOUT, text=True,
                env=environment(),
            )  # fmt: skip
        wait_for(ready.exists, timeout=timeout, what="the API server process to serve")

    def fault(self, op: str, **arguments: object) -> None:
        """Send one fault command (see ``apiserver_process``)."""
        assert self.process is not None and self.process.stdin is not None
        with self._lock:
            self.process.stdin.write(json.dumps({"op": op, **arguments}) + "\n")
            self.process.stdin.flush()

    def restart(self) -> None:
        """SIGKILL, then start again on the same port and data: a crash with persistence."""
        assert self.process is not None
        down = time.time()
        self.process.kill()
        self.process.wait(10)
        self.start()
        self.downtime.append((down, time.time()))

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(20)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(10)


@dataclass
class Operator:
    """One ``kreconcile run`` replica or ``kreconcile agent``, with fixed ports."""

    name: str
    args: list[str]
    log: Path
    metrics: str = field(default_factory=free_address)
    process: subprocess.Popen[bytes] | None = None
    started: list[float] = field(default_factory=list)

    def start(self) -> None:
        with self.log.open("ab") as out:
            self.process = subprocess.Popen(
                command(*self.args, f"--metrics-bind-address={self.metrics}"),
                stdout=out,
                stderr=subprocess.STDOUT,
                env=environment(),
            )
        self.started.append(time.time())

    def alive(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def signal(self, signum: signal.Signals, timeout: float = 40.0) -> Stop:
        """Send ``signum`` and wait for the process to end (SIGKILL after ``timeout``)."""
        assert self.process is not None
        at = time.time()
        self.process.send_signal(signum)
        try:
            self.process.wait(timeout)
        except subprocess.TimeoutExpired as expired:
            self.process.kill()
            self.process.wait(10)
            raise AssertionError(
                f"{self.name} did not stop within {timeout}s of {signum.name}"
            ) from expired
        return Stop(self.name, at, signum.name)

    def serving(self) -> bool:
        return get(self.metrics, "/metrics")[0] == 200


def manager(workdir: Path, server: ApiServer, replica: str, config: Path) -> Operator:
    return Operator(
        replica,
        [
            "run",
            f"--kubeconfig={server.kubeconfig(replica)}",
            "--leader-election-namespace=kube-system",
            "--health-probe-bind-address=0",
            f"--config={config}",
        ],
        workdir / f"{replica}.log",
    )


def agent(workdir: Path, server: ApiServer, node: str, config: Path) -> Operator:
    name = agent_user(node)
    return Operator(
        name,
        [
            "agent",
            f"--kubeconfig={server.kubeconfig(name)}",
            f"--node-name={node}",
            f"--cgroup-root={workdir / 'cgroup' / node}",
            "--health-probe-bind-address=0",
            f"--config={config}",
        ],
        workdir / f"{name}.log",
    )
