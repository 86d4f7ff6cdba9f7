"""The RestartRecord operator: durable container restart history, metrics that never reset,
and namespace restart inspection.

``setup(manager, options)`` wires, on the manager it is given:

- the pod controller (``reconciler.py``): one RestartRecord per restarted pod, counted by
  the pure ``status.py``, deleted a retention period after the pod is gone;
- the namespace inspection controller (``inspector.py`` over the pure ``inspection.py``);
- the metrics collector (``metrics.py``), registered on the manager's registry and reading
  the RestartRecord informer, which runs on every replica (leader or not) so all replicas
  export the same series;
- a subscription to the ``restarts:`` config section (``options.py``): every reconcile and
  scrape reads the settings in force, and a reload re-enqueues the namespaces so changed
  inspection targets apply at once.

The ``kubectl restarts`` plugin (``plugin.py``) reads the records this operator writes.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from controllers.restarts.options import RestartsOptions, parse_options

if TYPE_CHECKING:
    from controllers.operators import OperatorOptions
    from reconcile.manager import Manager

__all__ = ["COMPONENT", "parse_config", "setup"]

COMPONENT = "restarts"
"""The Events' source component and the operator's name."""


def parse_config(section: Mapping[str, Any]) -> RestartsOptions:
    """Validate the ``restarts:`` section of the config file (see ``options.py``)."""
    return parse_options(section)


def setup(manager: Manager, options: OperatorOptions) -> None:
    """Add the restarts operator's controllers and metrics to ``manager``."""
    # Imported here: the kubectl plugin and `kreconcile agent` import this package too,
    # and need none of the controllers.
    from controllers.restarts.filters import (
        InspectionRecordEvents,
        PodRestartEvents,
        RecordEvents,
    )
    from controllers.restarts.inspector import NAMESPACE, NamespaceInspector, Reinspect
    from controllers.restarts.metrics import RestartMetrics
    from controllers.restarts.reconciler import POD, RECORD, RestartRecordReconciler
    from controllers.restarts.workload import WorkloadResolver
    from reconcile.builder import ControllerBuilder
    from reconcile.handler import EnqueueRequestForObject, EnqueueRequestsFromMapFunc
    from reconcile.predicate import Funcs
    from reconcile.reconciler import Request
    from reconcile.source import Channel

    section = options.config

    def current() -> RestartsOptions:
        settings: RestartsOptions = section.current
        return settings

    namespaces = options.watch_namespaces
    records = manager.cache.get_informer(RECORD)
    manager.registry.register(
        RestartMetrics(records, event_metric=lambda: current().restart_event_metric)
    )
    pods = RestartRecordReconciler(
        cache=manager.cache,
        client=manager.client,
        api_reader=manager.api_reader,
        workloads=WorkloadResolver(manager.api_reader),
        options=current,
    )
    expiring = Channel(EnqueueRequestForObject())
    (
        ControllerBuilder(manager)
        .named("restartrecord")
        .for_(POD, PodRestartEvents(records.store, namespaces))
        .watches(RECORD, EnqueueRequestForObject(), RecordEvents(namespaces))
        .watches(expiring, None, RecordEvents(namespaces))
        .with_options(max_concurrent_reconciles=current().workers)
        .complete(pods)
    )

    def recheck_retention(_options: object) -> None:
        """A changed retention applies now to records whose pod is gone, not at the
        deletion time computed with the old one."""
        for record in records.store.items():
            if (record.get("status") or {}).get("podDeletedAt"):
                expiring.send(record)

    section.subscribe(recheck_retention)
    inspector = NamespaceInspector(
        cache=manager.cache,
        client=manager.client,
        api_reader=manager.api_reader,
        recorder=manager.get_event_recorder(COMPONENT),
        options=current,
        namespaces=namespaces,
    )
    reload = Channel(EnqueueRequestForObject())
    created_only = Funcs(update_fn=lambda old, new: False, delete_fn=lambda obj: False)

    def own_request(obj: dict[str, Any]) -> list[Request]:
        meta = obj["metadata"]
        return [Request(meta["namespace"], meta["name"])]

    (
        ControllerBuilder(manager)
        .named("restart-inspection")
        .watches(
            NAMESPACE, EnqueueRequestsFromMapFunc(inspector.requests_for_namespace), created_only
        )
        .watches(
            RECORD, EnqueueRequestsFromMapFunc(own_request), InspectionRecordEvents(namespaces)
        )
        .watches(reload)
        .complete(inspector)
    )
    section.subscribe(Reinspect(manager.cache, reload))
