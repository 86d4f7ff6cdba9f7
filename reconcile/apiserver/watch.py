"""Watch streams: newline-delimited JSON events, one flush per event.

A watch starts from a resourceVersion (events after it, from the history window; 410 Gone
as an ERROR event when it was compacted) or, with none or "0", from a synthetic ADDED event
per existing object. The subscription is registered in the same loop step as the initial
listing, so no write can fall between the two. Selectors apply per event with kube's
transition rule: an object that stops matching is sent as DELETED, one that starts matching
as ADDED. Bookmarks carry the current revision when the stream is idle.
"""

from __future__ import annotations

import asyncio
import json
import random
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from aiohttp import web

from reconcile.apiserver.conversion import from_storage
from reconcile.apiserver.listing import parse_resource_version
from reconcile.apiserver.request import flag, int_param, wants_table
from reconcile.apiserver.resources import ResourceInfo
from reconcile.apiserver.selectors import FieldSelector, LabelSelector
from reconcile.apiserver.status import StatusError, status_body
from reconcile.apiserver.storage import Event, GroupResource, Store, TooOld
from reconcile.apiserver.table import to_table

__all__ = ["WatchRequest", "default_timeout", "serve_watch", "watch_request"]


@dataclass(kw_only=True)
class WatchRequest:
    info: ResourceInfo
    namespace: str | None
    resource_version: int
    """0: start with the current objects; otherwise replay the history after it."""
    labels: LabelSelector
    fields: FieldSelector
    bookmarks: bool
    send_initial_events: bool
    timeout: float
    as_table: bool
    bookmark_interval: float
    is_stalled: Callable[[], bool]


def _matches(request: WatchRequest, obj: dict[str, Any]) -> bool:
    return request.labels.matches(obj) and request.fields.matches(obj)


def watch_request(
    http_request: web.Request,
    info: ResourceInfo,
    namespace: str | None,
    name: str,
    *,
    bookmark_interval: float,
    min_request_timeout: float,
    is_stalled: Callable[[], bool],
) -> WatchRequest:
    """The watch a request asks for; 400 for parameters kube-apiserver would refuse."""
    query = http_request.query
    timeout = (
        float(int_param(query, "timeoutSeconds"))
        if "timeoutSeconds" in query
        else default_timeout(min_request_timeout)
    )
    field_selector = query.get("fieldSelector") or (f"metadata.name={name}" if name else None)
    return WatchRequest(
        info=info,
        namespace=namespace,
        resource_version=parse_resource_version(query.get("resourceVersion", "")),
        labels=LabelSelector(query.get("labelSelector")),
        fields=FieldSelector(field_selector, info),
        bookmarks=flag(query, "allowWatchBookmarks"),
        send_initial_events=flag(query, "sendInitialEvents"),
        timeout=timeout,
        as_table=wants_table(http_request.headers.get("Accept", "")),
        bookmark_interval=bookmark_interval,
        is_stalled=is_stalled,
    )


def _line(request: WatchRequest, kind: str, obj: dict[str, Any], first: list[bool]) -> bytes:
    payload = obj if kind == "BOOKMARK" else from_storage(request.info, obj)
    if request.as_table and kind != "BOOKMARK":
        payload = to_table(request.info, [payload], with_columns=first[0])
        first[0] = False
    return json.dumps({"type": kind, "object": payload}, separators=(",", ":")).encode() + b"\n"


def _translate(request: WatchRequest, event: Event) -> tuple[str, dict[str, Any]] | None:
    new_match = _matches(request, event.stored.obj)
    if event.type == "MODIFIED" and event.old is not None:
        old_match = _matches(request, event.old.obj)
        if old_match and not new_match:
            return "DELETED", event.stored.obj
        if new_match and not old_match:
            return "ADDED", event.stored.obj
    if event.type == "DELETED" and not new_match:
        return None
    return (event.type, event.stored.obj) if new_match else None


def _bookmark(request: WatchRequest, rv: int, *, initial_end: bool = False) -> dict[str, Any]:
    metadata: dict[str, Any] = {"resourceVersion": str(rv)}
    if initial_end:
        metadata["annotations"] = {"k8s.io/initial-events-end": "true"}
    return {"kind": request.info.kind, "apiVersion": request.info.api_version, "metadata": metadata}


Convert = Callable[[list[dict[str, Any]]], Awaitable[list[dict[str, Any]]]]
"""Objects from storage to the watched version, when that takes a conversion webhook."""


async def _lines(
    request: WatchRequest,
    events: list[tuple[str, dict[str, Any]]],
    first: list[bool],
    convert: Convert | None,
) -> list[bytes]:
    if convert is not None and events:
        converted = await convert([obj for kind, obj in events if kind != "BOOKMARK"])
        objects = iter(converted)
        events = [(k, o if k == "BOOKMARK" else next(objects)) for k, o in events]
    return [_line(request, kind, obj, first) for kind, obj in events]


async def serve_watch(
    http_request: web.Request,
    store: Store,
    request: WatchRequest,
    *,
    key: GroupResource,
    convert: Convert | None = None,
) -> web.StreamResponse:
    """Stream events until the timeout, a cut, or the client going away."""
    gr = key
    first = [True]
    initial: list[bytes] = []
    events: list[tuple[str, dict[str, Any]]] = []
    try:
        if request.resource_version:
            backlog = store.events_since(gr, request.resource_version)
            for past in backlog:
                if request.namespace is None or past.namespace == request.namespace:
                    translated = _translate(request, past)
                    if translated:
                        events.append(translated)
        else:
            for stored in store.list_objects(gr, request.namespace):
                if _matches(request, stored.obj):
                    events.append(("ADDED", stored.obj))
            if request.send_initial_events and request.bookmarks:
                events.append(("BOOKMARK", _bookmark(request, store.rv, initial_end=True)))
    except TooOld as error:
        initial = [
            json.dumps(
                {"type": "ERROR", "object": status_body(410, "Expired", str(error))},
                separators=(",", ":"),
            ).encode()
            + b"\n"
        ]
        watcher = None
    else:
        watcher = store.watch(gr, request.namespace)
        initial = await _lines(request, events, first, convert)

    response = web.StreamResponse(status=200, headers={"Content-Type": "application/json"})
    response.enable_chunked_encoding()
    await response.prepare(http_request)
    try:
        for line in initial:
            await response.write(line)
        if watcher is None:
            return response
        loop = asyncio.get_running_loop()
        deadline = loop.time() + request.timeout
        while True:
            remaining = deadline - loop.time()
            if remaining <= 0:
                break
            wait = min(remaining, request.bookmark_interval) if request.bookmarks else remaining
            try:
                event = await asyncio.wait_for(watcher.queue.get(), timeout=wait)
            except TimeoutError:
                if request.bookmarks and not request.is_stalled():
                    await response.write(
                        _line(request, "BOOKMARK", _bookmark(request, store.rv), first)
                    )
                continue
            batch = [event]
            while not watcher.queue.empty():
                batch.append(watcher.queue.get_nowait())
            if request.is_stalled():
                if None in batch:
                    break
                continue
            pending = []
            closed = False
            for item in batch:
                if item is None:
                    closed = True
                    break
                translated = _translate(request, item)
                if translated:
                    pending.append(translated)
            if pending:
                try:
                    lines = await _lines(request, pending, first, convert)
                except StatusError as error:
                    failure = {"type": "ERROR", "object": error.body()}
                    await response.write(
                        json.dumps(failure, separators=(",", ":")).encode() + b"\n"
                    )
                    break
                await response.write(b"".join(lines))
            if closed:
                break
    except ConnectionResetError:
        pass  # the client went away; nothing left to send
    finally:
        if watcher is not None:
            store.unwatch(watcher)
    return response


def default_timeout(min_request_timeout: float) -> float:
    """kube-apiserver picks a watch timeout uniformly in [min, 2*min) seconds."""
    return min_request_timeout * (1 + random.random())
