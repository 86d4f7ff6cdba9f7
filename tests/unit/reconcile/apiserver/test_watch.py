"""The watch stream's contract with asyncio: cancellation propagates, nothing leaks."""

from __future__ import annotations

import asyncio
import contextlib

from aiohttp.test_utils import make_mocked_request

from reconcile.apiserver.registry import Registry
from reconcile.apiserver.selectors import FieldSelector, LabelSelector
from reconcile.apiserver.storage import Store
from reconcile.apiserver.watch import WatchRequest, serve_watch


def test_cancelled_watch_propagates_cancellation_and_unsubscribes() -> None:
    async def scenario() -> tuple[bool, int]:
        store = Store()
        info = Registry().lookup("", "v1", "configmaps")
        assert info is not None
        watch = WatchRequest(
            info=info,
            namespace=None,
            resource_version=0,
            labels=LabelSelector(None),
            fields=FieldSelector(None, info),
            bookmarks=False,
            send_initial_events=False,
            timeout=60.0,
            as_table=False,
            bookmark_interval=60.0,
            is_stalled=lambda: False,
        )
        request = make_mocked_request("GET", "/api/v1/configmaps?watch=true")
        task = asyncio.create_task(serve_watch(request, store, watch, key=("", "configmaps")))
        while not store._watchers:
            await asyncio.sleep(0.001)
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
        return task.cancelled(), len(store._watchers)

    cancelled, watchers = asyncio.run(scenario())
    assert cancelled, "serve_watch swallowed CancelledError instead of propagating it"
    assert watchers == 0
