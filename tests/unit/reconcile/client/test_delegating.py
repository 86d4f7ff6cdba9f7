from __future__ import annotations

from kubernetes import client as k8s_client

from reconcile.client import Client, DelegatingClient, RestConfig
from reconcile.envtest import FakeClient
from reconcile.gvk import GroupVersionKind


def test_with_options_keeps_the_cache_and_changes_only_write_defaults() -> None:
    configuration = k8s_client.Configuration()
    configuration.host = "http://127.0.0.1:1"  # never contacted
    direct = Client(RestConfig(configuration=configuration))
    cache = FakeClient()  # any Reader
    manager_client = DelegatingClient(
        direct, cache, uncached=[GroupVersionKind("", "v1", "Secret")]
    )
    controller_client = manager_client.with_options(field_manager="pool-controller", dry_run=True)
    assert controller_client.cache is cache
    assert controller_client.direct.transport is direct.transport, "connections are shared"
    assert (controller_client.direct.field_manager, controller_client.direct.dry_run) == (
        "pool-controller",
        True,
    )
    assert (direct.field_manager, direct.dry_run) == ("kreconcile", False)
    assert controller_client._uncached == manager_client._uncached
