"""A registry of finalizers, run by one call per reconcile (controller-runtime's ``pkg/finalizer``).

A *finalizer key* (``"agentpool.kreconcile.io/release-slots"``) on an object makes the API
server keep the object, with ``deletionTimestamp`` set, until the key is removed: the
controller's chance to clean up what the object owns outside Kubernetes. A controller
that needs several cleanups registers one ``Finalizer`` per key and calls ``finalize`` in
every reconcile:

- object **not** being deleted: every registered key missing from
  ``metadata.finalizers`` is added (``result.updated``), so cleanup is guaranteed to run;
- object being deleted: for every registered key the object still carries, its
  finalizer's ``finalize(obj)`` runs; when it returns, the key is removed
  (``result.updated``); when it raises, the key stays (cleanup is retried on a later
  reconcile) and the error is collected. Keys of other controllers are left alone.

``finalize`` mutates the dict it is given and never writes: the caller writes what the
result says changed, then raises any collected errors (so the key is requeued with
backoff)::

    finalizers = Finalizers()
    finalizers.register("agentpool.kreconcile.io/release-slots", ReleaseSlots(client))

    def reconcile(self, request):
        pool = self.client.get(AGENT_POOL, request.name, request.namespace)
        result = finalizers.finalize(pool)
        if result.status_updated:     # first: the main-resource write ignores status
            written = self.client.status().update(pool)
            pool["metadata"]["resourceVersion"] = written["metadata"]["resourceVersion"]
        if result.updated:            # finalizer keys (and any metadata a finalizer set)
            self.client.update(pool)
        result.raise_errors()
        if pool["metadata"].get("deletionTimestamp"):
            return Result()           # being deleted: nothing else to do
        ...

A ``Finalizer`` must be idempotent (a crash between its cleanup and the write of the
removed key runs it again) and may change ``obj`` (status, annotations), reporting that
in the ``FinalizerResult`` it returns. Registration happens at setup, before the
controller runs; the registry is then read-only and safe to share between workers.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol

from reconcile.controllerutil import add_finalizer, contains_finalizer, remove_finalizer
from reconcile.errors import KreconcileError

__all__ = ["Finalizer", "FinalizerError", "FinalizerFunc", "FinalizerResult", "Finalizers"]

log = logging.getLogger(__name__)

Obj = dict[str, Any]


@dataclass(frozen=True, slots=True)
class FinalizerResult:
    """What a finalizer (or ``Finalizers.finalize``) changed on the object."""

    updated: bool = False
    """Metadata or spec changed (finalizer keys added or removed): write the object."""
    status_updated: bool = False
    """Status changed: write the status subresource."""
    errors: tuple[BaseException, ...] = ()
    """Failures of finalizers whose keys were therefore kept (only from ``finalize``)."""

    def raise_errors(self) -> None:
        """Raise a ``FinalizerError`` naming every failed finalizer, if any failed."""
        if self.errors:
            raise FinalizerError(self.errors)


class FinalizerError(KreconcileError):
    """One or more finalizers failed; their keys stay on the object and they run again."""

    def __init__(self, errors: tuple[BaseException, ...]) -> None:
        super().__init__(
            f"{len(errors)} finalizer(s) failed, their keys were kept: "
            + "; ".join(str(error) for error in errors)
        )
        self.errors = errors


class Finalizer(Protocol):
    """Cleans up for one finalizer key when its object is being deleted."""

    def finalize(self, obj: Obj) -> FinalizerResult:
        """Do the cleanup (idempotently); raise to keep the key and retry later."""
        ...


class FinalizerFunc:
    """Adapts a function to the Finalizer protocol; returning None means nothing changed."""

    def __init__(self, fn: Callable[[Obj], FinalizerResult | None]) -> None:
        self._fn = fn

    def finalize(self, obj: Obj) -> FinalizerResult:
        return self._fn(obj) or FinalizerResult()


class Finalizers:
    """Finalizers by key; ``finalize(obj)`` adds the keys or runs the due finalizers."""

    def __init__(self) -> None:
        self._finalizers: dict[str, Finalizer] = {}

    def register(self, key: str, finalizer: Finalizer) -> None:
        """Run ``finalizer`` for objects carrying ``key``. Keys should be domain-qualified
        (``example.com/cleanup``); registering a key twice is an error."""
        if not key or any(c.isspace() for c in key):
            raise ValueError(f"finalizer key must be a non-empty name without spaces, got {key!r}")
        if key in self._finalizers:
            raise ValueError(f"finalizer {key!r} is already registered; register each key once")
        self._finalizers[key] = finalizer

    def keys(self) -> list[str]:
        """The registered keys, in registration order."""
        return list(self._finalizers)

    def finalize(self, obj: Obj) -> FinalizerResult:
        """Add missing keys to a live object, or run the due finalizers of a deleted one.

        Mutates ``obj``; never writes it. See the module docstring for the calling pattern.
        """
        if not (obj.get("metadata") or {}).get("deletionTimestamp"):
            added = [key for key in self._finalizers if add_finalizer(obj, key)]
            return FinalizerResult(updated=bool(added))
        updated = status_updated = False
        errors: list[BaseException] = []
        for key, finalizer in self._finalizers.items():
            if not contains_finalizer(obj, key):
                continue
            try:
                result = finalizer.finalize(obj)
            except Exception as error:
                log.warning(
                    "finalizer failed, key kept", extra={"finalizer": key, "error": str(error)}
                )
                errors.append(error)
                continue
            updated = updated or result.updated
            status_updated = status_updated or result.status_updated
            updated = remove_finalizer(obj, key) or updated
        return FinalizerResult(updated=updated, status_updated=status_updated, errors=tuple(errors))
