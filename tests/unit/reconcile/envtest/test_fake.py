"""The fake client keeps the embedded server's semantics, and interceptors reach error paths."""

from __future__ import annotations

from typing import Any

import pytest
import yaml

from reconcile.client import APPLY_PATCH, JSON_PATCH, NoKindMatch
from reconcile.envtest import FakeClient, Interceptors
from reconcile.errors import AlreadyExists, Conflict, Invalid, NotFound, UnsupportedMediaType
from reconcile.gvk import GroupVersionKind, PartialObjectMetadata
from tests.integration.apiserver.manifests import WIDGET_CRD

WIDGET = GroupVersionKind("example.com", "v1", "Widget")
CONFIG_MAP = GroupVersionKind("", "v1", "ConfigMap")


def _widget(name: str, size: int = 3, **meta: Any) -> dict[str, Any]:
    return {
        "apiVersion": "example.com/v1",
        "kind": "Widget",
        "metadata": {"name": name, "namespace": "ns", **meta},
        "spec": {"size": size},
        "status": {"phase": "Ready"},
    }


@pytest.fixture
def fake() -> FakeClient:
    return FakeClient(crds=[yaml.safe_load(WIDGET_CRD)], objects=[_widget("w1")])


def test_server_rules_apply(fake: FakeClient) -> None:
    stored = fake.get(WIDGET, "w1", "ns")
    meta = stored["metadata"]
    assert meta["uid"] and meta["creationTimestamp"] and meta["generation"] == 1
    assert stored["spec"] == {"size": 3, "color": "red"}, "schema defaults are applied"
    assert stored["status"] == {"phase": "Ready"}, "seeded status is written via /status"

    stale = dict(stored)
    stored["metadata"]["labels"] = {"seen": "yes"}
    updated = fake.update(stored)
    assert updated["metadata"]["generation"] == 1, "metadata edits do not bump generation"
    with pytest.raises(Conflict, match="the object has been modified"):
        fake.update(stale)

    updated["spec"]["size"] = 4
    updated["status"] = {"phase": "ignored on the main resource"}
    bumped = fake.update(updated)
    assert bumped["metadata"]["generation"] == 2
    assert bumped["status"] == {"phase": "Ready"}

    with pytest.raises(Invalid) as invalid:
        fake.create(_widget("w2", size=99))
    assert invalid.value.causes[0].field == "spec.size"
    with pytest.raises(AlreadyExists):
        fake.create(_widget("w1"))


def test_patches_and_server_side_apply(fake: FakeClient) -> None:
    widget = fake.get(WIDGET, "w1", "ns")
    patched = fake.patch(
        widget, [{"op": "replace", "path": "/spec/size", "value": 5}], patch_type=JSON_PATCH
    )
    assert patched["spec"]["size"] == 5
    with pytest.raises(UnsupportedMediaType):
        fake.patch(widget, {"spec": {}}, patch_type="application/strategic-merge-patch+json")
    with pytest.raises(Conflict, match='conflict with "kreconcile"'):
        fake.apply(widget | {"spec": {"size": 1}}, field_manager="team-a")
    desired = {"apiVersion": "example.com/v1", "kind": "Widget",
               "metadata": {"name": "w-applied", "namespace": "ns"}, "spec": {"size": 6}}  # fmt: skip
    applied = fake.apply(desired, field_manager="team-a")
    assert applied["spec"]["size"] == 6
    assert applied["metadata"]["managedFields"][0]["manager"] == "team-a"
    with pytest.raises(Conflict, match="conflict"):
        fake.patch(desired | {"spec": {"size": 7}}, desired | {"spec": {"size": 7}},
                   patch_type=APPLY_PATCH, field_manager="team-b")  # fmt: skip
    assert (
        fake.apply(desired | {"spec": {"size": 7}}, field_manager="team-b", force=True)["spec"][
            "size"
        ]
        == 7
    )


def test_list_selectors_pages_and_metadata_only(fake: FakeClient) -> None:
    for i in range(5):
        fake.create({"apiVersion": "v1", "kind": "ConfigMap",
                     "metadata": {"name": f"c{i}", "namespace": "ns", "labels": {"odd": str(i % 2)}},
                     "data": {"big": "x" * 100}})  # fmt: skip
    odd = fake.list(CONFIG_MAP, namespace="ns", label_selector={"odd": "1"})
    assert [o["metadata"]["name"] for o in odd["items"]] == ["c1", "c3"]
    first = fake.list(CONFIG_MAP, namespace="ns", limit=2)
    rest = fake.list(CONFIG_MAP, namespace="ns", continue_token=first["metadata"]["continue"])
    assert [o["metadata"]["name"] for o in first["items"] + rest["items"]] == [
        f"c{i}" for i in range(5)
    ]
    partial = fake.list(PartialObjectMetadata(CONFIG_MAP), namespace="ns")
    assert set(partial["items"][0]) == {"apiVersion", "kind", "metadata"}
    assert fake.get(PartialObjectMetadata(CONFIG_MAP), "c0", "ns")["kind"] == "ConfigMap"


def test_deletion_with_finalizers_marks_then_removes(fake: FakeClient) -> None:
    fake.create(_widget("held", finalizers=["example.com/keep"]))
    fake.delete(fake.get(WIDGET, "held", "ns"))
    held = fake.get(WIDGET, "held", "ns")
    assert held["metadata"]["deletionTimestamp"]
    held["metadata"]["finalizers"] = []
    fake.update(held)
    with pytest.raises(NotFound):
        fake.get(WIDGET, "held", "ns")


def test_unknown_kinds_say_to_pass_the_crd() -> None:
    with pytest.raises(NoKindMatch, match="FakeClient\\(crds="):
        FakeClient().get(WIDGET, "w1", "ns")


def test_interceptors_replace_verbs_and_may_delegate(fake: FakeClient) -> None:
    calls: list[str] = []

    def update(client: FakeClient, obj: dict[str, Any], **options: Any) -> dict[str, Any]:
        calls.append(options.get("subresource") or "main")
        if len(calls) == 1:
            raise Conflict("injected conflict")
        interceptors, client.interceptors = client.interceptors, Interceptors()
        try:
            return client.update(obj, **options)
        finally:
            client.interceptors = interceptors

    fake.interceptors = Interceptors(update=update)
    widget = fake.get(WIDGET, "w1", "ns")
    widget["status"]["phase"] = "Degraded"
    with pytest.raises(Conflict, match="injected"):
        fake.status().update(widget)
    assert fake.status().update(widget)["status"]["phase"] == "Degraded"
    assert calls == ["status", "status"]
