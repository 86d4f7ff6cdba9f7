"""The RestartRecord operator: durable container restart history, metrics that never reset,
and namespace restart inspection.

``setup(manager, options)`` wires, on the manager it is given:

- the pod controller (``reconciler.py``): one RestartRecord per restarted pod, counted by
  the pure ``status.py``, deleted a retention period after the pod is gone;
- the namespace inspection controller (``inspector.py`` over the pure ``inspection.py``);
- the metrics collector (``metrics.py``), registered on the manager's registry and reading
  the RestartRecord informer, which runs on every replica (leader or not) so all replicas
  export the same series;
- the ``restarts:`` config section (``options.py``): every reconcile and scrape reads the
  settings in force, and a reload re-enqueues what waits on a timer (``reload.py``).

The ``kubectl restarts`` plugin (``plugin.py``) reads the records this operator writes.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

from controllers.restarts.filters import InspectionRecordEvents, PodRestartEvents, RecordEvents
from controllers.restarts.inspector import NAMESPACE, NamespaceInspector
from controllers.restarts.metrics import RestartMetrics
from controllers.restarts.options import RestartsOptions, parse_options
from controllers.restarts.reconciler import POD, RECORD, RestartRecordReconciler
from controllers.restarts.reload import Leading, RecheckRetention, Reinspect
from controllers.restarts.workload import WorkloadResolver
from reconcile.builder import ControllerBuilder
from reconcile.handler import EnqueueRequestForObject, EnqueueRequestsFromMapFunc
from reconcile.predicate import Funcs
from reconcile.reconciler import Request
from reconcile.source import Channel

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
    section = options.config

    def current() -> RestartsOptions:
        settings: RestartsOptions = section.current
        return settings

    records = manager.cache.get_informer(RECORD)  # on every replica: metrics read it
    manager.registry.register(
        RestartMetrics(records, event_metric=lambda: current().restart_event_metric)
    )
    leading = Leading()
    manager.add(leading)
    _pod_controller(manager, options, current, leading)
    _inspection_controller(manager, options, current, leading)


def _pod_controller(
    manager: Manager,
    options: OperatorOptions,
    current: Callable[[], RestartsOptions],
    leading: Leading,
) -> None:
    """Pods (and their records) -> one RestartRecord per restarted pod."""
    namespaces = options.watch_namespaces
    records = manager.cache.get_informer(RECORD)
    reconciler = RestartRecordReconciler(
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
        .complete(reconciler)
    )
    options.config.subscribe(RecheckRetention(records.store, expiring, leading))


def _inspection_controller(
    manager: Manager,
    options: OperatorOptions,
    current: Callable[[], RestartsOptions],
    leading: Leading,
) -> None:
    """Namespaces and inspection records -> one inspection per inspected namespace."""
    namespaces = options.watch_namespaces
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
    options.config.subscribe(Reinspect(manager.cache, reload, leading))
