"""Resource URLs and verbs: which handler serves a request, and what it answers.

Every resource request goes through ``Rest.handle``: the URL is split into group, version,
namespace, resource, name and subresource the way kube-apiserver's request-info resolver
does; the verb is picked from the method (GET is get, list or watch). Decoding lives in
``request.py``, lists in ``listing.py``, patches and apply in ``applying.py``, watches in
``watch.py`` and the Scale view in ``scale.py``; failures are Status errors.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from aiohttp import web

from reconcile.apiserver.api import API
from reconcile.apiserver.applying import serve_patch
from reconcile.apiserver.conversion import from_storage, raw_for, to_storage
from reconcile.apiserver.listing import serve_list
from reconcile.apiserver.request import (
    decode_body,
    delete_options,
    json_response,
    read_raw,
    wants_table,
    write_options,
)
from reconcile.apiserver.resources import ResourceInfo
from reconcile.apiserver.scale import to_scale, update_scale
from reconcile.apiserver.selectors import FieldSelector, LabelSelector
from reconcile.apiserver.status import StatusError, method_not_allowed, success_status
from reconcile.apiserver.storage import Stored
from reconcile.apiserver.table import to_table
from reconcile.apiserver.watch import serve_watch, watch_request

if TYPE_CHECKING:
    from reconcile.apiserver.admission import AdmissionFlow

__all__ = ["Rest", "Target", "delete_response", "parse_path", "request_verb"]

_RETURNS_DELETED_OBJECT = frozenset(
    {
        ("", "pods"),
        ("", "services"),
        ("", "serviceaccounts"),
        ("", "namespaces"),
        ("apiextensions.k8s.io", "customresourcedefinitions"),
    }
)
"""Resources whose DELETE answers the object (kube's ``ReturnDeletedObject``); the others
answer a ``Success`` Status once the object is gone."""


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


def request_verb(request: web.Request, named: bool) -> str:
    """kube-apiserver's verb for a request: GET is get, list or watch; DELETE of a
    collection is deletecollection."""
    method = request.method
    if method == "GET":
        if request.query.get("watch") in ("true", "1") or "/watch/" in request.path:
            return "watch"
        return "get" if named else "list"
    if method == "DELETE" and not named:
        return "deletecollection"
    return {"POST": "create", "PUT": "update", "PATCH": "patch", "DELETE": "delete"}.get(
        method, method.lower()
    )


def _not_found() -> StatusError:
    return StatusError(404, "NotFound", "the server could not find the requested resource")


def delete_response(
    info: ResourceInfo, stored: Stored, gone: bool, body: bytes | None = None
) -> web.Response:
    """What a DELETE answers: the object while it waits for finalizers or when kube returns
    it, else a ``Success`` Status. ``body`` is the object's JSON in the request's version."""
    if not gone or not (info.custom or (info.group, info.resource) not in _RETURNS_DELETED_OBJECT):
        return json_response(body if body is not None else raw_for(info, stored))
    meta = stored.obj["metadata"]
    return json_response(success_status(info, meta["name"], meta.get("uid", "")))


class Rest:
    """Resource handlers bound to one API."""

    def __init__(
        self,
        api: API,
        *,
        bookmark_interval: float,
        min_request_timeout: float,
        admission: AdmissionFlow | None = None,
    ) -> None:
        """``admission`` serves the requests that need webhooks or policies (admission) or
        a conversion webhook (reads and writes of a CRD version)."""
        self.api = api
        self.admission = admission
        self.bookmark_interval = bookmark_interval
        self.min_request_timeout = min_request_timeout
        self.stalled = False

    async def handle(self, request: web.Request, target: Target) -> web.StreamResponse:
        info = self.api.registry.lookup(target.group, target.version, target.resource)
        if info is None or (target.namespace is not None and not info.namespaced):
            raise _not_found()
        if target.subresource and target.subresource not in self._subresources(info):
            raise _not_found()
        if self.admission is not None and self.admission.handles(request, info, target):
            return await self.admission.serve(request, info, target, self.watch_options())
        method = request.method
        if method == "GET":
            if request_verb(request, bool(target.name)) == "watch":
                return await self._watch(request, info, target)
            if target.name:
                return self._get(request, info, target)
            return serve_list(self.api, request, info, target.namespace)
        if method == "POST" and not target.name:
            body = decode_body(request, info, await read_raw(request))
            return self._create(body, request, info, target)
        if method == "PUT" and target.name:
            body = decode_body(request, info, await read_raw(request))
            return self._update(body, request, info, target)
        if method == "PATCH" and target.name:
            options = write_options(request)
            options.subresource = target.subresource
            namespace = self._namespace(info, target)
            raw = await read_raw(request)
            return serve_patch(self.api, request, info, namespace, target.name, raw, options)
        if method == "DELETE":
            options_body = await delete_options(request)
            if target.name:
                return self._delete(info, target, options_body)
            return self._delete_collection(request, info, target, options_body)
        raise method_not_allowed(f"{method} is not supported on {request.path}")

    @staticmethod
    def _subresources(info: ResourceInfo) -> set[str]:
        subs = {"status"} if info.status_subresource else set()
        if info.scale is not None:
            subs.add("scale")
        if (info.group, info.resource) == ("", "namespaces"):
            subs.add("finalize")
        return subs

    def _namespace(self, info: ResourceInfo, target: Target) -> str:
        if info.namespaced and target.namespace is None and target.name:
            raise _not_found()
        return target.namespace or ""

    # verbs

    def _get(self, request: web.Request, info: ResourceInfo, target: Target) -> web.Response:
        stored = self.api.get_stored(info, self._namespace(info, target), target.name)
        if target.subresource == "scale":
            return json_response(to_scale(info, stored.obj))
        if wants_table(request.headers.get("Accept", "")):
            include = request.query.get("includeObject", "Metadata")
            view = from_storage(info, stored.obj)
            return json_response(to_table(info, [view], include_object=include))
        return json_response(raw_for(info, stored))

    def watch_options(self) -> dict[str, Any]:
        """How this server's watches are shaped (bookmarks, timeouts, stalls)."""
        return {
            "bookmark_interval": self.bookmark_interval,
            "min_request_timeout": self.min_request_timeout,
            "is_stalled": lambda: self.stalled,
        }

    async def _watch(
        self, request: web.Request, info: ResourceInfo, target: Target
    ) -> web.StreamResponse:
        watch = watch_request(request, info, target.namespace, target.name, **self.watch_options())
        return await serve_watch(request, self.api.store, watch, key=self.api.key(info))

    def _create(
        self, body: dict[str, Any], request: web.Request, info: ResourceInfo, target: Target
    ) -> web.Response:
        options = write_options(request)
        stored = self.api.create(info, target.namespace or "", to_storage(info, body), options)
        return json_response(raw_for(info, stored), 201, options.warnings)

    def _update(
        self, body: dict[str, Any], request: web.Request, info: ResourceInfo, target: Target
    ) -> web.Response:
        options = write_options(request)
        namespace = self._namespace(info, target)
        options.subresource = target.subresource
        if target.subresource == "scale":
            scale = update_scale(self.api, info, namespace, target.name, body, options)
            return json_response(scale, 200, options.warnings)
        stored = self.api.update(
            info,
            namespace,
            target.name,
            to_storage(info, body),
            options,
            subresource=target.subresource,
        )
        return json_response(raw_for(info, stored), 200, options.warnings)

    def _delete(self, info: ResourceInfo, target: Target, options: dict[str, Any]) -> web.Response:
        stored, gone = self.api.delete(
            info,
            self._namespace(info, target),
            target.name,
            propagation=options.get("propagationPolicy"),
            preconditions=options.get("preconditions"),
            dry_run="All" in (options.get("dryRun") or []),
        )
        return delete_response(info, stored, gone)

    def _delete_collection(
        self, request: web.Request, info: ResourceInfo, target: Target, options: dict[str, Any]
    ) -> web.Response:
        labels = LabelSelector(request.query.get("labelSelector"))
        fields = FieldSelector(request.query.get("fieldSelector"), info)
        deleted = []
        for stored in self.api.store.list_objects(self.api.key(info), target.namespace):
            if labels.matches(stored.obj) and fields.matches(stored.obj):
                meta = stored.obj["metadata"]
                removed, _ = self.api.delete(
                    info,
                    meta.get("namespace", ""),
                    meta["name"],
                    propagation=options.get("propagationPolicy"),
                    dry_run="All" in (options.get("dryRun") or []),
                )
                deleted.append(from_storage(info, removed.obj))
        return json_response(
            {
                "kind": info.list_kind,
                "apiVersion": info.api_version,
                "metadata": {"resourceVersion": str(self.api.store.rv)},
                "items": deleted,
            }
        )
