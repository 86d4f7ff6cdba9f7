"""A manager process for leader-election tests: a leader-only runnable writes heartbeats.

    python -m tests.durability.leader_process KUBECONFIG IDENTITY LEASE RENEW RETRY

While leading it patches ConfigMap ``default/heartbeat`` every 50 ms with its identity, a
sequence number and the wall-clock time, so the test can see who writes, and when.
"""

from __future__ import annotations

import logging
import sys
import threading
import time

from reconcile.client import RestConfig
from reconcile.log import setup_logging
from reconcile.manager import Manager, ManagerOptions

HEARTBEAT = {
    "apiVersion": "v1",
    "kind": "ConfigMap",
    "metadata": {"name": "heartbeat", "namespace": "default"},
}


class Heartbeat:
    def __init__(self, manager: Manager, identity: str) -> None:
        self.client = manager.api_reader
        self.identity = identity

    def start(self, stop: threading.Event) -> None:
        seq = 0
        while not stop.wait(0.05):
            seq += 1
            data = {"holder": self.identity, "seq": str(seq), "at": repr(time.time())}
            try:
                self.client.patch(HEARTBEAT, {"data": data})
            except Exception as error:  # the test controls the API server; keep beating
                logging.getLogger("heartbeat").warning(
                    "heartbeat failed", extra={"error": str(error)}
                )


def main() -> int:
    kubeconfig, identity, lease, renew, retry = sys.argv[1:6]
    setup_logging()
    options = ManagerOptions(
        metrics_bind_address="0",
        health_probe_bind_address="0",
        leader_election=True,
        leader_election_id="durability-test",
        leader_election_namespace="default",
        identity=identity,
        lease_duration=float(lease),
        renew_deadline=float(renew),
        retry_period=float(retry),
        graceful_shutdown_timeout=5.0,
    )
    manager = Manager(RestConfig.from_kubeconfig(kubeconfig), options)
    manager.add(Heartbeat(manager, identity))
    code = manager.run()
    print(f"EXIT {identity} {time.time()!r} {code}", flush=True)
    return code


if __name__ == "__main__":
    sys.exit(main())
