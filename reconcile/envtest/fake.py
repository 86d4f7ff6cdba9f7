"""A fake client for unit tests: the embedded API server's storage and verbs, without HTTP.

controller-runtime's ``fake.NewClientBuilder().WithObjects(...).WithInterceptorFuncs(...)``.
Where that fake re-implements the API server's rules in an object tracker, this one calls
the embedded server's own verb layer (``reconcile.apiserver``'s ``API`` over its in-memory
``Store`` and ``Registry``), so resourceVersions, conflicts, generation, status
subresources, finalizers and deletion timestamps, validation of CRDs and server-side apply
behave exactly as on the server the integration tests use, and cannot drift from it. It
is thread-safe (one lock around the store) and starts no thread.

What it leaves out, as controller-runtime's fake does: no watches, no garbage collector
and no namespace controller (deleting an owner leaves its dependents; a deleted Namespace
stays Terminating). Namespaces are created on first use unless ``create_namespaces`` is off.

``Interceptors`` replace any verb, to test error paths: each function gets the fake itself
(to delegate) and the call's arguments::

    fake = FakeClient(
        objects=[pool],
        interceptors=Interceptors(
            update=lambda client, obj, **options: _raise(Conflict("stale")),
        ),
    )
"""

from __future__ import annotations

import copy
import json
import threading
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

import yaml

from reconcile.apiserver import crds as crd_registration
from reconcile.apiserver import fieldmanager
from reconcile.apiserver.api import API, WriteOptions
from reconcile.apiserver.patch import PatchError, apply_patch
from reconcile.apiserver.registry import Registry
from reconcile.apiserver.resources import ResourceInfo
from reconcile.apiserver.selectors import FieldSelector, LabelSelector
from reconcile.apiserver.status import StatusError
from reconcile.apiserver.storage import Store
from reconcile.client.client import FIELD_VALIDATIONS, label_selector_string
from reconcile.client.metadata import partial_list, to_partial
from reconcile.client.patch import APPLY_PATCH, MERGE_PATCH, STRATEGIC_MERGE_PATCH
from reconcile.client.restmapper import NoKindMatch, RESTMapping
from reconcile.client.warnings import WarningHandler, WarningLogger
from reconcile.errors import ApiError
from reconcile.gvk import GroupVersionKind, KindLike, gvk_of, is_metadata_only

__all__ = ["FakeClient", "Interceptors"]

Obj = dict[str, Any]


@dataclass(frozen=True, kw_only=True)
class Interceptors:
    """Replacements for verbs; None keeps the fake's own. Each takes the fake first."""

    get: Callable[..., Obj] | None = None
    """``get(client, kind, name, namespace)``"""
    list: Callable[..., Obj] | None = None
    """``list(client, kind, **options)``"""
    create: Callable[..., Obj] | None = None
    """``create(client, obj, **options)``"""
    update: Callable[..., Obj] | None = None
    """``update(client, obj, **options)`` (also status updates: ``subresource="status"``)"""
    patch: Callable[..., Obj] | None = None
    """``patch(client, obj, patch, **options)`` (also status patches and apply)"""
    delete: Callable[..., None] | None = None
    """``delete(client, obj, **options)``"""


def _api_error(error: StatusError) -> ApiError:
    return ApiError.from_status(error.body(), code=error.code)


class FakeClient:
    """An ObjectClient over an in-memory copy of the embedded API server's storage."""

    def __init__(
        self,
        *,
        objects: Iterable[Obj] = (),
        crds: Iterable[Obj] = (),
        interceptors: Interceptors | None = None,
        field_manager: str = "kreconcile",
        create_namespaces: bool = True,
        warnings: WarningHandler | None = None,
    ) -> None:
        """``crds`` are installed first, then ``objects`` are created (as they are given,
        status included)."""
        self._api = API(Registry(), Store(history=1))
        crd_registration.install(self._api)
        self._lock = threading.RLock()
        self.interceptors = interceptors or Interceptors()
        self.field_manager = field_manager
        self.create_namespaces = create_namespaces
        self.warnings: WarningHandler = warnings if warnings is not None else WarningLogger()
        self._ensure_namespace("default")
        for crd in crds:
            self._create(crd, {})
        for obj in objects:
            self._seed(obj)

    # plumbing

    def _info(self, gvk: GroupVersionKind) -> ResourceInfo:
        info = self._api.registry.by_kind(gvk.group, gvk.version, gvk.kind)
        if info is None:
            raise NoKindMatch(
                f'no matches for kind "{gvk.kind}" in version "{gvk.api_version}": pass its '
                "CustomResourceDefinition to FakeClient(crds=[...])"
            )
        return info

    def mapping(self, kind: KindLike) -> RESTMapping:
        info = self._info(gvk_of(kind))
        return RESTMapping(gvk_of(kind), info.resource, info.namespaced)

    def _call(self, fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        with self._lock:
            try:
                return fn(*args, **kwargs)
            except StatusError as error:
                raise _api_error(error) from None

    def _target(self, obj: Mapping[str, Any]) -> tuple[ResourceInfo, str, str]:
        info = self._info(GroupVersionKind.of_object(obj))
        meta = obj.get("metadata") or {}
        namespace = str(meta.get("namespace") or "") if info.namespaced else ""
        if info.namespaced and not namespace:
            raise ValueError(
                f"{info.kind} {meta.get('name')!r} is namespaced: set metadata.namespace"
            )
        return info, namespace, str(meta.get("name") or "")

    def _options(self, options: Mapping[str, Any], subresource: str = "") -> WriteOptions:
        validation = options.get("field_validation") or "Warn"
        if validation not in FIELD_VALIDATIONS:
            raise ValueError(f"field_validation must be one of {FIELD_VALIDATIONS}")
        return WriteOptions(
            dry_run=bool(options.get("dry_run")),
            field_validation=validation,
            field_manager=options.get("field_manager") or self.field_manager,
            subresource=subresource,
        )

    def _result(self, raw: bytes, options: WriteOptions) -> Obj:
        if options.warnings:
            self.warnings.handle(list(options.warnings))
        result: Obj = json.loads(raw)
        return result

    def _ensure_namespace(self, namespace: str) -> None:
        if not namespace or self._api.store.get(("", "namespaces"), "", namespace) is not None:
            return
        namespaces = self._info(GroupVersionKind("", "v1", "Namespace"))
        self._call(
            self._api.create, namespaces, "", {"metadata": {"name": namespace}}, WriteOptions()
        )

    def _seed(self, obj: Obj) -> None:
        created = self._create(copy.deepcopy(obj), {})
        if "status" in obj and self._info(GroupVersionKind.of_object(obj)).status_subresource:
            created["status"] = copy.deepcopy(obj["status"])
            self._update(created, {}, "status")

    # reads

    def get(self, kind: KindLike, name: str, namespace: str | None = None) -> Obj:
        if self.interceptors.get is not None:
            return self.interceptors.get(self, kind, name, namespace)
        info = self._info(gvk_of(kind))
        stored = self._call(
            self._api.get_stored, info, namespace or "" if info.namespaced else "", name
        )
        obj: Obj = json.loads(stored.raw)
        return to_partial(obj, gvk_of(kind)) if is_metadata_only(kind) else obj

    def list(
        self,
        kind: KindLike,
        *,
        namespace: str | None = None,
        label_selector: str | Mapping[str, str] | None = None,
        field_selector: str | None = None,
        limit: int | None = None,
        continue_token: str | None = None,
    ) -> Obj:
        """A List; ``limit`` pages it with an opaque ``continue`` token (the last key)."""
        if self.interceptors.list is not None:
            return self.interceptors.list(
                self,
                kind,
                namespace=namespace,
                label_selector=label_selector,
                field_selector=field_selector,
                limit=limit,
                continue_token=continue_token,
            )
        gvk = gvk_of(kind)
        info = self._info(gvk)
        with self._lock:
            try:
                labels = LabelSelector(label_selector_string(label_selector))
                fields = FieldSelector(field_selector, info)
            except StatusError as error:
                raise _api_error(error) from None
            stored = self._api.store.list_objects(
                self._api.key(info), namespace if info.namespaced else None
            )
            items = [
                json.loads(s.raw) for s in stored if labels.matches(s.obj) and fields.matches(s.obj)
            ]
            resource_version = str(self._api.store.rv)
        metadata: Obj = {"resourceVersion": resource_version}
        if continue_token:
            items = [o for o in items if _key(o) > continue_token]
        if limit and len(items) > limit:
            items = items[:limit]
            metadata["continue"] = _key(items[-1])
        body = {
            "apiVersion": gvk.api_version,
            "kind": f"{gvk.kind}List",
            "metadata": metadata,
            "items": items,
        }
        return partial_list(body, gvk) if is_metadata_only(kind) else body

    # writes

    def _create(self, obj: Obj, options: Mapping[str, Any]) -> Obj:
        info, namespace, _ = self._target(obj)
        if info.namespaced and self.create_namespaces:
            self._ensure_namespace(namespace)
        write = self._options(options)
        stored = self._call(self._api.create, info, namespace, copy.deepcopy(obj), write)
        return self._result(stored.raw, write)

    def create(self, obj: Obj, **options: Any) -> Obj:
        if self.interceptors.create is not None:
            return self.interceptors.create(self, obj, **options)
        return self._create(obj, options)

    def _update(self, obj: Obj, options: Mapping[str, Any], subresource: str = "") -> Obj:
        info, namespace, name = self._target(obj)
        write = self._options(options, subresource)
        stored = self._call(
            self._api.update,
            info,
            namespace,
            name,
            copy.deepcopy(obj),
            write,
            subresource=subresource,
        )
        return self._result(stored.raw, write)

    def update(self, obj: Obj, *, subresource: str = "", **options: Any) -> Obj:
        if self.interceptors.update is not None:
            return self.interceptors.update(self, obj, subresource=subresource, **options)
        return self._update(obj, options, subresource)

    def patch(
        self,
        obj: Obj,
        patch: Any,
        *,
        patch_type: str = MERGE_PATCH,
        subresource: str = "",
        force: bool | None = None,
        **options: Any,
    ) -> Obj:
        if self.interceptors.patch is not None:
            return self.interceptors.patch(
                self,
                obj,
                patch,
                patch_type=patch_type,
                subresource=subresource,
                force=force,
                **options,
            )
        if patch_type == APPLY_PATCH:
            return self._apply(patch, subresource, bool(force), options)
        info, namespace, name = self._target(obj)
        write = self._options(options, subresource)
        with self._lock:
            current = self._call(self._api.get_stored, info, namespace, name)
            if patch_type == STRATEGIC_MERGE_PATCH and info.custom:
                raise ApiError.from_status(
                    {"code": 415, "reason": "UnsupportedMediaType",
                     "message": "strategic merge patch is not supported for custom resources"}
                )  # fmt: skip
            try:
                patched = apply_patch(patch_type, current.obj, json.dumps(patch).encode())
            except PatchError as error:
                raise ApiError.from_status({"code": error.code, "message": error.message}) from None
            patched.setdefault("metadata", {}).setdefault(
                "resourceVersion", current.obj["metadata"]["resourceVersion"]
            )
            stored = self._call(
                self._api.update, info, namespace, name, patched, write,
                subresource=subresource, require_rv=False,
            )  # fmt: skip
        return self._result(stored.raw, write)

    def _apply(
        self, applied: Any, subresource: str, force: bool, options: Mapping[str, Any]
    ) -> Obj:
        applied = copy.deepcopy(
            yaml.safe_load(applied) if isinstance(applied, str | bytes) else applied
        )
        info, namespace, name = self._target(applied)
        write = self._options(options, subresource)
        write.applied = True
        with self._lock:
            stored = self._api.store.get(self._api.key(info), namespace, name)
            live = None if stored is None else json.loads(stored.raw)
            try:
                result = fieldmanager.apply(
                    live, applied, manager=write.field_manager, force=force, schema=info.schema
                )
            except fieldmanager.ApplyConflict as conflict:
                raise ApiError.from_status(
                    {"code": 409, "reason": "Conflict", "message": conflict.message}
                ) from None
            if stored is None:
                if info.namespaced and self.create_namespaces:
                    self._ensure_namespace(namespace)
                created = self._call(self._api.create, info, namespace, result, write)
                return self._result(created.raw, write)
            result["metadata"]["resourceVersion"] = (applied.get("metadata") or {}).get(
                "resourceVersion"
            ) or stored.obj["metadata"]["resourceVersion"]
            updated = self._call(
                self._api.update, info, namespace, name, result, write,
                subresource=subresource, require_rv=False,
            )  # fmt: skip
        return self._result(updated.raw, write)

    def apply(
        self, obj: Obj, *, field_manager: str | None = None, force: bool = False, **options: Any
    ) -> Obj:
        """Server-side apply ``obj`` as ``field_manager`` (default: the fake's)."""
        return self.patch(
            obj, obj, patch_type=APPLY_PATCH, field_manager=field_manager, force=force, **options
        )

    def delete(
        self,
        obj: Obj,
        *,
        propagation_policy: str | None = None,
        preconditions: Mapping[str, str] | None = None,
        grace_period_seconds: int | None = None,
        dry_run: bool | None = None,
    ) -> None:
        if self.interceptors.delete is not None:
            self.interceptors.delete(
                self, obj, propagation_policy=propagation_policy, preconditions=preconditions,
                grace_period_seconds=grace_period_seconds, dry_run=dry_run,
            )  # fmt: skip
            return
        info, namespace, name = self._target(obj)
        self._call(
            self._api.delete, info, namespace, name, propagation=propagation_policy,
            preconditions=dict(preconditions or {}), dry_run=bool(dry_run),
        )  # fmt: skip

    def delete_all_of(self, kind: KindLike, **options: Any) -> None:
        """Delete every object ``list(kind, **options)`` returns."""
        for item in self.list(kind, **options)["items"]:
            self.delete(item)

    def status(self) -> _FakeStatus:
        return _FakeStatus(self)


def _key(obj: Obj) -> str:
    meta = obj.get("metadata") or {}
    return f"{meta.get('namespace', '')}/{meta.get('name', '')}"


class _FakeStatus:
    def __init__(self, client: FakeClient) -> None:
        self._client = client

    def update(self, obj: Obj, **options: Any) -> Obj:
        return self._client.update(obj, subresource="status", **options)

    def patch(self, obj: Obj, patch: Any, **options: Any) -> Obj:
        return self._client.patch(obj, patch, subresource="status", **options)
