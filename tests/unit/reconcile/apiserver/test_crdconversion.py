"""Custom resources between versions: strategy None rewrites apiVersion only, and a
conversion webhook's answer is checked and its metadata restored as kube-apiserver does."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from reconcile.apiserver.admission.caller import WebhookCaller
from reconcile.apiserver.crdconversion import Versions, _converted, webhook_converted
from reconcile.apiserver.registry import Registry, infos_from_crd
from reconcile.apiserver.status import StatusError


def _crd(conversion: dict[str, Any] | None) -> dict[str, Any]:
    schema = {"openAPIV3Schema": {"type": "object", "x-kubernetes-preserve-unknown-fields": True}}
    spec: dict[str, Any] = {
        "group": "example.com", "scope": "Namespaced",
        "names": {"plural": "widgets", "kind": "Widget"},
        "versions": [{"name": "v1", "served": True, "storage": True, "schema": schema},
                     {"name": "v2", "served": True, "storage": False, "schema": schema}],
    }  # fmt: skip
    if conversion is not None:
        spec["conversion"] = conversion
    return {"metadata": {"name": "widgets.example.com"}, "spec": spec}


def _widget(version: str) -> dict[str, Any]:
    return {"apiVersion": f"example.com/{version}", "kind": "Widget",
            "metadata": {"name": "w", "uid": "1", "labels": {"a": "b"}}, "spec": {"x": 1}}  # fmt: skip


def test_strategy_none_rewrites_the_api_version_only() -> None:
    registry = Registry(())
    infos = infos_from_crd(_crd(None))
    registry.register_crd("widgets.example.com", infos)
    v2 = next(i for i in infos if i.version == "v2")
    assert not webhook_converted(v2)
    converted = asyncio.run(Versions(registry, WebhookCaller()).convert([_widget("v1")], v2))
    assert converted == [{**_widget("v1"), "apiVersion": "example.com/v2"}]
    assert webhook_converted(next(i for i in infos_from_crd(_crd({"strategy": "Webhook"}))))


def _answer(objects: list[dict[str, Any]], **changes: Any) -> dict[str, Any]:
    response = {"uid": "u", "result": {"status": "Success"}, "convertedObjects": objects}
    return {"response": {**response, **changes}}


V2 = next(i for i in infos_from_crd(_crd(None)) if i.version == "v2")


def test_metadata_is_restored_but_for_labels_and_annotations() -> None:
    answer = _widget("v2")
    answer["metadata"] = {"name": "renamed", "uid": "2", "labels": {"c": "d"}}
    (converted,) = _converted(_answer([answer]), "u", [_widget("v1")], V2, "Widget")
    assert converted["metadata"] == {"name": "w", "uid": "1", "labels": {"c": "d"}}


@pytest.mark.parametrize(
    ("answer", "message"),
    [
        pytest.param({}, "has no response", id="absent"),
        pytest.param(_answer([_widget("v2")], uid="x"), 'expected response.uid="u"', id="uid"),
        pytest.param(_answer([], result={"status": "Failure", "message": "bad"}),
                     "returned failure: bad", id="failure"),
        pytest.param(_answer([]), "returned 0 objects, expected 1", id="count"),
        pytest.param(_answer([_widget("v1")]), 'invalid apiVersion "example.com/v1"',
                     id="version"),
        pytest.param(_answer([{**_widget("v2"), "kind": "Gizmo"}]), "invalid kind", id="kind"),
    ],
)  # fmt: skip
def test_bad_answers_are_500s_naming_the_conversion(answer: dict[str, Any], message: str) -> None:
    with pytest.raises(StatusError) as error:
        _converted(answer, "u", [_widget("v1")], V2, "example.com/v1, Kind=Widget")
    assert error.value.code == 500
    assert error.value.message.startswith(
        "Internal error occurred: conversion webhook for example.com/v1, Kind=Widget failed: "
    )
    assert message in error.value.message
