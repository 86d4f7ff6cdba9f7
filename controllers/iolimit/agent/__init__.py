"""The IOLimitPolicy node agent: the part of ``kreconcile agent`` that measures and enforces.

Modules, from the kernel up: ``cgroups`` (which hierarchy, where a container's cgroup is),
``devices`` (which disks back its storage), ``iostat`` (its cumulative counters),
``limiter`` (io.max / blkio.throttle.* writes), ``windows`` (15/30/60-minute averages from
counters), ``plan`` (what the node must enforce, from the cache), ``report`` (proposals and
the node's status entry), ``node`` (the reconciler and the sampler) and ``mimic`` (a
cgroupfs look-alike for ``kreconcile dev``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from controllers.iolimit.agent.node import POD, NodeAgent, Sampler
from controllers.iolimit.metrics import AgentMetrics, ContainerIOCollector
from crds import IOLimitPolicy
from reconcile.builder import ControllerBuilder
from reconcile.handler import EnqueueRequestsFromMapFunc
from reconcile.reconciler import Request
from reconcile.source import Channel

if TYPE_CHECKING:
    from controllers.operators import AgentOptions
    from reconcile.manager import Manager

__all__ = ["setup_agent"]


def setup_agent(manager: Manager, options: AgentOptions) -> NodeAgent:
    """Add the node agent's controller (keyed by the node) and its sampler to ``manager``."""
    section = options.config
    agent = NodeAgent(
        reader=manager.cache,
        status_writer=manager.client.status,
        node=options.node_name,
        cgroup_root=options.cgroup_root,
        config=lambda: section.current,
        metrics=AgentMetrics.for_registry(manager.registry),
    )
    node = [Request("", options.node_name)]
    to_node = EnqueueRequestsFromMapFunc(lambda _obj: node)
    samples = Channel(to_node)
    ControllerBuilder(manager).named("iolimit-agent").watches(POD, to_node).watches(
        IOLimitPolicy, to_node
    ).watches(samples).complete(agent)
    manager.add(
        Sampler(
            agent,
            trigger=lambda: samples.send({"metadata": {"name": options.node_name}}),
            interval=lambda: section.current.sampling_interval,
        )
    )
    manager.registry.register(ContainerIOCollector(agent.counters))
    return agent
