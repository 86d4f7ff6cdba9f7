"""AdmissionReview requests to webhooks and the checks on their answers (kube's
``webhook/request`` package).

The request names the kind and resource the webhook matched (``kind``, ``resource``) and
those of the client's request (``requestKind``, ``requestResource``), which differ when a
``matchPolicy: Equivalent`` webhook is called with the object converted to the version it
registered for. The answer must be an ``admission.k8s.io/v1`` AdmissionReview with the
request's uid; only mutating webhooks may send a patch, always with ``patchType:
JSONPatch``. A denial becomes the Status the client sees, prefixed with
``admission webhook "<name>" denied the request``.
"""

from __future__ import annotations

import base64
import binascii
import json
import uuid
from dataclasses import dataclass, field
from typing import Any

from reconcile.apiserver.admission.matching import Attributes
from reconcile.apiserver.resources import ResourceInfo
from reconcile.apiserver.status import StatusError

__all__ = ["Answer", "InvalidAnswer", "denial", "review_request", "verify_answer"]

REVIEW_API_VERSION = "admission.k8s.io/v1"


class InvalidAnswer(Exception):
    """An answer that is not a valid AdmissionReview response."""


@dataclass(slots=True)
class Answer:
    """A verified webhook answer."""

    allowed: bool
    result: dict[str, Any] = field(default_factory=dict)
    patch: list[dict[str, Any]] | None = None
    warnings: list[str] = field(default_factory=list)


def _gvk(group: str, version: str, kind: str) -> dict[str, str]:
    return {"group": group, "version": version, "kind": kind}


def _gvr(info: ResourceInfo) -> dict[str, str]:
    return {"group": info.group, "version": info.version, "resource": info.resource}


def review_request(
    attributes: Attributes,
    matched: ResourceInfo,
    obj: dict[str, Any] | None,
    old: dict[str, Any] | None,
) -> dict[str, Any]:
    """The AdmissionReview for a webhook that matched the request as ``matched``."""
    requested = attributes.info
    kind = attributes.kind
    matched_kind = kind if attributes.subresource == "scale" else (
        matched.group, matched.version, matched.kind
    )  # fmt: skip
    request: dict[str, Any] = {
        "uid": str(uuid.uuid4()),
        "kind": _gvk(*matched_kind),
        "resource": _gvr(matched),
        "requestKind": _gvk(*kind),
        "requestResource": _gvr(requested),
        "name": attributes.name,
        "operation": attributes.operation,
        "userInfo": attributes.user.to_json(),
        "object": obj,
        "oldObject": old,
        "dryRun": attributes.dry_run,
        "options": attributes.options,
    }
    if attributes.subresource:
        request["subResource"] = attributes.subresource
        request["requestSubResource"] = attributes.subresource
    if attributes.namespace:
        request["namespace"] = attributes.namespace
    return {"apiVersion": REVIEW_API_VERSION, "kind": "AdmissionReview", "request": request}


def verify_answer(review: dict[str, Any], uid: str, *, mutating: bool) -> Answer:
    """The answer's response, checked as kube-apiserver checks it; InvalidAnswer if not."""
    response = review.get("response")
    if not isinstance(response, dict):
        raise InvalidAnswer("webhook response was absent")
    if response.get("uid") != uid:
        raise InvalidAnswer(f'expected response.uid="{uid}", got "{response.get("uid", "")}"')
    if (review.get("apiVersion"), review.get("kind")) != (REVIEW_API_VERSION, "AdmissionReview"):
        raise InvalidAnswer(
            "expected webhook response of admission.k8s.io/v1, Kind=AdmissionReview, got "
            f"{review.get('apiVersion')}, Kind={review.get('kind')}"
        )
    raw_patch, patch_type = response.get("patch"), response.get("patchType")
    patch = None
    if not mutating:
        if raw_patch:
            raise InvalidAnswer("validating webhook may not return response.patch")
        if patch_type is not None:
            raise InvalidAnswer("validating webhook may not return response.patchType")
    elif raw_patch or patch_type is not None:
        if raw_patch and patch_type is None:
            raise InvalidAnswer("webhook returned response.patch but not response.patchType")
        if not raw_patch:
            raise InvalidAnswer("webhook returned response.patchType but not response.patch")
        if patch_type != "JSONPatch":
            raise InvalidAnswer(f'unsupported patch type "{patch_type}"')
        try:
            patch = json.loads(base64.b64decode(str(raw_patch), validate=True))
        except (binascii.Error, ValueError) as error:
            raise InvalidAnswer(
                f"received undecodable patch in webhook response: {error}"
            ) from error
        if not isinstance(patch, list):
            raise InvalidAnswer("received undecodable patch in webhook response: not a list")
    result = response.get("status")
    return Answer(
        allowed=bool(response.get("allowed")),
        result=result if isinstance(result, dict) else {},
        patch=patch or None,
        warnings=[str(w) for w in response.get("warnings") or []],
    )


def denial(webhook: str, result: dict[str, Any]) -> StatusError:
    """The client's error for a webhook's refusal (kube's ``ToStatusErr``)."""
    denied_by = f'admission webhook "{webhook}" denied the request'
    code = int(result.get("code") or 0)
    code = max(code, 400)
    message = result.get("message") or result.get("reason")
    text = f"{denied_by}: {message}" if message else f"{denied_by} without explanation"
    reason = str(result.get("reason") or "")
    details = result.get("details") if isinstance(result.get("details"), dict) else None
    return StatusError(code, reason, text, details)
