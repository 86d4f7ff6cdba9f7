"""CRD conversion (``apiextensions.k8s.io/v1`` ConversionReview) from hub and spoke
functions, as controller-runtime's ``conversion`` package does it.

One version of a kind is the hub; every other version (a spoke) says how to convert itself
to the hub and back. Any version then converts to any other through the hub, so n versions
need 2(n-1) functions, not n(n-1). Functions take and return raw object dicts; the handler
sets ``apiVersion`` itself and keeps ``metadata`` as it came, except labels and annotations
(the API server refuses any other metadata change from a conversion webhook).

A review is converted whole or not at all: one object that fails makes the answer a
``Failure`` naming it, and the API server answers its client with a 500 mentioning the
conversion webhook. An exception of a class other than ``KreconcileError`` is a bug and is
counted as a panic as well.

Usage::

    conversion = ConversionWebhook()
    conversion.register(WIDGET_V1ALPHA1, {"v1beta1": Spoke(to_hub=up, from_hub=down)})
    server.register("/convert", conversion)
"""

from __future__ import annotations

import copy
import json
import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from reconcile.errors import KreconcileError
from reconcile.gvk import GroupVersionKind
from reconcile.webhook.server import HTTPReply

__all__ = ["ConversionWebhook", "Spoke"]

log = logging.getLogger(__name__)

Convert = Callable[[dict[str, Any]], dict[str, Any]]
_REVIEW_VERSIONS = ("apiextensions.k8s.io/v1", "apiextensions.k8s.io/v1beta1")
_KEPT_METADATA = ("labels", "annotations")


@dataclass(frozen=True, slots=True)
class Spoke:
    """How one non-hub version converts to the hub version and back."""

    to_hub: Convert
    """This version's object -> the hub version's (apiVersion is set by the caller)."""
    from_hub: Convert
    """The hub version's object -> this version's."""


@dataclass(frozen=True, slots=True)
class _Kind:
    hub: str
    spokes: Mapping[str, Spoke]


class _Failure(Exception):
    pass


class ConversionWebhook:
    """The ``/convert`` handler: every kind registered with a hub and its spokes."""

    def __init__(self) -> None:
        self._kinds: dict[tuple[str, str], _Kind] = {}

    def register(self, hub: GroupVersionKind, spokes: Mapping[str, Spoke]) -> None:
        """Convert ``hub.kind`` between ``hub.version`` and each version of ``spokes``."""
        if hub.version in spokes:
            raise ValueError(f"{hub.version} is the hub of {hub.kind}; it cannot be a spoke too")
        if not spokes:
            raise ValueError(f"{hub.kind} needs at least one spoke version to convert")
        key = (hub.group, hub.kind)
        if key in self._kinds:
            raise ValueError(f"conversion of {hub.kind}.{hub.group} is already registered")
        self._kinds[key] = _Kind(hub.version, dict(spokes))

    def convertible(self, group: str, kind: str) -> bool:
        return (group, kind) in self._kinds

    def convert(self, obj: dict[str, Any], desired_api_version: str) -> dict[str, Any]:
        """``obj`` in ``desired_api_version``; raises _Failure with a message."""
        source = GroupVersionKind.of_object(obj)
        target = GroupVersionKind.from_api_version(desired_api_version, source.kind)
        if source.group != target.group:
            raise _Failure(
                f"cannot convert {source.kind} from group {source.group!r} to {target.group!r}"
            )
        if source.version == target.version:
            return copy.deepcopy(obj)
        conversion = self._kinds.get((source.group, source.kind))
        if conversion is None:
            raise _Failure(f"no conversion registered for {source.kind}.{source.group}")
        hub_obj = (
            obj
            if source.version == conversion.hub
            else self._spoke(conversion, source.version).to_hub(copy.deepcopy(obj))
        )
        if target.version == conversion.hub:
            converted = hub_obj
        else:
            converted = self._spoke(conversion, target.version).from_hub(copy.deepcopy(hub_obj))
        return _finish(obj, converted, desired_api_version)

    @staticmethod
    def _spoke(conversion: _Kind, version: str) -> Spoke:
        spoke = conversion.spokes.get(version)
        if spoke is None:
            raise _Failure(
                f"version {version} is neither the hub ({conversion.hub}) nor a registered "
                f"spoke ({', '.join(sorted(conversion.spokes))})"
            )
        return spoke

    def serve_http(self, body: bytes, content_type: str) -> HTTPReply:
        try:
            review = json.loads(body)
            if not isinstance(review, dict) or review.get("kind") != "ConversionReview":
                raise ValueError("expected a ConversionReview")
            api_version = str(review.get("apiVersion"))
            if api_version not in _REVIEW_VERSIONS:
                raise ValueError(f"unsupported ConversionReview version {api_version}")
            request = review.get("request") or {}
            uid = str(request["uid"])
            desired = str(request["desiredAPIVersion"])
            objects = list(request.get("objects") or [])
        except (ValueError, KeyError, TypeError) as error:
            return HTTPReply(400, f"invalid ConversionReview: {error}\n".encode())
        response: dict[str, Any] = {"uid": uid}
        panicked = False
        try:
            response["convertedObjects"] = [self.convert(o, desired) for o in objects]
            response["result"] = {"status": "Success"}
        except (_Failure, KreconcileError, ValueError) as error:
            response["convertedObjects"] = []
            response["result"] = {"status": "Failure", "message": str(error)}
        except Exception as error:
            log.exception("conversion webhook panicked", extra={"uid": uid, "to": desired})
            panicked = True
            response["convertedObjects"] = []
            response["result"] = {"status": "Failure", "message": f"panic: {error} [recovered]"}
        body_out = {"apiVersion": api_version, "kind": "ConversionReview", "response": response}
        return HTTPReply(200, json.dumps(body_out, separators=(",", ":")).encode(), panicked)


def _finish(
    original: dict[str, Any], converted: dict[str, Any], api_version: str
) -> dict[str, Any]:
    """apiVersion set, metadata the original's but for labels and annotations."""
    result = {**converted, "apiVersion": api_version, "kind": original.get("kind")}
    metadata = dict(original.get("metadata") or {})
    new_metadata = converted.get("metadata") or {}
    for key in _KEPT_METADATA:
        if key in new_metadata:
            metadata[key] = new_metadata[key]
        else:
            metadata.pop(key, None)
    result["metadata"] = metadata
    return result
