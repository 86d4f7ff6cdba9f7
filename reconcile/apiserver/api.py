"""The verbs: create, update, patch, delete, get and list, with kube-apiserver's rules.

``API`` owns the registry and the store and runs every verb on the server's event loop, so
each verb is atomic: read, check the resourceVersion, write. Request parsing and response
encoding live in ``rest.py``; lifecycle work that follows a write (garbage collection,
namespace termination, CRD establishment) lives in ``lifecycle.py`` and ``crds.py``.

Semantics kept from kube-apiserver:

- a write that changes nothing returns the stored object with its old resourceVersion;
- ``metadata.generation`` moves only when the object's intent changes: anything but
  metadata and, for kinds with a status subresource, status; kinds without a spec to
  observe (ConfigMaps, Secrets, Events, Pods in 1.32, ...) carry none;
- built-in kinds are decoded, defaulted and validated by ``strategy.py``, custom
  resources by their CRD's structural schema;
- a ``generateName`` that collides is retried with a new suffix;
- main-resource writes keep the stored status; ``/status`` writes change only status;
- custom resources must send ``metadata.resourceVersion`` on PUT (built-ins may omit it);
- deleting an object with finalizers only marks it (``deletionTimestamp``); it disappears
  when the last finalizer is removed.
"""

from __future__ import annotations

import copy
import secrets
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from reconcile.apiserver import cel, fieldmanager, immutable, strategy
from reconcile.apiserver import schema as structural
from reconcile.apiserver.registry import Registry
from reconcile.apiserver.resources import ResourceInfo
from reconcile.apiserver.status import (
    StatusError,
    already_exists,
    bad_request,
    conflict,
    forbidden,
    invalid,
    not_found,
)
from reconcile.apiserver.storage import Store, Stored
from reconcile.apiserver.validation import check_kind, check_name
from reconcile.timestamps import rfc3339

__all__ = ["API", "Stale", "WriteOptions"]

_NAME_ALPHABET = "bcdfghjklmnpqrstvwxz2456789"
"""kube's generateName alphabet: no vowels (no words), no easily confused characters."""


@dataclass(kw_only=True)
class WriteOptions:
    """Query parameters of a write request."""

    dry_run: bool = False
    field_validation: str = "Warn"
    field_manager: str = ""
    subresource: str = ""
    applied: bool = False
    """The object's managedFields were already computed by server-side apply."""
    patching: bool = False
    """The object is a patch's result: type errors are 422 on ``patch``, not 400."""
    warnings: list[str] = field(default_factory=list)


class Stale(Exception):
    """The stored object changed between preparing a write and committing it."""


def _spec_view(obj: dict[str, Any], *, has_status: bool) -> dict[str, Any]:
    skip = {"metadata", "status"} if has_status else {"metadata"}
    return {k: v for k, v in obj.items() if k not in skip}


def _has_status(info: ResourceInfo) -> bool:
    return info.status_subresource


def _comparable(obj: dict[str, Any]) -> dict[str, Any]:
    meta = {
        k: v for k, v in obj["metadata"].items() if k not in ("resourceVersion", "managedFields")
    }
    return {**obj, "metadata": meta}


_GENERATION_GROUPS = frozenset(
    {
        "apps",
        "batch",
        "autoscaling",
        "policy",
        "apiextensions.k8s.io",
        "admissionregistration.k8s.io",
    }
)
_GENERATION_RESOURCES = frozenset({("", "replicationcontrollers")})
_GENERATE_NAME_ATTEMPTS = 8
"""kube-apiserver retries a generated name that collides (RetryGenerateName) a few times."""


def _tracks_generation(info: ResourceInfo) -> bool:
    """Kinds whose strategies keep ``metadata.generation``: those with a spec to observe."""
    return (
        info.custom
        or info.group in _GENERATION_GROUPS
        or (info.group, info.resource) in _GENERATION_RESOURCES
    )


class API:
    """Verb implementations over one Registry and one Store."""

    def __init__(self, registry: Registry, store: Store) -> None:
        self.registry = registry
        self.store = store
        self.admission: dict[
            tuple[str, str], Callable[[dict[str, Any], dict[str, Any] | None], None]
        ] = {}
        self.admission_plugins: list[
            Callable[[ResourceInfo, dict[str, Any], dict[str, Any] | None], None]
        ] = []
        """Checks of every kind's creates and updates (e.g. owner reference permissions),
        after the kind's own ``admission`` hook."""

    # helpers

    @staticmethod
    def key(info: ResourceInfo) -> tuple[str, str]:
        """The store a resource lives in (``events.k8s.io`` Events share core/v1's)."""
        if (info.group, info.resource) == ("events.k8s.io", "events"):
            return ("", "events")
        return (info.group, info.resource)

    def get_stored(self, info: ResourceInfo, namespace: str, name: str) -> Stored:
        stored = self.store.get(self.key(info), namespace if info.namespaced else "", name)
        if stored is None:
            raise not_found(info, name)
        return stored

    def _check_namespace(self, info: ResourceInfo, namespace: str, name: str) -> None:
        if not info.namespaced:
            return
        ns = self.store.get(("", "namespaces"), "", namespace)
        if ns is None:
            raise StatusError(
                404,
                "NotFound",
                f'namespaces "{namespace}" not found',
                {"name": namespace, "kind": "namespaces"},
            )
        if ns.obj.get("metadata", {}).get("deletionTimestamp"):
            raise forbidden(
                info,
                name,
                f"unable to create new content in namespace {namespace} because it is being "
                "terminated",
                causes=[
                    {
                        "reason": "NamespaceTerminating",
                        "message": f"namespace {namespace} is being terminated",
                        "field": "metadata.namespace",
                    }
                ],
            )

    def _services(self) -> list[dict[str, Any]]:
        return [s.obj for s in self.store.list_objects(("", "services"))]

    def _structural(
        self,
        info: ResourceInfo,
        obj: dict[str, Any],
        name: str,
        options: WriteOptions,
        old: dict[str, Any] | None = None,
    ) -> None:
        """Prune unknown fields (honouring fieldValidation), default and validate.

        Built-in kinds follow their published schema and kube's strategies
        (``strategy.py``); custom resources their CRD's structural schema and CEL rules.
        """
        if not info.custom:
            if old is not None:
                immutable.carry_allocations(info.group, info.resource, old, obj)
            missing = strategy.prepare(
                info,
                obj,
                field_validation=options.field_validation,
                warnings=options.warnings,
                patching=options.patching,
                services=self._services,
            )
            strategy.validate(info, obj, old, missing)
            return
        if info.schema is None:
            return
        unknown = structural.prune(obj, info.schema)
        strategy.unknown_fields(info, unknown, options.field_validation, options.warnings)
        structural.apply_defaults(obj, info.schema)
        causes = structural.validate(obj, info.schema)
        if not causes and info.extra.get("cel"):
            causes = cel.validate(obj, info.schema, old=old)
        if causes:
            raise invalid(info, name, causes)

    def _admit(self, info: ResourceInfo, obj: dict[str, Any], old: dict[str, Any] | None) -> None:
        hook = self.admission.get(self.key(info))
        if hook is not None:
            hook(obj, old)
        for plugin in self.admission_plugins:
            plugin(info, obj, old)

    def _commit(
        self, info: ResourceInfo, obj: dict[str, Any], *, created: bool, dry_run: bool
    ) -> Stored:
        if dry_run:
            obj["metadata"].setdefault("resourceVersion", str(self.store.rv))
            return Stored.of(obj)
        return self.store.put(self.key(info), obj, created=created)

    # create

    def create(
        self, info: ResourceInfo, namespace: str, obj: dict[str, Any], options: WriteOptions
    ) -> Stored:
        check_kind(info, obj)
        meta = obj.get("metadata")
        if not isinstance(meta, dict):
            meta = obj["metadata"] = {}
        if not meta.get("name") and meta.get("generateName"):
            meta["name"] = self._generate_name(info, namespace, str(meta["generateName"]))
        name = str(meta.get("name") or "")
        if not name:
            raise invalid(
                info,
                "",
                [
                    {
                        "reason": "FieldValueRequired",
                        "message": "Required value: name or generateName is required",
                        "field": "metadata.name",
                    }
                ],
            )
        check_name(info, name)
        if info.namespaced:
            body_ns = meta.get("namespace")
            if body_ns and body_ns != namespace:
                raise bad_request(
                    "the namespace of the provided object does not match the namespace sent on "
                    "the request"
                )
            meta["namespace"] = namespace
            self._check_namespace(info, namespace, name)
        else:
            meta.pop("namespace", None)
        if self.store.get(self.key(info), namespace if info.namespaced else "", name) is not None:
            raise already_exists(info, name)
        for transient in (
            "resourceVersion",
            "deletionTimestamp",
            "deletionGracePeriodSeconds",
            "selfLink",
        ):
            meta.pop(transient, None)
        meta["uid"] = str(uuid.uuid4())
        meta["creationTimestamp"] = rfc3339()
        if _tracks_generation(info):
            meta["generation"] = 1
        else:
            meta.pop("generation", None)
        if info.status_subresource and info.custom:
            obj.pop("status", None)
        self._structural(info, obj, name, options)
        self._admit(info, obj, None)
        obj["apiVersion"] = info.api_version
        if not options.applied:
            obj["metadata"].pop("managedFields", None)
            fieldmanager.record_update(None, obj, options.field_manager or "unknown", info.schema)
        # After field tracking, as kube's create strategies: server-set fields have no manager.
        if not info.custom:
            strategy.create_status(info, obj)
        return self._commit(info, obj, created=True, dry_run=options.dry_run)

    def _generate_name(self, info: ResourceInfo, namespace: str, prefix: str) -> str:
        key = namespace if info.namespaced else ""
        for _ in range(_GENERATE_NAME_ATTEMPTS):
            suffix = "".join(secrets.choice(_NAME_ALPHABET) for _ in range(5))
            name = f"{prefix}{suffix}"
            if self.store.get(self.key(info), key, name) is None:
                return name
        return name  # still taken: the create fails with AlreadyExists, as kube's does

    # update

    def update(
        self,
        info: ResourceInfo,
        namespace: str,
        name: str,
        obj: dict[str, Any],
        options: WriteOptions,
        *,
        subresource: str = "",
        require_rv: bool | None = None,
        current: Stored | None = None,
    ) -> Stored:
        """``current`` is the stored object in ``info``'s version when the caller converted
        it (a conversion webhook); None reads it from the store."""
        check_kind(info, obj)
        current = current or self.get_stored(info, namespace, name)
        meta = obj.get("metadata")
        if not isinstance(meta, dict):
            meta = obj["metadata"] = {}
        body_name = meta.get("name")
        if body_name and body_name != name:
            raise bad_request(
                f"the name of the object ({body_name}) does not match the name on the URL ({name})"
            )
        rv = str(meta.get("resourceVersion") or "")
        needs_rv = info.custom if require_rv is None else require_rv
        if not rv and needs_rv:
            raise invalid(
                info,
                name,
                [
                    {
                        "reason": "FieldValueInvalid",
                        "message": "Invalid value: 0x0: must be specified for an update",
                        "field": "metadata.resourceVersion",
                    }
                ],
            )
        if rv and rv != current.obj["metadata"]["resourceVersion"]:
            raise conflict(info, name)
        new = self._merge_update(info, current.obj, obj, subresource)
        if options.applied and "managedFields" in obj["metadata"]:
            new["metadata"]["managedFields"] = obj["metadata"]["managedFields"]
        return self._write_update(info, current, new, options)

    def _merge_update(
        self, info: ResourceInfo, old: dict[str, Any], obj: dict[str, Any], subresource: str
    ) -> dict[str, Any]:
        if subresource == "status":
            new = copy.deepcopy(old)
            if "status" in obj:
                new["status"] = obj["status"]
            else:
                new.pop("status", None)
            return new
        new = copy.deepcopy(obj)
        meta = new["metadata"]
        old_meta = old["metadata"]
        for fixed in (
            "uid",
            "creationTimestamp",
            "deletionTimestamp",
            "deletionGracePeriodSeconds",
            "generation",
        ):
            if fixed in old_meta:
                meta[fixed] = old_meta[fixed]
            else:
                meta.pop(fixed, None)
        meta["name"] = old_meta["name"]
        if info.namespaced:
            meta["namespace"] = old_meta["namespace"]
        if info.status_subresource:
            if "status" in old:
                new["status"] = old["status"]
            else:
                new.pop("status", None)
        return new

    def _write_update(
        self, info: ResourceInfo, current: Stored, new: dict[str, Any], options: WriteOptions
    ) -> Stored:
        old = current.obj
        name = old["metadata"]["name"]
        if old["metadata"].get("deletionTimestamp"):
            added = set(new["metadata"].get("finalizers") or []) - set(
                old["metadata"].get("finalizers") or []
            )
            if added:
                raise invalid(
                    info,
                    name,
                    [
                        {
                            "reason": "FieldValueForbidden",
                            "message": "Forbidden: no new finalizers can be added if the "
                            f"object is being deleted, found new finalizers {sorted(added)}",
                            "field": "metadata.finalizers",
                        }
                    ],
                )
        self._structural(info, new, name, options, old)
        self._admit(info, new, old)
        new["apiVersion"] = info.api_version
        new["kind"] = info.kind
        has_status = _has_status(info)
        if "generation" in old["metadata"] and _spec_view(new, has_status=has_status) != _spec_view(
            old, has_status=has_status
        ):
            new["metadata"]["generation"] = int(old["metadata"].get("generation") or 1) + 1
        new["metadata"]["resourceVersion"] = old["metadata"]["resourceVersion"]
        ownership_changed = options.applied and new["metadata"].get("managedFields") != old[
            "metadata"
        ].get("managedFields")
        if _comparable(new) == _comparable(old) and not ownership_changed:
            return current
        if not options.applied:
            new["metadata"]["managedFields"] = old["metadata"].get("managedFields") or []
            fieldmanager.record_update(
                old,
                new,
                options.field_manager or "unknown",
                info.schema,
                subresource=options.subresource,
            )
        if new["metadata"].get("deletionTimestamp") and not new["metadata"].get("finalizers"):
            if options.dry_run:
                return Stored.of(new)
            self.store.put(self.key(info), new, created=False)
            removed = self.store.remove(self.key(info), new["metadata"].get("namespace", ""), name)
            assert removed is not None
            return removed
        return self._commit(info, new, created=False, dry_run=options.dry_run)

    # two-phase writes (asynchronous admission)

    def commit(self, info: ResourceInfo, obj: dict[str, Any], *, base_rv: int | None) -> Stored:
        """Store ``obj``, prepared by a dry-run ``create`` (``base_rv`` None) or ``update``
        of the object at revision ``base_rv``, after admission ran outside the event loop
        step that prepared it. Raises ``Stale`` when the object changed meanwhile (the
        caller prepares again, or answers 409 if the client named a resourceVersion)."""
        meta = obj["metadata"]
        name = meta["name"]
        namespace = meta.get("namespace", "") if info.namespaced else ""
        existing = self.store.get(self.key(info), namespace, name)
        if base_rv is None:
            if existing is not None:
                raise already_exists(info, name)
            self._check_namespace(info, namespace, name)
            return self.store.put(self.key(info), obj, created=True)
        if existing is None:
            raise not_found(info, name)
        if existing.rv != base_rv:
            raise Stale(name)
        stored = self.store.put(self.key(info), obj, created=False)
        if meta.get("deletionTimestamp") and not meta.get("finalizers"):
            removed = self.store.remove(self.key(info), namespace, name)
            assert removed is not None
            return removed
        return stored

    # delete

    def delete(
        self,
        info: ResourceInfo,
        namespace: str,
        name: str,
        *,
        propagation: str | None = None,
        preconditions: dict[str, Any] | None = None,
        dry_run: bool = False,
    ) -> tuple[Stored, bool]:
        """Delete or mark for deletion; returns the object and whether it is gone."""
        current = self.get_stored(info, namespace, name)
        meta = current.obj["metadata"]
        for key, actual in (
            ("uid", meta.get("uid")),
            ("resourceVersion", meta.get("resourceVersion")),
        ):
            wanted = (preconditions or {}).get(key)
            if wanted and wanted != actual:
                label = "UID" if key == "uid" else "ResourceVersion"
                raise conflict(
                    info,
                    name,
                    f"Precondition failed: {label} in precondition: {wanted}, "
                    f"{label} in object meta: {actual}",
                )
        finalizers = list(meta.get("finalizers") or [])
        if propagation == "Orphan" and "orphan" not in finalizers:
            finalizers.append("orphan")
        elif propagation == "Foreground" and "foregroundDeletion" not in finalizers:
            finalizers.append("foregroundDeletion")
        marks_only = bool(finalizers) or (info.group, info.resource) == ("", "namespaces")
        if marks_only:
            if meta.get("deletionTimestamp"):
                return current, False
            new = copy.deepcopy(current.obj)
            new["metadata"]["deletionTimestamp"] = rfc3339()
            new["metadata"]["deletionGracePeriodSeconds"] = 0
            if finalizers:
                new["metadata"]["finalizers"] = finalizers
            if (info.group, info.resource) == ("", "namespaces"):
                new.setdefault("status", {})["phase"] = "Terminating"
            return self._commit(info, new, created=False, dry_run=dry_run), False
        if dry_run:
            return current, True
        removed = self.store.remove(self.key(info), meta.get("namespace", ""), name)
        assert removed is not None
        return removed, True
