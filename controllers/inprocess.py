"""The manager and one node agent per simulated node, run in one process (``kreconcile dev``).

They are built by the same functions as ``kreconcile run`` and ``kreconcile agent``
(``build_manager``, ``build_agent``), so dev runs exactly the controllers a cluster runs.
Differences, all because everything shares one process and one machine: no leader election
(a single manager), metrics and probe servers off unless asked for (their ports would clash),
and each agent's cgroup root is a directory of its own under the dev state directory, which
a ``CgroupMimic`` keeps looking like the node's cgroup v2 filesystem (a directory per
running container, as a container runtime would create them).

The CRDs are installed first by server-side apply from the API types, so the operators'
informers find their kinds however old the dev state directory is.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from controllers.agent import AgentRunOptions, build_agent
from controllers.iolimit.agent.mimic import CgroupMimic
from controllers.operators import Operator
from controllers.run import RunOptions, build_manager
from crds import DEFINITIONS
from reconcile.client import Client, RestConfig
from reconcile.gvk import GroupVersionKind
from reconcile.manager import Manager, ManagerOptions
from reconcile.webhook.options import WebhookServerOptions

__all__ = ["FIELD_MANAGER", "InProcessManagers", "install_crds"]

log = logging.getLogger(__name__)

FIELD_MANAGER = "kreconcile-dev"
POD = GroupVersionKind("", "v1", "Pod")


def install_crds(client: Client) -> list[str]:
    """Create or update every kreconcile.io CRD; return their names."""
    names = []
    for definition in DEFINITIONS:
        client.apply(definition.manifest(), field_manager=FIELD_MANAGER, force=True)
        names.append(definition.crd_name)
    return names


def _pods_of(agent: Manager) -> Callable[[], list[dict[str, Any]]]:
    """The pods in ``agent``'s cache: those of its node."""
    return lambda: list(agent.cache.list(POD, copy=False)["items"])


class InProcessManagers:
    """The manager plus one agent per node, each started on its own thread.

    Usage::

        managers = InProcessManagers(config, operators, nodes=["node-1"], cgroup_dir=cgroups)
        managers.start(stop)       # returns at once
        ...
        managers.join(timeout=35)  # after stop is set
    """

    def __init__(
        self,
        config: RestConfig,
        operators: Sequence[Operator],
        *,
        nodes: Sequence[str],
        cgroup_dir: Path,
        config_path: Path | None = None,
        metrics_bind_address: str = "0",
        webhook_cert_dir: Path | None = None,
        on_error: Callable[[str, BaseException], None] | None = None,
    ) -> None:
        """Builds every manager now: a bad config file raises ConfigError here. With
        ``webhook_cert_dir`` the manager serves the operators' webhooks on a free loopback
        port with the certificate found there."""
        self._on_error = on_error
        self._threads: list[threading.Thread] = []
        manager = build_manager(
            config,
            RunOptions(
                manager=ManagerOptions(
                    metrics_bind_address=metrics_bind_address,
                    health_probe_bind_address="0",
                    leader_election=False,
                    webhook_server=(
                        WebhookServerOptions(
                            host="127.0.0.1", port=0, cert_dir=str(webhook_cert_dir)
                        )
                        if webhook_cert_dir is not None
                        else None
                    ),
                ),
                config_path=config_path,
            ),
            operators,
        )
        self.managers: list[tuple[str, Manager]] = [("manager", manager)]
        for node in nodes:
            root = cgroup_dir / node
            root.mkdir(parents=True, exist_ok=True)
            agent = build_agent(
                config,
                AgentRunOptions(
                    node_name=node,
                    cgroup_root=root,
                    metrics_bind_address="0",
                    health_probe_bind_address="0",
                    config_path=config_path,
                ),
                operators,
            )
            agent.add(CgroupMimic(_pods_of(agent), root))
            self.managers.append((f"agent/{node}", agent))

    def start(self, stop: threading.Event) -> None:
        """Start every manager; each runs until ``stop`` is set."""
        for name, manager in self.managers:
            thread = threading.Thread(
                target=self._run, args=(name, manager, stop), name=name, daemon=True
            )
            thread.start()
            self._threads.append(thread)
            log.info("started in-process", extra={"component": name})

    def _run(self, name: str, manager: Manager, stop: threading.Event) -> None:
        try:
            manager.start(stop)
        except BaseException as error:
            log.error("in-process manager failed", extra={"component": name, "error": str(error)})
            if self._on_error is not None:
                self._on_error(name, error)

    def join(self, timeout: float) -> list[str]:
        """Wait for every manager to stop; return the names of those still running."""
        deadline = time.monotonic() + timeout
        stuck = []
        for thread in self._threads:
            thread.join(max(0.0, deadline - time.monotonic()))
            if thread.is_alive():
                stuck.append(thread.name)
        return stuck
