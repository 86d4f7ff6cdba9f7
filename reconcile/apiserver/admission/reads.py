"""Reads of a CRD version served through a conversion webhook: GET, LIST and WATCH.

The stored objects are converted to the requested version before they are encoded: one
ConversionReview for a GET, one per page for a LIST, one per batch of events for a WATCH
(a failed conversion ends the watch with an ERROR event, as kube-apiserver does).
"""

from __future__ import annotations

from typing import Any

from aiohttp import web

from reconcile.apiserver.api import API
from reconcile.apiserver.crdconversion import Versions
from reconcile.apiserver.listing import list_response, select_page
from reconcile.apiserver.request import json_response, wants_table
from reconcile.apiserver.resources import ResourceInfo
from reconcile.apiserver.rest import Target, request_verb
from reconcile.apiserver.scale import to_scale
from reconcile.apiserver.status import StatusError
from reconcile.apiserver.table import to_table
from reconcile.apiserver.watch import serve_watch, watch_request

__all__ = ["serve_converted_read"]


async def serve_converted_read(
    api: API,
    versions: Versions,
    request: web.Request,
    info: ResourceInfo,
    target: Target,
    watch_options: dict[str, Any],
) -> web.StreamResponse:
    """A GET, LIST or WATCH answered in ``info``'s version."""
    if request_verb(request, bool(target.name)) == "watch":
        watch = watch_request(request, info, target.namespace, target.name, **watch_options)

        async def convert(objs: list[dict[str, Any]]) -> list[dict[str, Any]]:
            return await versions.convert(objs, info)

        return await serve_watch(request, api.store, watch, key=api.key(info), convert=convert)
    if target.name:
        if info.namespaced and target.namespace is None:
            raise StatusError(404, "NotFound", "the server could not find the requested resource")
        stored = api.get_stored(info, target.namespace or "", target.name)
        view = await versions.one(stored.obj, info)
        if target.subresource == "scale":
            return json_response(to_scale(info, view))
        if wants_table(request.headers.get("Accept", "")):
            include = request.query.get("includeObject", "Metadata")
            return json_response(to_table(info, [view], include_object=include))
        return json_response(view)
    page, meta = select_page(api, request, info, target.namespace)
    objects = await versions.convert([s.obj for s in page], info)
    return list_response(request, info, objects, meta)
