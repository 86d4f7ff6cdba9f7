"""IOLimitPolicy: throttle the disk IO of selected containers, durably.

The replaced service kept its throttle decisions in pod annotations and its IO history in
memory, so a restart could drop a throttle or apply one twice. Here:

- the node agent (``agent``, run by ``kreconcile agent`` on every node) samples each
  selected container's cgroup counters, keeps its 15/30/60-minute windows, proposes
  throttles and releases in its node's entry of the policy status, and writes the limits
  decided there into the containers' cgroups (re-applying them first thing after a restart,
  and to the new cgroup of a recreated container);
- the central controller (``reconciler``, leader-elected in ``kreconcile run``) decides:
  it turns proposals into throttles (``status.throttles``), releases them on recovery or
  when their pod goes, imports the old service's annotations once, and keeps the Ready,
  Throttling and Degraded conditions;

so every decision lives in the IOLimitPolicy's status and survives any restart.

Semantics are in ``rules`` (thresholds, severity, recovery) and ``selection`` (which pods);
the controller's decisions are the pure ``status.next_status``; configuration is the
``iolimit:`` section of the operators' file (``options``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from controllers.iolimit.agent import setup_agent
from controllers.iolimit.metrics import ThrottleCollector
from controllers.iolimit.options import IOLimitConfig, parse_config
from controllers.iolimit.reconciler import (
    NODE,
    POD,
    IOLimitPolicyReconciler,
    node_is_ready,
    pod_signature,
)
from crds import IOLimitPolicy
from reconcile.builder import ControllerBuilder
from reconcile.handler import EnqueueRequestsFromMapFunc
from reconcile.predicate import Funcs

if TYPE_CHECKING:
    from controllers.operators import OperatorOptions
    from reconcile.manager import Manager

__all__ = ["IOLimitConfig", "parse_config", "setup", "setup_agent"]

COMPONENT = "iolimitpolicy-controller"
"""The Events' source component."""


def setup(manager: Manager, options: OperatorOptions) -> IOLimitPolicyReconciler:
    """Add the IOLimitPolicy controller and the throttle metric to ``manager``."""
    section = options.config
    reconciler = IOLimitPolicyReconciler(
        cache=manager.cache,
        api_reader=manager.api_reader,
        client=manager.client,
        recorder=manager.get_event_recorder(COMPONENT),
        config=lambda: section.current,
        watch_namespaces=options.watch_namespaces,
    )
    pod_changed = Funcs(update_fn=lambda old, new: pod_signature(old) != pod_signature(new))
    node_changed = Funcs(update_fn=lambda old, new: node_is_ready(old) != node_is_ready(new))
    ControllerBuilder(manager).for_(IOLimitPolicy).watches(
        POD, EnqueueRequestsFromMapFunc(reconciler.policies_for_pod), pod_changed
    ).watches(NODE, EnqueueRequestsFromMapFunc(reconciler.all_policies), node_changed).complete(
        reconciler
    )
    manager.registry.register(ThrottleCollector(reconciler.cached_policies))
    if manager.serves_webhooks:
        from controllers.iolimit.webhook import setup_webhook

        setup_webhook(manager)
    return reconciler
