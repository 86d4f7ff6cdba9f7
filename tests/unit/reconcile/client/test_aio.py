"""The async client awaits the thread-safe client without blocking the loop."""

from __future__ import annotations

import asyncio
import threading
from typing import Any

import pytest

from reconcile.client import AsyncClient
from reconcile.envtest import FakeClient
from reconcile.errors import NotFound
from reconcile.gvk import GroupVersionKind

CONFIG_MAP = GroupVersionKind("", "v1", "ConfigMap")


def test_calls_run_off_the_loop_and_return_what_the_client_returns() -> None:
    fake = FakeClient()
    client = AsyncClient(fake, max_workers=2)
    loop_threads: list[str] = []
    call_threads: list[str] = []
    original_get = fake.get

    def get(*args: object, **kwargs: object) -> dict[str, object]:
        call_threads.append(threading.current_thread().name)
        return original_get(*args, **kwargs)  # type: ignore[arg-type]

    fake.get = get  # type: ignore[method-assign]

    async def scenario() -> dict[str, Any]:
        loop_threads.append(threading.current_thread().name)
        created = await client.create(
            {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "a", "namespace": "n"}}
        )
        patched = await client.patch(created, {"data": {"k": "v"}})
        assert patched["data"] == {"k": "v"}
        listed = await client.list(CONFIG_MAP, namespace="n")
        assert len(listed["items"]) == 1
        await client.delete(patched)
        with pytest.raises(NotFound):
            await client.get(CONFIG_MAP, "a", "n")
        return created

    try:
        created = asyncio.run(scenario())
    finally:
        client.close()
    assert created["metadata"]["name"] == "a"
    assert call_threads and all(name.startswith("async-client") for name in call_threads)
    assert loop_threads[0] not in call_threads
    assert not any(t.name.startswith("async-client") for t in threading.enumerate())


def test_max_workers_must_be_positive() -> None:
    with pytest.raises(ValueError, match="max_workers must be >= 1"):
        AsyncClient(FakeClient(), max_workers=0)
