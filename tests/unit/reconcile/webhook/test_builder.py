"""WebhookBuilder: kubebuilder's paths on the manager's webhook server, misuse reported by
``complete``, and one ``/convert`` for every kind."""

from __future__ import annotations

from typing import Any

import pytest
from kubernetes import client as k8s_client

from reconcile.client import RestConfig
from reconcile.errors import ConfigError
from reconcile.gvk import GroupVersionKind
from reconcile.manager import Manager, ManagerOptions
from reconcile.webhook import (
    ConversionWebhook,
    Endpoint,
    Spoke,
    WebhookBuilder,
    WebhookServerOptions,
    mutate_path,
    validate_path,
)

POOL = GroupVersionKind("kreconcile.io", "v1alpha1", "AgentPool")
POD = GroupVersionKind("", "v1", "Pod")


class Validator:
    def validate_create(self, obj: dict[str, Any]) -> None: ...
    def validate_update(self, old: dict[str, Any], new: dict[str, Any]) -> None: ...
    def validate_delete(self, obj: dict[str, Any]) -> None: ...


class Defaulter:
    def default(self, obj: dict[str, Any]) -> None: ...


def _manager(*, webhooks: bool = True) -> Manager:
    options = ManagerOptions(
        metrics_bind_address="0",
        health_probe_bind_address="0",
        webhook_server=WebhookServerOptions(port=0) if webhooks else None,
    )
    configuration = k8s_client.Configuration()
    configuration.host = "https://127.0.0.1:1"
    return Manager(RestConfig(configuration=configuration), options)


def test_paths_are_kubebuilders() -> None:
    assert validate_path(POOL) == "/validate-kreconcile-io-v1alpha1-agentpool"
    assert mutate_path(POOL) == "/mutate-kreconcile-io-v1alpha1-agentpool"
    assert validate_path(POD) == "/validate--v1-pod"


def test_complete_registers_each_handler_with_what_it_admits() -> None:
    manager = _manager()
    WebhookBuilder(manager).for_(POOL).with_validator(Validator()).with_defaulter(
        Defaulter()
    ).complete()
    assert manager.webhook_server.endpoints == (
        Endpoint("/mutate-kreconcile-io-v1alpha1-agentpool", "mutating", POOL),
        Endpoint("/validate-kreconcile-io-v1alpha1-agentpool", "validating", POOL),
    )
    assert "webhook" in manager.readyz.route()("/readyz", {"verbose": [""]})[2].decode()


def test_custom_paths() -> None:
    manager = _manager()
    (
        WebhookBuilder(manager)
        .for_(POD)
        .with_validator(Validator())
        .with_validator_custom_path("/check-pods")
        .with_defaulter(Defaulter())
        .with_defaulter_custom_path("/default-pods")
        .complete()
    )
    assert manager.webhook_server.paths == ("/check-pods", "/default-pods")


def test_every_kind_shares_one_convert_handler() -> None:
    manager = _manager()
    spoke = Spoke(to_hub=lambda o: o, from_hub=lambda o: o)
    WebhookBuilder(manager).for_(POOL).with_conversion({"v1beta1": spoke}).complete()
    WebhookBuilder(manager).for_(POD).with_conversion({"v2": spoke}).complete()
    handler = manager.webhook_server.handler("/convert")
    assert isinstance(handler, ConversionWebhook)
    assert handler.convertible("kreconcile.io", "AgentPool") and handler.convertible("", "Pod")
    assert manager.webhook_server.paths == ("/convert",)


@pytest.mark.parametrize(
    ("build", "message"),
    [
        pytest.param(lambda b: b.with_validator(Validator()), r"call for_\(kind\)", id="no-for"),
        pytest.param(lambda b: b.for_(POOL), "nothing to serve for AgentPool", id="nothing"),
        pytest.param(lambda b: b.for_(POOL).for_(POD).with_validator(Validator()),
                     r"for_\(\) was called twice", id="twice"),
    ],
)  # fmt: skip
def test_misuse_is_reported_by_complete(build: Any, message: str) -> None:
    builder = build(WebhookBuilder(_manager()))
    with pytest.raises(ValueError, match=message):
        builder.complete()


def test_a_path_is_served_once() -> None:
    manager = _manager()
    WebhookBuilder(manager).for_(POOL).with_validator(Validator()).complete()
    with pytest.raises(ValueError, match="already registered"):
        WebhookBuilder(manager).for_(POOL).with_validator(Validator()).complete()


def test_a_manager_without_webhook_options_says_how_to_enable_them() -> None:
    manager = _manager(webhooks=False)
    assert not manager.serves_webhooks
    with pytest.raises(ConfigError, match="--webhook-cert-path"):
        WebhookBuilder(manager).for_(POOL).with_validator(Validator()).complete()
