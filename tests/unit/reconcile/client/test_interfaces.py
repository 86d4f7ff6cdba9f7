"""The one read/write contract: the direct client, the delegating client and the cache
satisfy it (checked by mypy on this file, and at run time by the helpers that use it)."""

from __future__ import annotations

from kubernetes import client as k8s_client

from reconcile.cache import InformerCache
from reconcile.client import Client, DelegatingClient, ObjectClient, Reader, RestConfig, Writer
from reconcile.recorder import EventRecorder


def _readers(client: Client, delegating: DelegatingClient, cache: InformerCache) -> list[Reader]:
    return [client, delegating, cache]


def _clients(client: Client, delegating: DelegatingClient) -> list[ObjectClient]:
    return [client, delegating]


def _writers(client: Client, delegating: DelegatingClient) -> list[Writer]:
    return [client, delegating]


def test_implementations_share_the_contract() -> None:
    configuration = k8s_client.Configuration()
    configuration.host = "http://127.0.0.1:1"
    client = Client(RestConfig(configuration=configuration))
    cache = InformerCache(client)
    delegating = DelegatingClient(client, cache)
    assert len(_readers(client, delegating, cache)) == 3
    assert len(_clients(client, delegating)) == 2
    recorder = EventRecorder(_writers(client, delegating)[1], "contract")
    assert recorder.close(5)
