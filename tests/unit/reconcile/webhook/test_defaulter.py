"""CustomDefaulter through its handler: a patch of exactly the defaulted fields."""

from __future__ import annotations

from typing import Any

from reconcile.gvk import GroupVersionKind, GroupVersionResource
from reconcile.webhook import AdmissionRequest, DefaulterHandler


class Tier:
    def __init__(self) -> None:
        self.calls = 0

    def default(self, obj: dict[str, Any]) -> None:
        self.calls += 1
        obj.setdefault("spec", {}).setdefault("tier", "standard")


def _request(operation: str, obj: Any) -> AdmissionRequest:
    return AdmissionRequest(
        uid="u",
        kind=GroupVersionKind("example.com", "v1", "Gadget"),
        resource=GroupVersionResource("example.com", "v1", "gadgets"),
        operation=operation,
        object=obj,
    )


def test_defaults_become_a_patch_and_the_request_object_is_untouched() -> None:
    obj = {"spec": {"size": 1}}
    response = DefaulterHandler(Tier()).handle(_request("CREATE", obj))
    assert response.allowed
    assert response.patches == [{"op": "add", "path": "/spec/tier", "value": "standard"}]
    assert obj == {"spec": {"size": 1}}


def test_nothing_to_default_is_no_patch() -> None:
    response = DefaulterHandler(Tier()).handle(_request("UPDATE", {"spec": {"tier": "gold"}}))
    assert response.allowed and response.patches == []


def test_delete_is_allowed_without_calling_the_defaulter() -> None:
    tier = Tier()
    response = DefaulterHandler(tier).handle(_request("DELETE", None))
    assert response.allowed and tier.calls == 0
