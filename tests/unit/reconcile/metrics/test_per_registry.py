"""Every metrics group registers once per registry, however many users ask for it."""

from __future__ import annotations

import pytest
from kubernetes import client as k8s_client
from prometheus_client import CollectorRegistry

from reconcile.client import Client, RestConfig
from reconcile.client.transport import ClientMetrics
from reconcile.controller import ControllerMetrics
from reconcile.leaderelection import LeaderElectionMetrics
from reconcile.metrics.per_registry import PerRegistryMetrics
from reconcile.reload import ConfigMetrics
from reconcile.webhook import WebhookMetrics
from reconcile.workqueue import WorkqueueMetrics


@pytest.mark.parametrize(
    "metrics",
    [
        ClientMetrics,
        LeaderElectionMetrics,
        ConfigMetrics,
        ControllerMetrics,
        WorkqueueMetrics,
        WebhookMetrics,
    ],
)
def test_for_registry_is_idempotent(metrics: type[PerRegistryMetrics]) -> None:
    registry = CollectorRegistry()
    first = metrics.for_registry(registry)
    assert metrics.for_registry(registry) is first
    assert metrics.for_registry(CollectorRegistry()) is not first


def test_two_clients_share_the_managers_registry() -> None:
    registry = CollectorRegistry()
    configuration = k8s_client.Configuration()
    configuration.host = "http://127.0.0.1:1"
    config = RestConfig(configuration=configuration)
    first = Client(config, registry=registry)
    second = Client(config, registry=registry)
    assert first.transport.metrics is second.transport.metrics
