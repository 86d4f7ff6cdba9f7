"""HTTP in and out: URL parsing, body decoding, query parameters and response encoding.

Every resource request goes through ``Rest.handle``: the URL is split into group, version,
namespace, resource, name and subresource the way kube-apiserver's request-info resolver
does; the verb is picked from the method (GET is get, list or watch); the body is JSON or
YAML; failures become metav1.Status bodies. Lists and gets reuse the stored JSON bytes.
"""

from __future__ import annotations

import base64
import json
from dataclasses import dataclass
from typing import Any

import yaml
from aiohttp import web

from reconcile.apiserver import fieldmanager, protobuf
from reconcile.apiserver.api import API, WriteOptions
from reconcile.apiserver.patch import APPLY_PATCH, STRATEGIC_MERGE_PATCH, PatchError, apply_patch
from reconcile.apiserver.resources import ResourceInfo
from reconcile.apiserver.scale import to_scale, with_replicas
from reconcile.apiserver.selectors import FieldSelector, LabelSelector
from reconcile.apiserver.status import StatusError, bad_request, expired, method_not_allowed
from reconcile.apiserver.storage import Stored, encode
from reconcile.apiserver.table import to_table
from reconcile.apiserver.watch import WatchRequest, default_timeout, serve_watch

__all__ = ["MAX_BODY", "Rest", "Target", "parse_path"]

MAX_BODY = 3 * 1024 * 1024
"""Bytes accepted in a request body (kube-apiserver's limit is 3 MiB)."""
MAX_OBJECT = 1536 * 1024
"""Bytes of one stored object (etcd's default request limit, 1.5 MiB)."""
_EXPIRED_CONTINUE = (
    "The provided continue parameter is too old to display a consistent list result. You can "
    "start a new list without the continue parameter, or use the continue token in this "
    "response to retrieve the remainder of the results. Continuing with the provided token "
    "results in an inconsistent list - objects that were created, modified, or deleted "
    "between the time the first chunk was returned and now may show up in the list."
)


@dataclass(frozen=True, slots=True)
class Target:
    """What a resource URL names."""

    group: str
    version: str
    resource: str
    namespace: str | None
    name: str
    subresource: str


def parse_path(parts: list[str]) -> Target | None:
    """``["api","v1","namespaces","ns","pods","p","status"]`` -> Target (None: not a resource)."""
    if parts[:1] == ["api"] and len(parts) >= 3:
        group, version, rest = "", parts[1], parts[2:]
    elif parts[:1] == ["apis"] and len(parts) >= 4:
        group, version, rest = parts[1], parts[2], parts[3:]
    else:
        return None
    if rest and rest[0] == "watch":
        rest = rest[1:]
    namespace: str | None = None
    if len(rest) >= 3 and rest[0] == "namespaces" and rest[2] not in ("status", "finalize"):
        namespace, rest = rest[1], rest[2:]
    if not rest or len(rest) > 3:
        return None
    name = rest[1] if len(rest) > 1 else ""
    subresource = rest[2] if len(rest) > 2 else ""
    return Target(group, version, rest[0], namespace, name, subresource)


def _json_response(body: Any, status: int = 200, warnings: list[str] | None = None) -> web.Response:
    raw = body if isinstance(body, bytes) else encode(body)
    response = web.Response(body=raw, status=status, content_type="application/json")
    for warning in warnings or []:
        escaped = warning.replace("\\", "\\\\").replace('"', '\\"')
        response.headers.add("Warning", f'299 - "{escaped}"')
    return response


def _wants_table(accept: str) -> bool:
    return "as=Table" in accept.replace(" ", "")


def _flag(query: Any, name: str) -> bool:
    return str(query.get(name, "")).lower() in ("true", "1")


class Rest:
    """Resource handlers bound to one API."""

    def __init__(self, api: API, *, bookmark_interval: float, min_request_timeout: float) -> None:
        self.api = api
        self.bookmark_interval = bookmark_interval
        self.min_request_timeout = min_request_timeout
        self.stalled = False

    async def handle(self, request: web.Request, target: Target) -> web.StreamResponse:
        info = self.api.registry.lookup(target.group, target.version, target.resource)
        if info is None:
            raise StatusError(404, "NotFound", "the server could not find the requested resource")
        if target.namespace is not None and not info.namespaced:
            raise StatusError(404, "NotFound", "the server could not find the requested resource")
        if target.subresource and target.subresource not in self._subresources(info):
            raise StatusError(404, "NotFound", "the server could not find the requested resource")
        method = request.method
        if method == "GET":
            if _flag(request.query, "watch") or "/watch/" in request.path:
                return await self._watch(request, info, target)
            if target.name:
                return self._get(request, info, target)
            return self._list(request, info, target)
        if method == "POST" and not target.name:
            return self._create(await self._body(request, info), request, info, target)
        if method == "PUT" and target.name:
            return self._update(await self._body(request, info), request, info, target)
        if method == "PATCH" and target.name:
            return self._patch(await self._raw(request), request, info, target)
        if method == "DELETE":
            options = await self._delete_options(request)
            if target.name:
                return self._delete(request, info, target, options)
            return self._delete_collection(request, info, target, options)
        raise method_not_allowed(f"{method} is not supported on {request.path}")

    @staticmethod
    def _subresources(info: ResourceInfo) -> set[str]:
        subs = {"status"} if info.status_subresource else set()
        if info.scale is not None:
            subs.add("scale")
        if (info.group, info.resource) == ("", "namespaces"):
            subs.add("finalize")
        return subs

    # decoding

    async def _raw(self, request: web.Request) -> bytes:
        raw = await request.read()
        if len(raw) > MAX_BODY:
            raise StatusError(
                413, "RequestEntityTooLarge", "Request entity too large: limit is 3145728"
            )
        return raw

    async def _body(self, request: web.Request, info: ResourceInfo) -> dict[str, Any]:
        raw = await self._raw(request)
        if len(raw) > MAX_OBJECT:
            raise StatusError(
                413, "RequestEntityTooLarge", "Request entity too large: limit is 3145728"
            )
        if "protobuf" in (request.content_type or ""):
            try:
                return protobuf.decode_object(raw)
            except protobuf.UnsupportedProtobuf as exc:
                raise StatusError(415, "UnsupportedMediaType", str(exc)) from exc
            except (IndexError, UnicodeDecodeError, KeyError) as exc:
                raise bad_request(f"malformed protobuf body: {exc}") from exc
        try:
            if "yaml" in (request.content_type or ""):
                body = yaml.safe_load(raw)
            else:
                body = json.loads(raw)
        except (ValueError, yaml.YAMLError) as exc:
            raise bad_request(
                f"Object 'Kind' is missing in '{raw[:200].decode(errors='replace')}': {exc}"
            ) from exc
        if not isinstance(body, dict):
            raise bad_request("the request body must be a JSON object")
        return body

    async def _delete_options(self, request: web.Request) -> dict[str, Any]:
        raw = await self._raw(request)
        options: dict[str, Any] = {}
        if raw.strip():
            try:
                parsed = json.loads(raw)
            except ValueError as exc:
                raise bad_request(f"invalid DeleteOptions: {exc}") from exc
            if isinstance(parsed, dict):
                options = parsed
        query = request.query
        if "propagationPolicy" in query:
            options["propagationPolicy"] = query["propagationPolicy"]
        if "orphanDependents" in query and "propagationPolicy" not in options:
            options["propagationPolicy"] = (
                "Orphan" if _flag(query, "orphanDependents") else "Background"
            )
        if query.get("dryRun") == "All":
            options["dryRun"] = ["All"]
        return options

    def _write_options(self, request: web.Request) -> WriteOptions:
        query = request.query
        validation = query.get("fieldValidation", "Warn")
        if validation not in ("Strict", "Warn", "Ignore"):
            raise bad_request(
                f'fieldValidation must be one of "Ignore", "Warn", or "Strict", got "{validation}"'
            )
        agent = request.headers.get("User-Agent", "unknown").split("/")[0]
        return WriteOptions(
            dry_run=query.get("dryRun") == "All",
            field_validation=validation,
            field_manager=query.get("fieldManager") or agent,
        )

    def _namespace(self, info: ResourceInfo, target: Target) -> str:
        if info.namespaced and target.namespace is None and target.name:
            raise StatusError(404, "NotFound", "the server could not find the requested resource")
        return target.namespace or ""

    # verbs

    def _get(self, request: web.Request, info: ResourceInfo, target: Target) -> web.Response:
        stored = self.api.get_stored(info, self._namespace(info, target), target.name)
        if target.subresource == "scale":
            return _json_response(to_scale(info, stored.obj))
        if _wants_table(request.headers.get("Accept", "")):
            include = request.query.get("includeObject", "Metadata")
            return _json_response(
                to_table(info, [self._versioned(info, stored.obj)], include_object=include)
            )
        return _json_response(self._versioned_raw(info, stored))

    def _versioned(self, info: ResourceInfo, obj: dict[str, Any]) -> dict[str, Any]:
        if obj.get("apiVersion") == info.api_version:
            return obj
        return {**obj, "apiVersion": info.api_version}

    def _versioned_raw(self, info: ResourceInfo, stored: Stored) -> bytes:
        if stored.obj.get("apiVersion") == info.api_version:
            return stored.raw
        return encode(self._versioned(info, stored.obj))

    def _list(self, request: web.Request, info: ResourceInfo, target: Target) -> web.Response:
        query = request.query
        labels = LabelSelector(query.get("labelSelector"))
        fields = FieldSelector(query.get("fieldSelector"), info)
        rv = query.get("resourceVersion", "")
        if (
            rv not in ("", "0")
            and query.get("resourceVersionMatch") == "Exact"
            and int(rv) != self.api.store.rv
        ):
            raise expired(f"too old resource version: {rv} ({self.api.store.compacted_rv + 1})")
        items = [
            s
            for s in self.api.store.list_objects(self.api.key(info), target.namespace)
            if labels.matches(s.obj) and fields.matches(s.obj)
        ]
        list_rv = self.api.store.rv
        start = 0
        token = query.get("continue")
        if token:
            list_rv, after = self._decode_continue(token)
            start = next((i for i, s in enumerate(items) if self._item_key(s) > after), len(items))
        limit = int(query.get("limit") or 0)
        page = items[start : start + limit] if limit > 0 else items[start:]
        meta: dict[str, Any] = {"resourceVersion": str(list_rv)}
        if limit > 0 and start + limit < len(items):
            meta["continue"] = self._encode_continue(list_rv, self._item_key(page[-1]))
            meta["remainingItemCount"] = len(items) - start - limit
        if _wants_table(request.headers.get("Accept", "")):
            include = query.get("includeObject", "Metadata")
            objects = [self._versioned(info, s.obj) for s in page]
            return _json_response(to_table(info, objects, include_object=include, list_meta=meta))
        head = encode({"kind": info.list_kind, "apiVersion": info.api_version, "metadata": meta})
        body = (
            head[:-1]
            + b',"items":['
            + b",".join(self._versioned_raw(info, s) for s in page)
            + b"]}"
        )
        return _json_response(body)

    @staticmethod
    def _item_key(stored: Stored) -> str:
        meta = stored.obj["metadata"]
        return f"{meta.get('namespace', '')}/{meta['name']}"

    @staticmethod
    def _encode_continue(rv: int, after: str) -> str:
        return base64.urlsafe_b64encode(json.dumps({"rv": rv, "start": after}).encode()).decode()

    def _decode_continue(self, token: str) -> tuple[int, str]:
        try:
            decoded = json.loads(base64.urlsafe_b64decode(token.encode()))
            rv, after = int(decoded["rv"]), str(decoded["start"])
        except (ValueError, KeyError, TypeError) as exc:
            raise bad_request(f"continue key is not valid: {exc}") from exc
        if rv < self.api.store.compacted_rv:
            raise expired(_EXPIRED_CONTINUE)
        return rv, after

    async def _watch(
        self, request: web.Request, info: ResourceInfo, target: Target
    ) -> web.StreamResponse:
        query = request.query
        timeout = (
            float(query["timeoutSeconds"])
            if "timeoutSeconds" in query
            else default_timeout(self.min_request_timeout)
        )
        watch = WatchRequest(
            info=info,
            namespace=target.namespace,
            resource_version=query.get("resourceVersion", ""),
            labels=LabelSelector(query.get("labelSelector")),
            fields=FieldSelector(
                query.get("fieldSelector")
                or (f"metadata.name={target.name}" if target.name else None),
                info,
            ),
            bookmarks=_flag(query, "allowWatchBookmarks"),
            send_initial_events=_flag(query, "sendInitialEvents"),
            timeout=timeout,
            as_table=_wants_table(request.headers.get("Accept", "")),
            bookmark_interval=self.bookmark_interval,
            is_stalled=lambda: self.stalled,
        )
        return await serve_watch(request, self.api.store, watch)

    def _create(
        self, body: dict[str, Any], request: web.Request, info: ResourceInfo, target: Target
    ) -> web.Response:
        options = self._write_options(request)
        stored = self.api.create(info, target.namespace or "", body, options)
        return _json_response(stored.raw, 201, options.warnings)

    def _update(
        self, body: dict[str, Any], request: web.Request, info: ResourceInfo, target: Target
    ) -> web.Response:
        options = self._write_options(request)
        namespace = self._namespace(info, target)
        options.subresource = target.subresource
        if target.subresource == "scale":
            return self._update_scale(info, namespace, target.name, body, options)
        stored = self.api.update(
            info, namespace, target.name, body, options, subresource=target.subresource
        )
        return _json_response(stored.raw, 200, options.warnings)

    def _patch(
        self, raw: bytes, request: web.Request, info: ResourceInfo, target: Target
    ) -> web.Response:
        options = self._write_options(request)
        options.subresource = target.subresource
        namespace = self._namespace(info, target)
        patch_type = (request.content_type or "").split(";")[0].strip()
        if patch_type == APPLY_PATCH:
            return self._apply(raw, request, info, target, options)
        current = self.api.get_stored(info, namespace, target.name)
        if patch_type == STRATEGIC_MERGE_PATCH and info.custom:
            raise StatusError(
                415,
                "UnsupportedMediaType",
                "the body of the request was in an unknown format - accepted media types "
                "include: application/json-patch+json, application/merge-patch+json, "
                "application/apply-patch+yaml",
            )
        original = to_scale(info, current.obj) if target.subresource == "scale" else current.obj
        try:
            patched = apply_patch(patch_type, original, raw)
        except PatchError as error:
            reason = {400: "BadRequest", 415: "UnsupportedMediaType"}.get(error.code, "Invalid")
            raise StatusError(error.code, reason, error.message) from error
        if target.subresource == "scale":
            return self._update_scale(info, namespace, target.name, patched, options)
        patched.setdefault("metadata", {})
        rv = patched["metadata"].get("resourceVersion")
        if not rv:
            patched["metadata"]["resourceVersion"] = current.obj["metadata"]["resourceVersion"]
        stored = self.api.update(
            info,
            namespace,
            target.name,
            patched,
            options,
            subresource=target.subresource,
            require_rv=False,
        )
        return _json_response(stored.raw, 200, options.warnings)

    def _apply(
        self,
        raw: bytes,
        request: web.Request,
        info: ResourceInfo,
        target: Target,
        options: WriteOptions,
    ) -> web.Response:
        """Server-side apply: merge the applied configuration as ``fieldManager``."""
        if not request.query.get("fieldManager"):
            raise bad_request("PATCH, fieldManager is required for apply requests")
        try:
            applied = yaml.safe_load(raw)
        except yaml.YAMLError as exc:
            raise bad_request(f"error decoding YAML: {exc}") from exc
        if not isinstance(applied, dict):
            raise bad_request("the applied configuration must be an object")
        namespace = self._namespace(info, target)
        applied.setdefault("metadata", {}).setdefault("name", target.name)
        if info.namespaced:
            applied["metadata"].setdefault("namespace", namespace)
        key = namespace if info.namespaced else ""
        stored = self.api.store.get(self.api.key(info), key, target.name)
        live = None if stored is None else json.loads(stored.raw)
        if live is not None and target.subresource == "status":
            keep = ("apiVersion", "kind", "metadata", "status")
            applied = {k: v for k, v in applied.items() if k in keep}
        try:
            result = fieldmanager.apply(
                live,
                applied,
                manager=options.field_manager,
                force=_flag(request.query, "force"),
                schema=info.schema,
            )
        except fieldmanager.ApplyConflict as conflict:
            raise StatusError(409, "Conflict", conflict.message) from conflict
        options.applied = True
        if stored is None:
            created = self.api.create(info, namespace, result, options)
            return _json_response(created.raw, 201, options.warnings)
        requested_rv = (applied.get("metadata") or {}).get("resourceVersion")
        result["metadata"]["resourceVersion"] = (
            requested_rv or stored.obj["metadata"]["resourceVersion"]
        )
        updated = self.api.update(
            info,
            namespace,
            target.name,
            result,
            options,
            subresource=target.subresource,
            require_rv=False,
        )
        return _json_response(updated.raw, 200, options.warnings)

    def _delete(
        self, request: web.Request, info: ResourceInfo, target: Target, options: dict[str, Any]
    ) -> web.Response:
        stored = self.api.delete(
            info,
            self._namespace(info, target),
            target.name,
            propagation=options.get("propagationPolicy"),
            preconditions=options.get("preconditions"),
            dry_run="All" in (options.get("dryRun") or []),
        )
        return _json_response(stored.raw)

    def _delete_collection(
        self, request: web.Request, info: ResourceInfo, target: Target, options: dict[str, Any]
    ) -> web.Response:
        labels = LabelSelector(request.query.get("labelSelector"))
        fields = FieldSelector(request.query.get("fieldSelector"), info)
        deleted = []
        for stored in self.api.store.list_objects(self.api.key(info), target.namespace):
            if labels.matches(stored.obj) and fields.matches(stored.obj):
                meta = stored.obj["metadata"]
                deleted.append(
                    self.api.delete(
                        info,
                        meta.get("namespace", ""),
                        meta["name"],
                        propagation=options.get("propagationPolicy"),
                        dry_run="All" in (options.get("dryRun") or []),
                    ).obj
                )
        return _json_response(
            {
                "kind": info.list_kind,
                "apiVersion": info.api_version,
                "metadata": {"resourceVersion": str(self.api.store.rv)},
                "items": deleted,
            }
        )

    # scale

    def _update_scale(
        self,
        info: ResourceInfo,
        namespace: str,
        name: str,
        scale: dict[str, Any],
        options: WriteOptions,
    ) -> web.Response:
        current = self.api.get_stored(info, namespace, name)
        new = with_replicas(info, current.obj, scale)
        stored = self.api.update(info, namespace, name, new, options, require_rv=False)
        return _json_response(to_scale(info, stored.obj), 200, options.warnings)
