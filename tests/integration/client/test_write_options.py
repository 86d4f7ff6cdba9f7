"""Client write defaults (field manager, field validation, dry run), per client and per call."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import pytest

from reconcile.client import Client, NamespacedClient, RestConfig, WarningLogger, ignore_not_found
from reconcile.errors import BadRequest, NotFound
from reconcile.gvk import GroupVersionKind

CONFIG_MAP = GroupVersionKind("", "v1", "ConfigMap")


def _config_map(namespace: str, name: str, **extra: Any) -> dict[str, Any]:
    return {"apiVersion": "v1", "kind": "ConfigMap",
            "metadata": {"name": name, "namespace": namespace}, "data": {"k": "v"}, **extra}  # fmt: skip


def _managers(obj: dict[str, Any]) -> list[tuple[str, str]]:
    return [(e["manager"], e["operation"]) for e in obj["metadata"]["managedFields"]]


def test_field_manager_per_client_and_per_call(shared_client: Client, namespace: str) -> None:
    controller = shared_client.with_options(field_manager="pool-controller")
    created = controller.create(_config_map(namespace, "a"))
    assert _managers(created) == [("pool-controller", "Update")]
    patched = controller.patch(created, {"data": {"x": "1"}}, field_manager="one-off")
    assert ("one-off", "Update") in _managers(patched)
    applied = controller.apply(
        {"apiVersion": "v1", "kind": "ConfigMap",
         "metadata": {"name": "b", "namespace": namespace}, "data": {"k": "v"}}
    )  # fmt: skip
    assert _managers(applied) == [("pool-controller", "Apply")]
    assert shared_client.field_manager == "kreconcile", "with_options leaves the original alone"


def test_field_validation_per_client_and_per_call(
    shared_kubeconfig: Path, namespace: str, caplog: pytest.LogCaptureFixture
) -> None:
    warnings = WarningLogger()
    strict = Client(
        RestConfig.from_kubeconfig(shared_kubeconfig), field_validation="Strict", warnings=warnings
    )
    with pytest.raises(BadRequest, match='strict decoding error: unknown field "spec"'):
        strict.create(_config_map(namespace, "strict", spec={"x": 1}))
    ignored = strict.create(
        _config_map(namespace, "ignored", spec={"x": 1}), field_validation="Ignore"
    )
    assert "spec" not in ignored and warnings.logged == 0

    caplog.set_level(logging.WARNING, logger="reconcile.client.warnings")
    lenient = strict.with_options(field_validation="Warn")
    for name in ("w1", "w2", "w3"):
        lenient.create(_config_map(namespace, name, spec={"x": 1}))
    texts = [
        r.__dict__["warning"] for r in caplog.records if r.getMessage() == "API server warning"
    ]
    assert texts == ['unknown field "spec"'], "a repeated warning is logged once"
    with pytest.raises(ValueError, match="field_validation must be one of Strict, Warn, Ignore"):
        strict.with_options(field_validation="Loud")


def test_dry_run_per_client_and_per_call(shared_client: Client, namespace: str) -> None:
    rehearsal = shared_client.with_options(dry_run=True)
    answered = rehearsal.create(_config_map(namespace, "dry"))
    assert answered["metadata"]["name"] == "dry"
    with pytest.raises(NotFound):
        shared_client.get(CONFIG_MAP, "dry", namespace)
    rehearsal.create(_config_map(namespace, "real"), dry_run=False)
    real = shared_client.get(CONFIG_MAP, "real", namespace)
    rehearsal.delete(real)
    rehearsal.patch(real, {"data": {"k": "changed"}})
    assert shared_client.get(CONFIG_MAP, "real", namespace)["data"] == {"k": "v"}


def test_namespaced_client_and_ignore_not_found(shared_client: Client, namespace: str) -> None:
    scoped = NamespacedClient(shared_client, namespace)
    scoped.create({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "n"}})
    assert scoped.get(CONFIG_MAP, "n")["metadata"]["namespace"] == namespace
    scoped.delete({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "n"}})
    with ignore_not_found():
        scoped.delete({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "n"}})
    with pytest.raises(NotFound):
        scoped.get(CONFIG_MAP, "n")
