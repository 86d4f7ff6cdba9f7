"""PATCH requests: the three patch formats and server-side apply.

A patch is applied to the stored object (or its Scale view) and the result goes through
the same update path as a PUT, so validation, defaulting and field ownership are the
update's. Server-side apply merges the applied configuration as ``fieldManager`` with
``fieldmanager.apply`` and creates the object when it does not exist yet.
"""

from __future__ import annotations

import json
from typing import Any

import yaml
from aiohttp import web

from reconcile.apiserver import fieldmanager
from reconcile.apiserver.api import API, WriteOptions
from reconcile.apiserver.conversion import from_storage, to_storage
from reconcile.apiserver.patch import APPLY_PATCH, STRATEGIC_MERGE_PATCH, PatchError, apply_patch
from reconcile.apiserver.request import flag, json_response
from reconcile.apiserver.resources import ResourceInfo
from reconcile.apiserver.scale import to_scale, update_scale
from reconcile.apiserver.status import StatusError, bad_request

__all__ = ["applied_body", "patch_type", "patched", "serve_patch", "server_side_apply"]

_UNSUPPORTED_STRATEGIC = (
    "the body of the request was in an unknown format - accepted media types include: "
    "application/json-patch+json, application/merge-patch+json, application/apply-patch+yaml"
)


def patch_type(request: web.Request) -> str:
    """The request's patch format (its media type)."""
    return (request.content_type or "").split(";")[0].strip()


def patched(kind: str, info: ResourceInfo, original: dict[str, Any], raw: bytes) -> dict[str, Any]:
    """``original`` with the patch applied; the Status kube-apiserver answers when it fails."""
    if kind == STRATEGIC_MERGE_PATCH and info.custom:
        raise StatusError(415, "UnsupportedMediaType", _UNSUPPORTED_STRATEGIC)
    try:
        return apply_patch(kind, original, raw)
    except PatchError as error:
        reason = {400: "BadRequest", 415: "UnsupportedMediaType"}.get(error.code, "Invalid")
        raise StatusError(error.code, reason, error.message) from error


def serve_patch(
    api: API,
    request: web.Request,
    info: ResourceInfo,
    namespace: str,
    name: str,
    raw: bytes,
    options: WriteOptions,
) -> web.Response:
    kind = patch_type(request)
    if kind == APPLY_PATCH:
        return _apply(api, request, info, namespace, name, raw, options)
    current = api.get_stored(info, namespace, name)
    scale = options.subresource == "scale"
    view = from_storage(info, current.obj)
    patched_view = patched(kind, info, to_scale(info, view) if scale else view, raw)
    if scale:
        return json_response(update_scale(api, info, namespace, name, patched_view, options))
    patched_view.setdefault("metadata", {})
    if not patched_view["metadata"].get("resourceVersion"):
        patched_view["metadata"]["resourceVersion"] = current.obj["metadata"]["resourceVersion"]
    options.patching = True
    stored = api.update(
        info,
        namespace,
        name,
        to_storage(info, patched_view),
        options,
        subresource=options.subresource,
        require_rv=False,
    )
    return json_response(from_storage(info, stored.obj), 200, options.warnings)


def applied_body(
    request: web.Request, info: ResourceInfo, namespace: str, name: str, raw: bytes
) -> dict[str, Any]:
    """The applied configuration of a server-side apply, named by the URL."""
    if not request.query.get("fieldManager"):
        raise bad_request("PATCH, fieldManager is required for apply requests")
    try:
        applied = yaml.safe_load(raw)
    except yaml.YAMLError as exc:
        raise bad_request(f"error decoding YAML: {exc}") from exc
    if not isinstance(applied, dict):
        raise bad_request("the applied configuration must be an object")
    applied.setdefault("metadata", {}).setdefault("name", name)
    if info.namespaced:
        applied["metadata"].setdefault("namespace", namespace)
    return applied


def server_side_apply(
    request: web.Request,
    info: ResourceInfo,
    live: dict[str, Any] | None,
    applied: dict[str, Any],
    options: WriteOptions,
) -> dict[str, Any]:
    """The object after merging ``applied`` into ``live`` as ``fieldManager`` (409 on a
    conflict); marks ``options`` as an apply, whose managedFields are already computed."""
    if live is not None and options.subresource == "status":
        keep = ("apiVersion", "kind", "metadata", "status")
        applied = {k: v for k, v in applied.items() if k in keep}
    try:
        result = fieldmanager.apply(
            live,
            applied,
            manager=options.field_manager,
            force=flag(request.query, "force"),
            schema=info.schema,
        )
    except fieldmanager.ApplyConflict as conflict:
        raise StatusError(409, "Conflict", conflict.message) from conflict
    options.applied = True
    options.patching = True
    return result


def _apply(
    api: API,
    request: web.Request,
    info: ResourceInfo,
    namespace: str,
    name: str,
    raw: bytes,
    options: WriteOptions,
) -> web.Response:
    """Server-side apply: merge the applied configuration as ``fieldManager``."""
    applied = applied_body(request, info, namespace, name, raw)
    stored = api.store.get(api.key(info), namespace if info.namespaced else "", name)
    live = None if stored is None else json.loads(stored.raw)
    result = server_side_apply(request, info, live, applied, options)
    if stored is None:
        created = api.create(info, namespace, result, options)
        return json_response(created.raw, 201, options.warnings)
    requested_rv = (applied.get("metadata") or {}).get("resourceVersion")
    result["metadata"]["resourceVersion"] = (
        requested_rv or stored.obj["metadata"]["resourceVersion"]
    )
    updated = api.update(
        info,
        namespace,
        name,
        result,
        options,
        subresource=options.subresource,
        require_rv=False,
    )
    return json_response(updated.raw, 200, options.warnings)
