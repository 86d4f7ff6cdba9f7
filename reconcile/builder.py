"""``ControllerBuilder``: declare what a controller watches, then ``complete(reconciler)``.

``for_(K)`` means ``watches(K, EnqueueRequestForObject())``; ``owns(K)`` means
``watches(K, EnqueueRequestForOwner(<the for_ kind>, only_controller=True))``. Event
filters from ``with_event_filter`` apply to every watch. Misuse is reported by
``build``/``complete`` with what to change, never halfway through starting.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any, Protocol

from prometheus_client import CollectorRegistry

from reconcile.controller import Controller, ControllerOptions
from reconcile.gvk import KindLike, gvk_of
from reconcile.handler import EnqueueRequestForObject, EnqueueRequestForOwner, EventHandler
from reconcile.manager.runnables import Runnable
from reconcile.predicate import Predicate
from reconcile.reconciler import Reconciler
from reconcile.source import InformerProvider, Kind, Source

__all__ = ["ControllerBuilder", "ControllerManager"]


class ControllerManager(Protocol):
    """What the builder needs from a manager: its cache, its registry and ``add``."""

    @property
    def cache(self) -> InformerProvider: ...

    @property
    def registry(self) -> CollectorRegistry: ...

    def add(self, runnable: Runnable) -> None: ...


class ControllerBuilder:
    """Builds a Controller and adds it to a manager.

    Usage::

        ControllerBuilder(mgr).for_(AgentPool).owns(POD).with_options(
            max_concurrent_reconciles=4).complete(AgentPoolReconciler(mgr))
    """

    def __init__(self, manager: ControllerManager) -> None:
        self._manager = manager
        self._name = ""
        self._for: tuple[KindLike, tuple[Predicate, ...]] | None = None
        self._owns: list[tuple[KindLike, tuple[Predicate, ...]]] = []
        self._watches: list[
            tuple[KindLike | Source, EventHandler | None, tuple[Predicate, ...]]
        ] = []
        self._filters: list[Predicate] = []
        self._options = ControllerOptions()
        self._errors: list[str] = []

    def named(self, name: str) -> ControllerBuilder:
        """The controller's name (metrics, logs); defaults to the for_ kind, lowercased."""
        self._name = name
        return self

    def for_(self, kind: KindLike, *predicates: Predicate) -> ControllerBuilder:
        """The kind this controller reconciles; events on it enqueue the object itself."""
        if self._for is not None:
            self._errors.append("for_() was called twice: a controller reconciles one kind")
        self._for = (kind, predicates)
        return self

    def owns(self, kind: KindLike, *predicates: Predicate) -> ControllerBuilder:
        """Objects of ``kind`` whose controller owner is a for_ object re-trigger the owner."""
        self._owns.append((kind, predicates))
        return self

    def watches(
        self, source: KindLike | Source, handler: EventHandler | None = None, *predicates: Predicate
    ) -> ControllerBuilder:
        """Any other kind or Source, mapped to requests by ``handler``."""
        self._watches.append((source, handler, predicates))
        return self

    def with_event_filter(self, predicate: Predicate) -> ControllerBuilder:
        """A predicate applied to every watched kind."""
        self._filters.append(predicate)
        return self

    def with_options(
        self, options: ControllerOptions | None = None, **overrides: Any
    ) -> ControllerBuilder:
        """Replace the options or override fields: ``with_options(max_concurrent_reconciles=4)``."""
        self._options = replace(options or self._options, **overrides)
        return self

    def build(self, reconciler: Reconciler) -> Controller:
        if self._for is None and not self._name:
            self._errors.append("call for_(kind) or named(name) before complete()")
        if self._owns and self._for is None:
            self._errors.append("owns() needs for_(): ownership is relative to the reconciled kind")
        if self._errors:
            raise ValueError("invalid controller: " + "; ".join(self._errors))
        cache = self._manager.cache
        sources: list[Source] = []
        kind_name = ""
        if self._for is not None:
            kind, predicates = self._for
            gvk = gvk_of(kind)
            kind_name = gvk.kind
            sources.append(
                Kind(cache, gvk, EnqueueRequestForObject(), (*self._filters, *predicates))
            )
            for owned, owned_predicates in self._owns:
                to_owner = EnqueueRequestForOwner(gvk, only_controller=True)
                sources.append(
                    Kind(cache, gvk_of(owned), to_owner, (*self._filters, *owned_predicates))
                )
        for target, handler, predicates in self._watches:
            if _is_source(target):
                sources.append(self._filtered(target, predicates))  # type: ignore[arg-type]
                continue
            if handler is None:
                raise ValueError(
                    f"watches({target!r}) needs a handler, e.g. EnqueueRequestsFromMapFunc"
                )
            sources.append(Kind(cache, gvk_of(target), handler, (*self._filters, *predicates)))  # type: ignore[arg-type]
        name = self._name or kind_name.lower()
        return Controller(
            name,
            reconciler,
            sources=sources,
            options=self._options,
            registry=self._manager.registry,
            kind=kind_name,
        )

    def _filtered(self, source: Source, predicates: tuple[Predicate, ...]) -> Source:
        """A raw source with the event filters and the watch's own predicates added."""
        wanted = (*self._filters, *predicates)
        if not wanted:
            return source
        add = getattr(source, "add_predicates", None)
        if not callable(add):
            raise ValueError(
                f"watches({source!r}) cannot apply event filters or predicates: the source has "
                "no add_predicates(); filter inside the source, or use Kind or Channel"
            )
        add(*wanted)
        return source

    def complete(self, reconciler: Reconciler) -> Controller:
        """Build the controller and add it to the manager."""
        controller = self.build(reconciler)
        self._manager.add(controller)
        return controller


def _is_source(target: object) -> bool:
    return callable(getattr(target, "start", None)) and callable(
        getattr(target, "wait_for_sync", None)
    )
