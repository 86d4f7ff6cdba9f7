"""Custom resources between the served versions of their CRD (``spec.conversion``).

Objects are kept in the version they were written in by the storage layer's rules; a read
or write in another version converts them:

- strategy ``None`` (the default): only ``apiVersion`` changes, every field is kept as is;
- strategy ``Webhook``: the CRD's conversion webhook gets an ``apiextensions.k8s.io/v1``
  ConversionReview with every object to convert (a list page is one review) and must
  answer each in the desired version; it may change labels and annotations but no other
  metadata, which is restored from the original. A failed call or a bad answer is a 500
  naming the webhook, as kube-apiserver answers.

Built-in kinds served in two versions (Events, HorizontalPodAutoscalers) keep their own
mapping (``conversion.py``).
"""

from __future__ import annotations

import uuid
from typing import Any

from reconcile.apiserver.admission.caller import CallError, WebhookCaller
from reconcile.apiserver.conversion import from_storage, to_storage
from reconcile.apiserver.registry import Registry
from reconcile.apiserver.resources import ResourceInfo
from reconcile.apiserver.status import StatusError

__all__ = ["Versions", "webhook_converted"]

_REVIEW = "apiextensions.k8s.io/v1"
_TIMEOUT = 30.0
"""kube-apiserver's conversion webhook timeout (not configurable in the CRD)."""
_METADATA_KEPT = ("labels", "annotations")


def _conversion(info: ResourceInfo) -> dict[str, Any]:
    conversion = info.extra.get("conversion")
    return conversion if isinstance(conversion, dict) else {}


def webhook_converted(info: ResourceInfo) -> bool:
    """Whether objects of ``info``'s CRD convert through a webhook."""
    return info.custom and _conversion(info).get("strategy") == "Webhook"


def _failed(kind: str, reason: str) -> StatusError:
    return StatusError(
        500,
        "InternalError",
        f"Internal error occurred: conversion webhook for {kind} failed: {reason}",
    )


class Versions:
    """Converts objects to a served version; one per API server, on its event loop."""

    def __init__(self, registry: Registry, caller: WebhookCaller) -> None:
        self._registry = registry
        self._caller = caller

    def storage_info(self, info: ResourceInfo) -> ResourceInfo:
        return self._registry.storage_info(info.group, info.resource) or info

    async def one(self, obj: dict[str, Any], target: ResourceInfo) -> dict[str, Any]:
        return (await self.convert([obj], target))[0]

    async def convert(
        self, objs: list[dict[str, Any]], target: ResourceInfo
    ) -> list[dict[str, Any]]:
        """Each object in ``target``'s version (objects already in it are returned as is)."""
        wanted = target.api_version
        pending = [i for i, o in enumerate(objs) if o.get("apiVersion") != wanted]
        if not pending:
            return objs
        if not target.custom:
            return [self._builtin(o, target) if i in pending else o for i, o in enumerate(objs)]
        if not webhook_converted(target):
            return [
                {**o, "apiVersion": wanted} if o.get("apiVersion") != wanted else o for o in objs
            ]
        converted = await self._webhook([objs[i] for i in pending], target)
        out = list(objs)
        for index, obj in zip(pending, converted, strict=True):
            out[index] = obj
        return out

    def _builtin(self, obj: dict[str, Any], target: ResourceInfo) -> dict[str, Any]:
        group, _, version = str(obj.get("apiVersion", "")).rpartition("/")
        source = self._registry.by_kind(group, version, str(obj.get("kind", ""))) or target
        return from_storage(target, to_storage(source, obj))

    async def _webhook(
        self, objs: list[dict[str, Any]], target: ResourceInfo
    ) -> list[dict[str, Any]]:
        webhook = _conversion(target).get("webhook") or {}
        first = objs[0]
        kind = f"{first.get('apiVersion')}, Kind={first.get('kind')}"
        uid = str(uuid.uuid4())
        review = {
            "apiVersion": _REVIEW,
            "kind": "ConversionReview",
            "request": {"uid": uid, "desiredAPIVersion": target.api_version, "objects": objs},
        }
        try:
            answer = await self._caller.post(webhook.get("clientConfig") or {}, review, _TIMEOUT)
        except CallError as error:
            raise _failed(kind, str(error)) from None
        return _converted(answer, uid, objs, target, kind)


def _converted(
    answer: dict[str, Any],
    uid: str,
    objs: list[dict[str, Any]],
    target: ResourceInfo,
    kind: str,
) -> list[dict[str, Any]]:
    """The answer's objects, checked, with the originals' metadata restored."""
    response = answer.get("response")
    if not isinstance(response, dict):
        raise _failed(kind, "the ConversionReview answer has no response")
    if response.get("uid") != uid:
        raise _failed(kind, f'expected response.uid="{uid}", got "{response.get("uid", "")}"')
    result = response.get("result") or {}
    if result.get("status") != "Success":
        raise _failed(kind, f"conversion webhook returned failure: {result.get('message', '')}")
    converted = response.get("convertedObjects")
    if not isinstance(converted, list) or len(converted) != len(objs):
        got = len(converted) if isinstance(converted, list) else 0
        raise _failed(kind, f"returned {got} objects, expected {len(objs)}")
    out = []
    for index, (original, obj) in enumerate(zip(objs, converted, strict=True)):
        if not isinstance(obj, dict) or obj.get("apiVersion") != target.api_version:
            version = obj.get("apiVersion") if isinstance(obj, dict) else None
            raise _failed(
                kind,
                f"invalid converted object at index {index}: invalid apiVersion "
                f'"{version}", expected "{target.api_version}"',
            )
        if obj.get("kind") != original.get("kind"):
            raise _failed(kind, f"invalid converted object at index {index}: invalid kind")
        metadata = dict(original.get("metadata") or {})
        new_metadata = obj.get("metadata") or {}
        for key in _METADATA_KEPT:
            if key in new_metadata:
                metadata[key] = new_metadata[key]
            else:
                metadata.pop(key, None)
        out.append({**obj, "metadata": metadata})
    return out
