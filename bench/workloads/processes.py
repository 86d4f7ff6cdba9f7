"""Processes a comparison runs: the API server and operators, each measured on its own.

Every process the benchmark compares runs in its own subprocess, so the CPU seconds and the
peak RSS read from ``/proc/<pid>`` belong to that process alone (threads included, the
driver and the API server excluded). The API server is ``kreconcile apiserver`` in a child
process; the kubeconfig it writes is the only way the others learn where it is and how to
authenticate, so the benchmark follows whatever transport and credentials the server uses.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import IO

_TICKS = os.sysconf("SC_CLK_TCK")
ROOT = Path(__file__).resolve().parents[2]
"""The repository root: children run from it so ``python -m bench...`` imports work."""


@dataclass(frozen=True, slots=True)
class Usage:
    """CPU and memory of one process at one moment."""

    cpu_s: float
    """User + system CPU seconds since the process started, all threads."""
    peak_rss_mb: float
    """The highest resident set size so far (VmHWM)."""


def usage(pid: int) -> Usage:
    """Read ``pid``'s CPU seconds and peak RSS from /proc."""
    stat = Path(f"/proc/{pid}/stat").read_text()
    fields = stat[stat.rindex(")") + 2 :].split()
    cpu = (int(fields[11]) + int(fields[12])) / _TICKS  # utime, stime (fields 14 and 15)
    peak = 0.0
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            peak = int(line.split()[1]) / 1024
    return Usage(cpu_s=cpu, peak_rss_mb=peak)


def machine_ticks() -> tuple[int, int]:
    """(busy, total) CPU ticks of the whole machine so far, all cores (from /proc/stat)."""
    fields = [int(v) for v in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:9]]
    idle = fields[3] + fields[4]  # idle + iowait
    return sum(fields) - idle, sum(fields)


def machine_busy(since: tuple[int, int]) -> float:
    """Share of the machine's CPU time (all cores) spent busy since ``machine_ticks()``."""
    busy, total = machine_ticks()
    return (busy - since[0]) / max(1, total - since[1])


class Child:
    """A measured subprocess whose output goes to a log file (read back on failure)."""

    def __init__(
        self, name: str, argv: list[str], log: Path, env: dict[str, str] | None = None
    ) -> None:
        self.name = name
        self.log = log
        self.started = time.perf_counter()
        self._stdout = log.with_suffix(".out")
        self._out: IO[bytes] = log.open("wb")
        with self._stdout.open("wb") as stdout:
            self.process = subprocess.Popen(
                argv, cwd=ROOT, env={**os.environ, **(env or {})}, stdout=stdout,
                stderr=self._out,
            )  # fmt: skip

    @property
    def pid(self) -> int:
        return self.process.pid

    def usage(self) -> Usage:
        self.check_alive()
        return usage(self.pid)

    def check_alive(self) -> None:
        if self.process.poll() is not None:
            raise RuntimeError(
                f"{self.name} exited with code {self.process.returncode}; "
                f"last lines of its log:\n{self.tail()}"
            )

    def tail(self, lines: int = 20) -> str:
        self._out.flush()
        text = self.log.read_text(errors="replace").splitlines()
        return "\n".join(text[-lines:])

    def stop(self, timeout: float = 30.0) -> str:
        """SIGTERM, wait (SIGKILL after ``timeout``), and return what it printed on stdout."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        self._out.close()
        return self._stdout.read_text(errors="replace")


def start_apiserver(
    workdir: Path, *, watch_history: int, timeout: float = 60.0
) -> tuple[Child, Path]:
    """``kreconcile apiserver`` in a child process; returns it and the kubeconfig it wrote."""
    kubeconfig = workdir / "kubeconfig"
    server = Child(
        "apiserver",
        [sys.executable, "-m", "controllers.cli", "apiserver", "--port", "0",
         "--kubeconfig", str(kubeconfig), "--watch-history", str(watch_history)],
        workdir / "apiserver.log",
    )  # fmt: skip
    deadline = time.monotonic() + timeout
    while not kubeconfig.exists():
        server.check_alive()
        if time.monotonic() > deadline:
            server.stop()
            raise RuntimeError(f"the API server wrote no kubeconfig within {timeout}s")
        time.sleep(0.05)
    return server, kubeconfig
