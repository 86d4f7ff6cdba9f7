"""``ControllerBuilder``: declare what a controller watches, then ``complete(reconciler)``.

``for_(K)`` means ``watches(K, EnqueueRequestForObject())``; ``owns(K)`` means
``watches(K, EnqueueRequestForOwner(<the for_ kind>, only_controller=True))`` (every owner
reference of that kind with ``match_every_owner=True``). ``only_metadata=True`` on any of
them, or ``watches_metadata(K, handler)``, watches ``PartialObjectMetadata(K)``: the cache
keeps only metadata of those objects. Event filters from ``with_event_filter`` apply to
every watch. Options start from the manager's ``ControllerDefaults`` (including
``group_kind_concurrency`` for the for_ kind); ``with_options`` fields win over them.
Misuse is reported by ``build``/``complete`` with what to change, never halfway through
starting.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any, Protocol

from prometheus_client import CollectorRegistry

from reconcile.controller import Controller, ControllerDefaults, ControllerOptions
from reconcile.gvk import KindLike, PartialObjectMetadata, gvk_of
from reconcile.handler import EnqueueRequestForObject, EnqueueRequestForOwner, EventHandler
from reconcile.log import LogConstructor
from reconcile.manager.runnables import Runnable
from reconcile.predicate import Predicate
from reconcile.reconciler import AsyncReconciler, Reconciler
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
        self._owns: list[tuple[KindLike, tuple[Predicate, ...], bool]] = []
        self._watches: list[
            tuple[KindLike | Source, EventHandler | None, tuple[Predicate, ...]]
        ] = []
        self._filters: list[Predicate] = []
        self._options: ControllerOptions | None = None
        self._overrides: dict[str, Any] = {}
        self._errors: list[str] = []

    def named(self, name: str) -> ControllerBuilder:
        """The controller's name (metrics, logs); defaults to the for_ kind, lowercased."""
        self._name = name
        return self

    def for_(
        self, kind: KindLike, *predicates: Predicate, only_metadata: bool = False
    ) -> ControllerBuilder:
        """The kind this controller reconciles; events on it enqueue the object itself."""
        if self._for is not None:
            self._errors.append("for_() was called twice: a controller reconciles one kind")
        self._for = (_metadata(kind) if only_metadata else kind, predicates)
        return self

    def owns(
        self,
        kind: KindLike,
        *predicates: Predicate,
        only_metadata: bool = False,
        match_every_owner: bool = False,
    ) -> ControllerBuilder:
        """Objects of ``kind`` whose controller owner is a for_ object re-trigger the owner;
        with ``match_every_owner``, every owner reference to a for_ object does (not only
        the one with ``controller: true``)."""
        self._owns.append(
            (_metadata(kind) if only_metadata else kind, predicates, match_every_owner)
        )
        return self

    def watches(
        self,
        source: KindLike | Source,
        handler: EventHandler | None = None,
        *predicates: Predicate,
        only_metadata: bool = False,
    ) -> ControllerBuilder:
        """Any other kind or Source, mapped to requests by ``handler`` (for instance
        ``EnqueueRequestsFromMapFunc``: a Secret to the objects that reference it)."""
        if only_metadata:
            if _is_source(source):
                self._errors.append(
                    f"watches({source!r}, only_metadata=True): only kinds can be watched as "
                    "metadata; a Source delivers whatever it delivers"
                )
            else:
                source = _metadata(source)  # type: ignore[arg-type]
        self._watches.append((source, handler, predicates))
        return self

    def watches_metadata(
        self, kind: KindLike, handler: EventHandler, *predicates: Predicate
    ) -> ControllerBuilder:
        """``watches(kind, handler, only_metadata=True)``: handlers get PartialObjectMetadata."""
        return self.watches(kind, handler, *predicates, only_metadata=True)

    def with_event_filter(self, predicate: Predicate) -> ControllerBuilder:
        """A predicate applied to every watched kind."""
        self._filters.append(predicate)
        return self

    def with_options(
        self, options: ControllerOptions | None = None, **overrides: Any
    ) -> ControllerBuilder:
        """Override fields (``with_options(max_concurrent_reconciles=4)``), or replace the
        options whole: a ``ControllerOptions`` given here ignores the manager's defaults."""
        if options is not None:
            self._options = options
        self._overrides.update(overrides)
        return self

    def with_log_constructor(self, constructor: LogConstructor) -> ControllerBuilder:
        """``with_options(log_constructor=constructor)``: the logger of each reconcile."""
        return self.with_options(log_constructor=constructor)

    def _resolved_options(self) -> ControllerOptions:
        if self._options is not None:
            return replace(self._options, **self._overrides)
        defaults = getattr(self._manager, "controller_defaults", None) or ControllerDefaults()
        kind = gvk_of(self._for[0]) if self._for is not None else None
        try:
            return ControllerOptions(**{**defaults.for_kind(kind), **self._overrides})
        except TypeError as error:
            raise ValueError(f"invalid controller option: {error}") from error

    def build(self, reconciler: Reconciler | AsyncReconciler) -> Controller:
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
                Kind(cache, kind, EnqueueRequestForObject(), (*self._filters, *predicates))
            )
            for owned, owned_predicates, every_owner in self._owns:
                to_owner = EnqueueRequestForOwner(gvk, only_controller=not every_owner)
                sources.append(Kind(cache, owned, to_owner, (*self._filters, *owned_predicates)))
        for target, handler, predicates in self._watches:
            if _is_source(target):
                sources.append(self._filtered(target, predicates))  # type: ignore[arg-type]
                continue
            if handler is None:
                raise ValueError(
                    f"watches({target!r}) needs a handler, e.g. EnqueueRequestsFromMapFunc"
                )
            sources.append(Kind(cache, target, handler, (*self._filters, *predicates)))
        name = self._name or kind_name.lower()
        return Controller(
            name,
            reconciler,
            sources=sources,
            options=self._resolved_options(),
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

    def complete(self, reconciler: Reconciler | AsyncReconciler) -> Controller:
        """Build the controller and add it to the manager."""
        controller = self.build(reconciler)
        self._manager.add(controller)
        return controller


def _metadata(kind: KindLike) -> PartialObjectMetadata:
    return kind if isinstance(kind, PartialObjectMetadata) else PartialObjectMetadata(gvk_of(kind))


def _is_source(target: object) -> bool:
    return callable(getattr(target, "start", None)) and callable(
        getattr(target, "wait_for_sync", None)
    )
