"""The driver's schedule: kill an operator process every few seconds, inject API faults.

Every few seconds (``gap``) one random operator process gets SIGKILL (or, one time in four,
SIGTERM and a graceful stop) and is started again a moment later. Between kills the API
server misbehaves in turn: 500s, 429s with Retry-After, every watch dropped, every request
held for 5 s, watches silent for 5 s; once, halfway, the API server itself is killed and
started again on its sqlite data. A process that exits by itself (a replica that lost its
Lease exits 1) is started again, as a kubelet would. Everything is recorded with its time:
``stops`` (who went down, how), ``windows`` (when the API server was unable to serve).
"""

from __future__ import annotations

import random
import signal
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from tests.durability.chaos.cluster import ApiServer, Operator, Stop

FAULT_KINDS = ("500", "429", "watch-cut", "stall", "watch-stall")
FAULT_SECONDS = {"500": 2.0, "429": 2.0, "watch-cut": 0.0, "stall": 2.0, "watch-stall": 5.0}
STALL_SECONDS = 5
"""How long a request is held during a ``stall``."""


@dataclass(frozen=True)
class Window:
    """A time when the API server failed its clients: ``kind`` from ``start`` to ``end``."""

    kind: str
    start: float
    end: float


@dataclass
class Tally:
    kills: int = 0
    sigterms: int = 0
    exits: int = 0
    faults: dict[str, int] = field(default_factory=dict)


class Schedule:
    """Runs ``kills`` kills with faults between them; ``run()`` returns when all are done
    and every process is up again."""

    def __init__(
        self,
        server: ApiServer,
        operators: list[Operator],
        hold: threading.Lock,
        *,
        kills: int,
        gap: tuple[float, float] = (2.5, 4.0),
        seed: int = 17,
    ) -> None:
        self.server, self.operators, self.hold = server, operators, hold
        self.kills, self.gap = kills, gap
        self.rng = random.Random(seed)
        self.stops: list[Stop] = []
        self.windows: list[Window] = []
        self.tally = Tally()
        self._due: list[tuple[float, Callable[[], None]]] = []
        self._restarting: set[str] = set()

    # the plan

    def faults_after(self) -> dict[int, str]:
        """Kill number -> the fault injected after it, each kind in turn: one every other
        kill in a short run (every kind at least once in 10 kills), every third in a long
        one, which leaves the operators time between faults to show they keep up."""
        every = max(2, self.kills // 30)
        after = range(1, self.kills, every)
        return {kill: FAULT_KINDS[n % len(FAULT_KINDS)] for n, kill in enumerate(after)}

    def run(self) -> None:
        faults = self.faults_after()
        server_restart = self.kills // 2
        for index in range(self.kills):
            self._idle_until(time.monotonic() + self.rng.uniform(*self.gap))
            self._kill_one()
            if index in faults:
                self._fault(faults[index])
            if index == server_restart:
                self._restart_server()
        while self._due or self._restarting:
            self._idle_until(time.monotonic() + 0.2)

    # acting

    def _idle_until(self, deadline: float) -> None:
        """Run what is due and restart what exited until ``deadline``."""
        while True:
            now = time.monotonic()
            for due in [d for d in self._due if d[0] <= now]:
                self._due.remove(due)
                due[1]()
            self._supervise()
            if now >= deadline:
                return
            time.sleep(min(0.1, deadline - now))

    def _later(self, seconds: float, action: Callable[[], None]) -> None:
        self._due.append((time.monotonic() + seconds, action))

    def _supervise(self) -> None:
        for operator in self.operators:
            if operator.name in self._restarting or operator.alive():
                continue
            assert operator.process is not None
            self.stops.append(
                Stop(operator.name, time.time(), f"exit {operator.process.returncode}")
            )
            self.tally.exits += 1
            self._restart_soon(operator, 1.0)

    def _restart_soon(self, operator: Operator, seconds: float) -> None:
        self._restarting.add(operator.name)

        def restart() -> None:
            operator.start()
            self._restarting.discard(operator.name)

        self._later(seconds, restart)

    def _kill_one(self) -> None:
        candidates = [op for op in self.operators if op.name not in self._restarting and op.alive()]
        if not candidates:
            return
        victim = self.rng.choice(candidates)
        graceful = self.rng.random() < 0.25
        self.stops.append(victim.signal(signal.SIGTERM if graceful else signal.SIGKILL))
        self.tally.kills += 1
        self.tally.sigterms += graceful
        self._restart_soon(victim, self.rng.uniform(0.2, 2.0))

    def _fault(self, kind: str) -> None:
        self.tally.faults[kind] = self.tally.faults.get(kind, 0) + 1
        start = time.time()
        if kind == "watch-cut":
            self.server.fault("cut")
        elif kind in ("500", "429"):
            retry = {"retry_after": 1} if kind == "429" else {}
            self.server.fault("fail", code=int(kind), count=10**9, **retry)
        elif kind == "stall":
            self.server.fault("delay", seconds=STALL_SECONDS, count=10**9)
        else:
            self.server.fault("stall", on=True)
        held = STALL_SECONDS if kind == "stall" else 0.0  # a held request ends this late

        def clear() -> None:
            if FAULT_SECONDS[kind]:
                self.server.fault("clear")
            self.windows.append(Window(kind, start, time.time() + held))

        self._later(FAULT_SECONDS[kind], clear)

    def _restart_server(self) -> None:
        """Kill the API server and start it again on its data, the actors paused meanwhile
        (a request cut by the kill may or may not have been stored)."""
        self.tally.faults["apiserver-restart"] = 1
        with self.hold:
            self.server.restart()
        down, up = self.server.downtime[-1]
        self.windows.append(Window("apiserver-restart", down, up))
