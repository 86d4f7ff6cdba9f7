"""``kreconcile dev``'s wiring: an agent per simulated node on a mimic cgroup tree."""

from __future__ import annotations

import threading
from pathlib import Path

from controllers.inprocess import InProcessManagers
from controllers.iolimit.agent.cgroups import find_container_cgroup
from controllers.iolimit.agent.mimic import IO_ANNOTATION
from controllers.operators import load_operators
from reconcile.client import Client, RestConfig
from reconcile.envtest.kubelet import SimulatedKubelet
from tests.integration.controllers.iolimit.harness import (
    OPERATORS,
    POD,
    create_namespace,
    create_policy,
    install,
    node_report,
    policy_status,
    write_config,
)
from tests.waiting import wait_for


def test_dev_throttles_a_simulated_writer_on_its_node(
    client: Client, rest_config: RestConfig, tmp_path: Path
) -> None:
    install(client)
    config = write_config(
        tmp_path / "operators.yaml", samplingInterval=0.2, reportInterval=5, staleAfter=10
    )
    stop = threading.Event()
    kubelet = SimulatedKubelet(client, nodes=["node-1", "node-2"], resync=0.2)
    kubelet_thread = threading.Thread(target=kubelet.start, args=(stop,), daemon=True)
    managers = InProcessManagers(
        rest_config,
        load_operators(OPERATORS),
        nodes=["node-1", "node-2"],
        cgroup_dir=tmp_path / "cgroup",
        config_path=config,
    )
    kubelet_thread.start()
    managers.start(stop)
    try:
        create_namespace(client, "dev")
        create_policy(client, "writers", "dev", {"writeIOPS": 50})
        client.create(
            {
                "apiVersion": "v1",
                "kind": "Pod",
                "metadata": {
                    "name": "writer",
                    "namespace": "dev",
                    "annotations": {IO_ANNOTATION: "writeIOPS=200000"},
                },
                "spec": {"containers": [{"name": "app", "image": "busybox"}]},
            }
        )
        wait_for(
            lambda: policy_status(client, "writers").get("throttles"),
            timeout=30,
            what="the simulated writer throttled",
        )
        pod = client.get(POD, "writer", "dev")
        node = pod["spec"]["nodeName"]
        cid = pod["status"]["containerStatuses"][0]["containerID"]
        cgroup = find_container_cgroup(
            tmp_path / "cgroup" / node, pod["metadata"]["uid"], "BestEffort", cid
        )
        assert cgroup is not None, "the mimic made the container's cgroup"
        wait_for(
            lambda: "wiops=50" in (cgroup / "io.max").read_text(),
            timeout=20,
            what="the agent of the pod's node to write io.max",
        )
        wait_for(
            lambda: node_report(client, "writers", node).get("applied"),
            timeout=20,
            what="the node report",
        )
        assert node_report(client, "writers", node)["cgroupVersion"] == "v2"
    finally:
        stop.set()
        assert managers.join(35) == []
        kubelet_thread.join(10)
