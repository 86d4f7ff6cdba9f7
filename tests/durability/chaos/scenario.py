"""The objects the chaos run works on, and the processes that act on them.

- ``chaos-restarts``: pods of two containers each, restarted at random by the kubelet;
- ``chaos-io``: two hot pods (writing 20k IOPS, simulated) and a cold one (20 IOPS) under
  an IOLimitPolicy that throttles above 100 write IOPS to 50 (their containers restart too);
- ``chaos-pool``: an AgentPool that scales between 1 and 4 agents of 2 slots, shrinking
  after 2 idle seconds, so deletions happen all the time next to busy pods.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from controllers.inprocess import install_crds
from controllers.iolimit.agent.mimic import IO_ANNOTATION
from crds import AgentPool, IOLimitPolicy, RestartRecord
from reconcile.client import Client, RestConfig
from reconcile.errors import KreconcileError
from reconcile.gvk import GroupVersionKind
from tests.durability.chaos.cluster import (
    NODES,
    REPLICAS,
    ApiServer,
    Operator,
    agent,
    agent_user,
    manager,
)
from tests.durability.chaos.workload import (
    Actors,
    Claimer,
    IOTree,
    RecordHistory,
    RecordingKubelet,
)
from tests.integration.controllers.agentpool.pools import pool_manifest
from tests.integration.controllers.iolimit.harness import create_policy
from tests.waiting import wait_for

RESTARTS, IO, POOL_NAMESPACE = "chaos-restarts", "chaos-io", "chaos-pool"
POOL, POLICY = "agents", "chaos-io"
HOT = {"hot-0": "writeIOPS=20000", "hot-1": "writeIOPS=20000"}
"""Above the threshold (100) over the 15 minute window within 5 s of a container's start."""
COLD = {"cold-0": "writeIOPS=20"}
RESTARTING_PODS = 5
CONFIG = {
    "restarts": {"historyLimit": 32},
    "iolimit": {"samplingInterval": 0.5, "reportInterval": 5, "staleAfter": 30, "devices": ["8:0"]},
    "agentpool": {"resyncSeconds": 10},
}
POD = GroupVersionKind("", "v1", "Pod")


def _pod(
    namespace: str, name: str, containers: list[str], **meta: dict[str, str]
) -> dict[str, Any]:
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": name, "namespace": namespace, **meta},
        "spec": {"containers": [{"name": c, "image": "busybox:1.36"} for c in containers]},
    }


def create_objects(client: Client) -> None:
    install_crds(client)
    for kind in (RestartRecord, IOLimitPolicy, AgentPool):
        wait_for(lambda kind=kind: _served(client, kind), timeout=30, what=f"{kind} served")  # type: ignore[misc]
    for namespace in (RESTARTS, IO, POOL_NAMESPACE):
        client.create({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": namespace}})
    for index in range(RESTARTING_PODS):
        client.create(_pod(RESTARTS, f"app-{index}", ["main", "sidecar"]))
    for name, io in {**HOT, **COLD}.items():
        client.create(
            _pod(IO, name, ["app"], labels={"app": "io-worker"}, annotations={IO_ANNOTATION: io})
        )
    create_policy(client, POLICY, IO, {"writeIOPS": 50}, labels={"app": "io-worker"})
    client.create(
        pool_manifest(
            POOL_NAMESPACE, POOL, minReplicas=1, maxReplicas=4, slotsPerAgent=2,
            scaleDownStabilizationSeconds=2,
        )
    )  # fmt: skip


def _served(client: Client, kind: object) -> bool:
    try:
        client.list(kind, limit=1)  # type: ignore[arg-type]
    except KreconcileError:
        return False
    return True


@dataclass
class Cluster:
    """The API server, the operators and the actors of one chaos run."""

    workdir: Path
    server: ApiServer
    client: Client
    operators: list[Operator] = field(default_factory=list)
    hold: threading.Lock = field(default_factory=threading.Lock)
    actors: Actors | None = None

    @classmethod
    def start(cls, workdir: Path) -> Cluster:
        server = ApiServer(workdir / "apiserver", [*REPLICAS, *map(agent_user, NODES)])
        server.dir.mkdir(parents=True)
        server.start()
        client = Client(RestConfig.from_kubeconfig(server.kubeconfig()))
        return cls(workdir, server, client)

    def replicas(self) -> dict[str, str]:
        """Replica name -> its metrics address."""
        return {op.name: op.metrics for op in self.operators if op.name in REPLICAS}

    def run_operators(self) -> None:
        config = self.workdir / "operators.yaml"
        config.write_text(yaml.safe_dump(CONFIG))
        self.operators = [manager(self.workdir, self.server, r, config) for r in REPLICAS] + [
            agent(self.workdir, self.server, node, config) for node in NODES
        ]
        for operator in self.operators:
            operator.start()

    def run_actors(self, *, seed: int) -> Actors:
        self.actors = Actors(
            kubelet=RecordingKubelet(
                self.hold, self.client, nodes=NODES, namespaces=(RESTARTS, IO),
                rate=1.5, spacing=3.0, seed=seed,
            ),
            io=IOTree(self.hold, self.client, self.workdir / "cgroup", NODES),
            claimer=Claimer(self.hold, self.client, POOL_NAMESPACE, POOL, seed=seed),
            history=RecordHistory(self.hold, self.client, (RESTARTS, IO)),
        )  # fmt: skip
        self.actors.begin()
        return self.actors

    def stop(self) -> None:
        if self.actors is not None:
            self.actors.end()
        for operator in self.operators:
            if operator.alive():
                assert operator.process is not None
                operator.process.kill()
                operator.process.wait(10)
        self.server.stop()
