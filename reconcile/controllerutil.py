"""Helpers every reconciler needs: finalizers, owner references, create-or-update.

``create_or_update(client, obj, mutate)`` reads the object (NotFound -> create), applies
``mutate`` to a copy and writes only if something changed, returning ``"unchanged"``,
``"created"`` or ``"updated"``, so reconcilers stay idempotent and quiet.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Literal

from reconcile._jsoncopy import deep_copy
from reconcile.client.interfaces import ObjectClient
from reconcile.client.patch import merge_from
from reconcile.errors import NotFound
from reconcile.gvk import GroupVersionKind

__all__ = [
    "AlreadyOwnedError",
    "OperationResult",
    "add_finalizer",
    "contains_finalizer",
    "create_or_patch",
    "create_or_update",
    "remove_finalizer",
    "set_controller_reference",
    "set_owner_reference",
]

OperationResult = Literal["unchanged", "created", "updated"]
Obj = dict[str, Any]


class AlreadyOwnedError(ValueError):
    """The object already has a different controller owner."""


def contains_finalizer(obj: Obj, finalizer: str) -> bool:
    return finalizer in (obj.get("metadata", {}).get("finalizers") or [])


def add_finalizer(obj: Obj, finalizer: str) -> bool:
    """Add ``finalizer``; return whether the object changed."""
    finalizers = obj.setdefault("metadata", {}).setdefault("finalizers", [])
    if finalizer in finalizers:
        return False
    finalizers.append(finalizer)
    return True


def remove_finalizer(obj: Obj, finalizer: str) -> bool:
    """Remove ``finalizer``; return whether the object changed."""
    finalizers = obj.get("metadata", {}).get("finalizers") or []
    if finalizer not in finalizers:
        return False
    obj["metadata"]["finalizers"] = [f for f in finalizers if f != finalizer]
    return True


def _reference(owner: Obj, *, controller: bool) -> dict[str, Any]:
    meta = owner["metadata"]
    if not meta.get("uid"):
        raise ValueError(f"owner {meta.get('name')!r} has no uid: read it from the server first")
    return {
        "apiVersion": owner["apiVersion"],
        "kind": owner["kind"],
        "name": meta["name"],
        "uid": meta["uid"],
        "controller": controller,
        "blockOwnerDeletion": True,
    }


def _check_scope(owner: Obj, obj: Obj) -> None:
    owner_ns = owner["metadata"].get("namespace")
    if owner_ns and owner_ns != obj.get("metadata", {}).get("namespace"):
        raise ValueError(
            "cross-namespace owner references are not allowed: the owner must be in the "
            "object's namespace or cluster-scoped"
        )


def set_owner_reference(owner: Obj, obj: Obj) -> None:
    """Add (or refresh) a non-controller owner reference to ``owner``."""
    _check_scope(owner, obj)
    refs = obj.setdefault("metadata", {}).setdefault("ownerReferences", [])
    reference = _reference(owner, controller=False)
    for index, ref in enumerate(refs):
        if ref.get("uid") == reference["uid"]:
            reference["controller"] = ref.get("controller", False)
            refs[index] = reference
            return
    refs.append(reference)


def set_controller_reference(owner: Obj, obj: Obj) -> None:
    """Make ``owner`` the controller of ``obj`` (garbage collection and owns() watches)."""
    _check_scope(owner, obj)
    refs = obj.setdefault("metadata", {}).setdefault("ownerReferences", [])
    reference = _reference(owner, controller=True)
    for index, ref in enumerate(refs):
        if ref.get("controller") and ref.get("uid") != reference["uid"]:
            raise AlreadyOwnedError(
                f"{obj['metadata'].get('name')!r} is already controlled by {ref.get('kind')} "
                f"{ref.get('name')!r}; an object has at most one controller"
            )
        if ref.get("uid") == reference["uid"]:
            refs[index] = reference
            return
    refs.append(reference)


def _read(client: ObjectClient, obj: Obj) -> Obj | None:
    meta = obj["metadata"]
    try:
        current: Obj = client.get(
            GroupVersionKind.of_object(obj), meta["name"], meta.get("namespace")
        )
    except NotFound:
        return None
    return current


def _read_or_create(
    client: ObjectClient, obj: Obj, mutate: Callable[[Obj], None]
) -> tuple[Obj, bool]:
    """(current, False) when ``obj`` exists; else create it mutated: (created, True)."""
    current = _read(client, obj)
    if current is not None:
        return current, False
    desired = deep_copy(obj)
    mutate(desired)
    return client.create(desired), True


def create_or_update(
    client: ObjectClient, obj: Obj, mutate: Callable[[Obj], None]
) -> tuple[OperationResult, Obj]:
    """Read ``obj``'s current state, apply ``mutate``, create or update as needed."""
    current, created = _read_or_create(client, obj, mutate)
    if created:
        return "created", current
    desired = deep_copy(current)
    mutate(desired)
    if desired == current:
        return "unchanged", current
    return "updated", client.update(desired)


def create_or_patch(
    client: ObjectClient, obj: Obj, mutate: Callable[[Obj], None]
) -> tuple[OperationResult, Obj]:
    """Like create_or_update, but writes a merge patch of only what ``mutate`` changed."""
    current, created = _read_or_create(client, obj, mutate)
    if created:
        return "created", current
    desired = deep_copy(current)
    mutate(desired)
    patch = merge_from(current, desired)
    if not patch:
        return "unchanged", current
    return "updated", client.patch(current, patch)
