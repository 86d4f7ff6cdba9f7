"""LIST with label/field selectors and pagination (``limit`` / ``continue``).

A paginated list is one consistent snapshot, as kube-apiserver serves it from etcd: the
first page fixes a resourceVersion and every later page (its continue token carries that
revision and the last key returned) is served from the objects as they were at that
revision, rebuilt from the watch history. Once the history no longer reaches back, the
token has expired: 410 with kube-apiserver's message, and the client starts over.
"""

from __future__ import annotations

import base64
import json
from typing import Any

from aiohttp import web

from reconcile.apiserver.api import API
from reconcile.apiserver.conversion import from_storage, raw_for
from reconcile.apiserver.request import int_param, json_response, wants_table
from reconcile.apiserver.resources import ResourceInfo
from reconcile.apiserver.selectors import FieldSelector, LabelSelector
from reconcile.apiserver.status import bad_request, expired
from reconcile.apiserver.storage import Stored, TooOld, encode
from reconcile.apiserver.table import to_table

__all__ = ["list_response", "parse_resource_version", "select_page", "serve_list"]

_EXPIRED_CONTINUE = (
    "The provided continue parameter is too old to display a consistent list result. You can "
    "start a new list without the continue parameter, or use the continue token in this "
    "response to retrieve the remainder of the results. Continuing with the provided token "
    "results in an inconsistent list - objects that were created, modified, or deleted "
    "between the time the first chunk was returned and now may show up in the list."
)


def parse_resource_version(raw: str) -> int:
    """A resourceVersion query parameter as a revision ("" and "0" mean "any": 0)."""
    if raw in ("", "0"):
        return 0
    try:
        value = int(raw)
    except ValueError:
        value = -1
    if value < 0:
        raise bad_request(
            f'resourceVersion: Invalid value: "{raw}": strconv.ParseUint: parsing "{raw}": '
            "invalid syntax"
        )
    return value


def _item_key(stored: Stored) -> str:
    meta = stored.obj["metadata"]
    return f"{meta.get('namespace', '')}/{meta['name']}"


def _encode_continue(rv: int, after: str) -> str:
    return base64.urlsafe_b64encode(json.dumps({"rv": rv, "start": after}).encode()).decode()


def _decode_continue(token: str, compacted_rv: int) -> tuple[int, str]:
    try:
        decoded = json.loads(base64.urlsafe_b64decode(token.encode()))
        rv, after = int(decoded["rv"]), str(decoded["start"])
    except (ValueError, KeyError, TypeError) as exc:
        raise bad_request(f"continue key is not valid: {exc}") from exc
    if rv < compacted_rv:
        raise expired(_EXPIRED_CONTINUE)
    return rv, after


def _snapshot(
    api: API, info: ResourceInfo, namespace: str | None, token: str | None
) -> tuple[int, str, list[Stored]]:
    store = api.store
    if not token:
        return store.rv, "", store.list_objects(api.key(info), namespace)
    rv, after = _decode_continue(token, store.compacted_rv)
    try:
        items = store.list_at(api.key(info), namespace, rv)
    except TooOld:
        raise expired(_EXPIRED_CONTINUE) from None
    return rv, after, items


def select_page(
    api: API, request: web.Request, info: ResourceInfo, namespace: str | None
) -> tuple[list[Stored], dict[str, Any]]:
    """The objects of one list request's page and its list metadata."""
    query = request.query
    labels = LabelSelector(query.get("labelSelector"))
    fields = FieldSelector(query.get("fieldSelector"), info)
    limit = int_param(query, "limit")
    int_param(query, "timeoutSeconds")  # refused when malformed, as kube's ListOptions are
    rv = parse_resource_version(query.get("resourceVersion", ""))
    if rv and query.get("resourceVersionMatch") == "Exact" and rv != api.store.rv:
        raise expired(f"too old resource version: {rv} ({api.store.compacted_rv + 1})")
    list_rv, after, snapshot = _snapshot(api, info, namespace, query.get("continue"))
    items = [
        s
        for s in snapshot
        if (not after or _item_key(s) > after) and labels.matches(s.obj) and fields.matches(s.obj)
    ]
    page = items[:limit] if limit > 0 else items
    meta: dict[str, Any] = {"resourceVersion": str(list_rv)}
    if limit > 0 and limit < len(items):
        meta["continue"] = _encode_continue(list_rv, _item_key(page[-1]))
        meta["remainingItemCount"] = len(items) - limit
    return page, meta


def list_response(
    request: web.Request,
    info: ResourceInfo,
    items: list[bytes] | list[dict[str, Any]],
    meta: dict[str, Any],
) -> web.Response:
    """A list (or Table) of ``items``: JSON bytes, or objects already in ``info``'s version."""
    if wants_table(request.headers.get("Accept", "")):
        include = request.query.get("includeObject", "Metadata")
        objects = [i if isinstance(i, dict) else json.loads(i) for i in items]
        return json_response(to_table(info, objects, include_object=include, list_meta=meta))
    head = encode({"kind": info.list_kind, "apiVersion": info.api_version, "metadata": meta})
    encoded = [i if isinstance(i, bytes) else encode(i) for i in items]
    return json_response(head[:-1] + b',"items":[' + b",".join(encoded) + b"]}")


def serve_list(
    api: API,
    request: web.Request,
    info: ResourceInfo,
    namespace: str | None,
) -> web.Response:
    """The list response for one request (JSON list or Table)."""
    page, meta = select_page(api, request, info, namespace)
    if wants_table(request.headers.get("Accept", "")):
        return list_response(request, info, [from_storage(info, s.obj) for s in page], meta)
    return list_response(request, info, [raw_for(info, s) for s in page], meta)
