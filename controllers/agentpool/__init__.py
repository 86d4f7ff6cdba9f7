"""The AgentPool operator: agent pods offering task slots, a durable slot ledger, autoscaling.

The ledger of every pod's slots lives in the pool's status, so an operator restart changes
nothing in it, and scaling waits until the ledger matches the live pods (see
``reconciler.py``). Workloads claim, start and release slots with ``slots.py`` (library) or
``kreconcile slots`` (CLI); agents inside the pods may report their own slots the same way.

Modules: ``ledger`` (slot operations on raw status dicts), ``pods`` (pod template, names,
observed state), ``autoscaler`` (desired replicas, scale-down choice), ``status`` (pure:
observed state -> next status and actions), ``reconciler`` (I/O in a safe order), ``slots``
(the claim API), ``cli``, ``metrics``, ``options``, ``webhook`` (the validating webhook that
refuses spec changes stranding busy slots).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from controllers.agentpool.options import AgentPoolOptions, parse_config

if TYPE_CHECKING:
    from controllers.operators import OperatorOptions
    from reconcile.manager import Manager

__all__ = ["CONTROLLER_NAME", "parse_config", "setup"]

CONTROLLER_NAME = "agentpool"
"""The controller's name in metrics and logs, and the component of its Events."""


def setup(manager: Manager, options: OperatorOptions) -> None:
    """Add the AgentPool controller (``for_(AgentPool).owns(Pod)``) to ``manager``, and
    its validating webhook when the manager serves webhooks."""
    from controllers.agentpool.metrics import AgentPoolMetrics
    from controllers.agentpool.pods import POD
    from controllers.agentpool.reconciler import AgentPoolReconciler
    from crds import AgentPool
    from reconcile.builder import ControllerBuilder
    from reconcile.predicate import Funcs

    current = options.config.current
    config = current if isinstance(current, AgentPoolOptions) else AgentPoolOptions()
    reconciler = AgentPoolReconciler(
        client=manager.client,
        api_reader=manager.api_reader,
        recorder=manager.get_event_recorder(f"{CONTROLLER_NAME}-controller"),
        metrics=AgentPoolMetrics.for_registry(manager.registry),
        options=options.config,
    )
    builder = ControllerBuilder(manager).named(CONTROLLER_NAME).for_(AgentPool).owns(POD)
    if len(options.watch_namespaces) > 1:
        wanted = frozenset(options.watch_namespaces)
        builder.with_event_filter(
            Funcs(
                create_fn=lambda obj: obj["metadata"].get("namespace") in wanted,
                update_fn=lambda _old, new: new["metadata"].get("namespace") in wanted,
                delete_fn=lambda obj: obj["metadata"].get("namespace") in wanted,
                generic_fn=lambda obj: obj["metadata"].get("namespace") in wanted,
            )
        )
    builder.with_options(max_concurrent_reconciles=config.max_concurrent_reconciles)
    builder.complete(reconciler)
    if manager.serves_webhooks:
        from controllers.agentpool.webhook import setup_webhook

        setup_webhook(manager)
