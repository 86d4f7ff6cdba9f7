"""komega-style waiting helpers, over the fake client."""

from __future__ import annotations

import threading
from typing import Any

import pytest

from reconcile.envtest import FakeClient, Interceptors, Komega
from reconcile.envtest.komega import matches
from reconcile.errors import Conflict
from reconcile.gvk import GroupVersionKind

CONFIG_MAP = GroupVersionKind("", "v1", "ConfigMap")


def _config_map(**data: str) -> dict[str, Any]:
    return {"apiVersion": "v1", "kind": "ConfigMap",
            "metadata": {"name": "c", "namespace": "ns"}, "data": dict(data)}  # fmt: skip


def test_eventually_has_a_path_a_partial_object_or_a_predicate() -> None:
    fake = FakeClient(objects=[_config_map(phase="Pending")])
    k = Komega(fake, timeout=10, interval=0.01)
    changed = threading.Event()

    def change_later() -> None:
        changed.wait(10)
        current = fake.get(CONFIG_MAP, "c", "ns")
        current["data"] = {"phase": "Running", "ready": "3"}
        current["metadata"]["labels"] = {"app": "web", "tier": "a"}
        fake.update(current)

    thread = threading.Thread(target=change_later, daemon=True)
    thread.start()
    assert k.eventually(_config_map()).has("data.phase", "Pending")["data"] == {"phase": "Pending"}
    changed.set()
    seen = k.eventually(_config_map()).has("data.phase", "Running")
    assert seen["data"]["ready"] == "3"
    k.eventually((CONFIG_MAP, "c", "ns")).has({"metadata": {"labels": {"app": "web"}}})
    k.eventually(_config_map()).has(lambda cm: int(cm["data"]["ready"]) >= 3)
    k.eventually(_config_map()).has("metadata.uid")
    thread.join(10)


def test_failure_says_what_was_expected_and_what_was_seen() -> None:
    k = Komega(FakeClient(objects=[_config_map(phase="Pending")]), timeout=0.05, interval=0.01)
    with pytest.raises(AssertionError, match=r"ConfigMap ns/c data\.phase == 'Running'; last seen"):
        k.eventually(_config_map()).has("data.phase", "Running")
    with pytest.raises(AssertionError, match=r"ConfigMap ns/missing .* it does not exist"):
        k.eventually((CONFIG_MAP, "missing", "ns")).exists()


def test_partial_lists_match_elements() -> None:
    conditions = {"conditions": [{"type": "Ready", "status": "True", "reason": "Up"}]}
    assert matches(conditions, {"conditions": [{"type": "Ready", "status": "True"}]})
    assert not matches(conditions, {"conditions": [{"type": "Ready", "status": "False"}]})
    assert not matches({"conditions": []}, {"conditions": [{"type": "Ready"}]})


def test_is_gone_and_consistently() -> None:
    fake = FakeClient(objects=[_config_map(phase="Running")])
    k = Komega(fake, timeout=10, interval=0.01)
    assert k.consistently(_config_map(), duration=0.05).has("data.phase", "Running")
    fake.delete(_config_map())
    k.eventually(_config_map()).is_gone()
    with pytest.raises(AssertionError, match="does not exist"):
        k.consistently(_config_map(), duration=0.05).has("data.phase", "Running")


def test_update_retries_on_conflict() -> None:
    conflicts = [Conflict("stale")]

    def update(client: FakeClient, obj: dict[str, Any], **options: Any) -> dict[str, Any]:
        if conflicts:
            raise conflicts.pop()
        return client._update(obj, options, options.get("subresource", ""))

    fake = FakeClient(
        objects=[_config_map(phase="Pending")], interceptors=Interceptors(update=update)
    )
    stored = Komega(fake).update(_config_map(), lambda cm: cm["data"].update(phase="Done"))
    assert stored["data"]["phase"] == "Done" and conflicts == []
