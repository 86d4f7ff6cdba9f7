"""What goes on while processes die: container restarts, IO, slot claims; and what happened.

Each actor runs on a thread of the driver, writes through the API server like any client,
and records what it did only once the API server said it was done (an injected 500 or 429
fails the request before anything is stored, so a failed request did nothing). That record
is the ground truth the checks compare the operators' status against.

- ``RecordingKubelet``: the simulated kubelet in chaos mode, restarting random containers
  of the selected namespaces (never the same container twice within ``spacing`` seconds,
  so a healthy operator always sees each restart), recording each one.
- ``IOTree``: one ``CgroupMimic`` per node (the container runtime's side of the cgroup
  tree, with simulated IO), and the io.max lines of every container cgroup it ever had.
- ``Claimer``: claims, starts and releases AgentPool slots, recording when each task held
  which pod.
- ``RecordHistory``: the RestartRecords' history entries, gathered while they are still in
  the bounded history.

``hold`` (a lock) pauses every actor: the driver takes it around the API server restart,
when a request's fate would be unknown.
"""

from __future__ import annotations

import logging
import random
import threading
import time
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from controllers.agentpool.ledger import Pending, SlotRef
from controllers.agentpool.slots import Slots
from controllers.iolimit.agent.cgroups import layout_paths
from controllers.iolimit.agent.mimic import CgroupMimic
from controllers.iolimit.selection import running_containers
from crds import RestartRecord
from reconcile.client import Client
from reconcile.envtest.kubelet import CHAOS_FAILURES, ContainerFailure, SimulatedKubelet
from reconcile.gvk import GroupVersionKind

log = logging.getLogger(__name__)

POD = GroupVersionKind("", "v1", "Pod")
DEVICE = "8:0"


class Actor:
    """A loop on a thread of its own, doing ``step()`` every ``interval`` seconds under
    ``hold``; an error is logged and the loop goes on (the API server is meant to fail)."""

    interval = 1.0

    def __init__(self, hold: threading.Lock) -> None:
        self.hold = hold
        self.stop = threading.Event()
        self.errors = 0
        self._thread = threading.Thread(target=self._loop, name=type(self).__name__, daemon=True)

    def step(self) -> None:
        raise NotImplementedError

    def begin(self) -> None:
        self._thread.start()

    def end(self) -> None:
        self.stop.set()
        self._thread.join(30)

    def _loop(self) -> None:
        while not self.stop.wait(self.interval):
            with self.hold:
                try:
                    self.step()
                except Exception as error:  # the API server is meant to fail
                    self.errors += 1
                    log.debug("actor step failed", extra={"error": str(error)})


@dataclass(frozen=True)
class Restart:
    namespace: str
    pod: str
    uid: str
    container: str
    count: int
    """The container's restartCount after this restart."""
    reason: str
    exit_code: int
    at: float


class RecordingKubelet(Actor):
    """The simulated kubelet: runs pods on ``nodes``; while ``chaos`` is set, restarts a
    random container of ``namespaces`` about ``rate`` times a second."""

    interval = 0.25

    def __init__(
        self,
        hold: threading.Lock,
        client: Client,
        *,
        nodes: Sequence[str],
        namespaces: Sequence[str],
        rate: float,
        spacing: float,
        seed: int,
    ) -> None:
        super().__init__(hold)
        self.kubelet = SimulatedKubelet(client, nodes=nodes)
        self.namespaces = set(namespaces)
        self.rate, self.spacing = rate, spacing
        self.rng = random.Random(seed)
        self.chaos = threading.Event()
        self.restarts: list[Restart] = []
        self._last: dict[tuple[str, str], float] = {}

    def begin(self) -> None:
        self.kubelet.register_nodes()
        super().begin()

    def step(self) -> None:
        self.kubelet.sync()
        if self.chaos.is_set() and self.rng.random() < self.rate * self.interval:
            self._restart_one()

    def _restart_one(self) -> None:
        now = time.time()
        choices = [
            (pod, container["name"])
            for pod in self.kubelet.client.list(POD)["items"]
            if pod["metadata"]["namespace"] in self.namespaces
            and (pod.get("status") or {}).get("phase") == "Running"
            for container in pod["spec"]["containers"]
            if now - self._last.get((pod["metadata"]["uid"], container["name"]), 0) > self.spacing
        ]
        if not choices:
            return
        pod, container = self.rng.choice(choices)
        failure: ContainerFailure = self.rng.choice(CHAOS_FAILURES)
        meta = pod["metadata"]
        updated = self.kubelet.restart(meta["namespace"], meta["name"], container, failure)
        count = next(
            s["restartCount"] for s in updated["status"]["containerStatuses"]
            if s["name"] == container
        )  # fmt: skip
        self._last[(meta["uid"], container)] = time.time()
        self.restarts.append(
            Restart(meta["namespace"], meta["name"], updated["metadata"]["uid"], container,
                    count, failure.reason, failure.exit_code, time.time())
        )  # fmt: skip


class IOTree(Actor):
    """The mimic cgroup v2 tree of every node, and the io.max of each container cgroup."""

    def __init__(self, hold: threading.Lock, client: Client, root: Path, nodes: Sequence[str]):
        super().__init__(hold)
        self.client = client
        self.root = root
        self.pods: dict[str, list[dict[str, Any]]] = {node: [] for node in nodes}
        self.mimics = {
            node: CgroupMimic(lambda node=node: self.pods[node], root / node, device=DEVICE)  # type: ignore[misc]
            for node in nodes
        }
        self.io_max: dict[Path, list[str]] = {}
        """Every container cgroup's io.max lines, as last seen before the mimic removed it."""

    def step(self) -> None:
        listed = self.client.list(POD)["items"]
        for node in self.pods:
            self.pods[node] = [p for p in listed if p["spec"].get("nodeName") == node]
        self._read_io_max()
        for mimic in self.mimics.values():
            mimic.sync()

    def _read_io_max(self) -> None:
        for path in self.root.glob("*/kubepods/**/io.max"):
            try:
                self.io_max[path.parent] = path.read_text().splitlines()
            except OSError:
                continue

    def cgroup(self, pod: dict[str, Any], container: str) -> Path | None:
        """The cgroup directory of ``container``'s current incarnation."""
        for ref in running_containers(pod):
            if ref.container == container:
                root = self.root / pod["spec"]["nodeName"]
                return layout_paths(root, ref.pod_uid, ref.qos, ref.container_id)[0]
        return None


@dataclass
class Task:
    name: str
    claimed: float
    pod: str | None = None
    placed: float | None = None
    """When the driver learned its slot (the ledger had it by then)."""
    state: str = "Reserved"
    released: float | None = None


class Claimer(Actor):
    """Claims, starts and releases slots of one pool in waves: up to ``most`` tasks for
    ``period`` seconds, then down to one, so the pool keeps growing and shrinking."""

    interval = 0.5
    most = 6
    period = 8.0

    def __init__(
        self, hold: threading.Lock, client: Client, namespace: str, pool: str, *, seed: int
    ) -> None:
        super().__init__(hold)
        self.slots = Slots(client)
        self.namespace, self.pool = namespace, pool
        self.rng = random.Random(seed)
        self.tasks: dict[str, Task] = {}
        self._next = 0

    def held(self) -> list[Task]:
        return [t for t in self.tasks.values() if t.released is None]

    def step(self) -> None:
        held = self.held()
        for task in held:
            if task.pod is None:
                self._place(task, self.slots.claim(self.namespace, self.pool, task.name))
        target = self.most if int(time.monotonic() / self.period) % 2 == 0 else 1
        reserved = [t for t in held if t.pod is not None and t.state == "Reserved"]
        if len(held) < target:
            self._next += 1
            task = Task(f"task-{self._next}", time.time())
            self.tasks[task.name] = task
            self._place(task, self.slots.claim(self.namespace, self.pool, task.name))
        elif len(held) > target:
            task = self.rng.choice(held)
            released_at = time.time()
            self.slots.release(self.namespace, self.pool, task.name)
            task.released = released_at
        elif reserved:
            task = self.rng.choice(reserved)
            self.slots.start(self.namespace, self.pool, task.name)
            task.state = "Running"

    def _place(self, task: Task, placement: SlotRef | Pending) -> None:
        if isinstance(placement, SlotRef):
            task.pod, task.placed, task.state = placement.pod, time.time(), placement.state


class RecordHistory(Actor):
    """Every history entry the RestartRecords of ``namespaces`` ever showed."""

    interval = 2.0

    def __init__(self, hold: threading.Lock, client: Client, namespaces: Sequence[str]) -> None:
        super().__init__(hold)
        self.client = client
        self.namespaces = namespaces
        self.seen: dict[tuple[str, str, str], set[tuple[str, int]]] = defaultdict(set)
        """(namespace, pod, container) -> {(pod UID, restartCount)} of its history entries."""
        self.repeated: list[tuple[tuple[str, str, str], tuple[str, int]]] = []
        """History entries found twice in one record: a restart counted twice."""

    def step(self) -> None:
        for namespace in self.namespaces:
            for record in self.client.list(RestartRecord, namespace=namespace)["items"]:
                self.observe(record)

    def observe(self, record: dict[str, Any]) -> None:
        meta = record["metadata"]
        for container in (record.get("status") or {}).get("containers") or []:
            key = (meta["namespace"], meta["name"], container["name"])
            entries = [
                (h.get("podUID", ""), h["restartCount"]) for h in container.get("history") or []
            ]
            for entry in {e for e in entries if entries.count(e) > 1}:
                self.repeated.append((key, entry))
            self.seen[key].update(entries)


@dataclass
class Actors:
    """Every actor, started and stopped together."""

    kubelet: RecordingKubelet
    io: IOTree
    claimer: Claimer
    history: RecordHistory
    extra: list[Actor] = field(default_factory=list)

    def all(self) -> list[Actor]:
        return [self.kubelet, self.io, self.claimer, self.history, *self.extra]

    def begin(self) -> None:
        for actor in self.all():
            actor.begin()

    def end(self) -> None:
        for actor in self.all():
            actor.end()


def busy_by_pod(tasks: Sequence[Task]) -> dict[str, list[tuple[float, float]]]:
    """pod -> the intervals during which a task of the driver surely held a slot on it."""
    held: dict[str, list[tuple[float, float]]] = defaultdict(list)
    for task in tasks:
        if task.pod is not None and task.placed is not None:
            held[task.pod].append((task.placed, task.released or float("inf")))
    return held
