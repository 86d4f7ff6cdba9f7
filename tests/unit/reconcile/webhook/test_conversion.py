"""Hub-and-spoke conversion: any version to any other through the hub, metadata kept but
for labels and annotations, and a review converted whole or failed naming why."""

from __future__ import annotations

import json
from typing import Any

import pytest

from reconcile.gvk import GroupVersionKind
from reconcile.webhook import ConversionWebhook, Spoke


def _rename(old: str, new: str) -> Any:
    def convert(obj: dict[str, Any]) -> dict[str, Any]:
        spec = obj.get("spec", {})
        obj["spec"] = {new if k == old else k: v for k, v in spec.items()}
        obj["metadata"] = {**obj["metadata"], "uid": "changed", "labels": {"seen": old}}
        return obj

    return convert


@pytest.fixture
def webhook() -> ConversionWebhook:
    webhook = ConversionWebhook()
    webhook.register(
        GroupVersionKind("example.com", "v2", "Widget"),
        {
            "v1": Spoke(to_hub=_rename("count", "size"), from_hub=_rename("size", "count")),
            "v3": Spoke(to_hub=_rename("amount", "size"), from_hub=_rename("size", "amount")),
        },
    )
    return webhook


def _widget(version: str, **spec: Any) -> dict[str, Any]:
    return {"apiVersion": f"example.com/{version}", "kind": "Widget",
            "metadata": {"name": "w", "uid": "1"}, "spec": spec}  # fmt: skip


@pytest.mark.parametrize(
    ("source", "target", "expected"),
    [
        pytest.param(_widget("v1", count=3), "v2", {"size": 3}, id="spoke-to-hub"),
        pytest.param(_widget("v2", size=3), "v3", {"amount": 3}, id="hub-to-spoke"),
        pytest.param(_widget("v1", count=3), "v3", {"amount": 3}, id="spoke-to-spoke-via-hub"),
        pytest.param(_widget("v3", amount=3), "v3", {"amount": 3}, id="same-version"),
    ],
)
def test_any_version_converts_to_any_other(
    webhook: ConversionWebhook, source: dict[str, Any], target: str, expected: dict[str, Any]
) -> None:
    converted = webhook.convert(source, f"example.com/{target}")
    assert converted["apiVersion"] == f"example.com/{target}"
    assert converted["spec"] == expected
    assert converted["metadata"]["uid"] == "1"  # only labels and annotations may change
    if source["apiVersion"] != converted["apiVersion"]:
        assert "seen" in converted["metadata"]["labels"]


def _review(objects: list[dict[str, Any]], desired: str) -> bytes:
    return json.dumps(
        {
            "apiVersion": "apiextensions.k8s.io/v1",
            "kind": "ConversionReview",
            "request": {"uid": "r1", "desiredAPIVersion": desired, "objects": objects},
        }
    ).encode()


def test_review_converts_every_object(webhook: ConversionWebhook) -> None:
    reply = webhook.serve_http(
        _review([_widget("v1", count=1), _widget("v3", amount=2)], "example.com/v2"),
        "application/json",
    )
    response = json.loads(reply.body)["response"]
    assert response["uid"] == "r1" and response["result"] == {"status": "Success"}
    assert [o["spec"] for o in response["convertedObjects"]] == [{"size": 1}, {"size": 2}]


@pytest.mark.parametrize(
    ("objects", "desired", "message"),
    [
        pytest.param([_widget("v9", size=1)], "example.com/v2", "version v9 is neither the hub",
                     id="unknown-version"),
        pytest.param([_widget("v1")], "other.io/v2", "cannot convert Widget from group",
                     id="other-group"),
        pytest.param([{**_widget("v1"), "kind": "Gizmo"}], "example.com/v2",
                     "no conversion registered for Gizmo.example.com", id="unknown-kind"),
    ],
)  # fmt: skip
def test_failure_names_why(
    webhook: ConversionWebhook, objects: list[dict[str, Any]], desired: str, message: str
) -> None:
    reply = webhook.serve_http(_review(objects, desired), "application/json")
    result = json.loads(reply.body)["response"]["result"]
    assert result["status"] == "Failure" and message in result["message"]
    assert not reply.panicked


def test_a_converter_bug_is_a_failure_counted_as_a_panic() -> None:
    def broken(obj: dict[str, Any]) -> dict[str, Any]:
        raise KeyError("spec")

    webhook = ConversionWebhook()
    webhook.register(GroupVersionKind("example.com", "v2", "Widget"),
                     {"v1": Spoke(to_hub=broken, from_hub=broken)})  # fmt: skip
    reply = webhook.serve_http(_review([_widget("v1")], "example.com/v2"), "application/json")
    assert reply.panicked
    assert json.loads(reply.body)["response"]["result"]["status"] == "Failure"


def test_registration_mistakes_are_refused() -> None:
    webhook = ConversionWebhook()
    hub = GroupVersionKind("example.com", "v2", "Widget")
    spoke = Spoke(to_hub=lambda o: o, from_hub=lambda o: o)
    with pytest.raises(ValueError, match="cannot be a spoke too"):
        webhook.register(hub, {"v2": spoke})
    with pytest.raises(ValueError, match="at least one spoke"):
        webhook.register(hub, {})
    webhook.register(hub, {"v1": spoke})
    with pytest.raises(ValueError, match="already registered"):
        webhook.register(hub, {"v1": spoke})
