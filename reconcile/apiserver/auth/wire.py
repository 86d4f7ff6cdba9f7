"""Request bodies of the review APIs: JSON, YAML, or the protobuf kubectl sends.

kubectl's typed clients post ``TokenRequest`` (``kubectl create token``),
``SelfSubjectAccessReview`` (``auth can-i``), ``SelfSubjectRulesReview`` (``can-i --list``)
and ``SelfSubjectReview`` (``auth whoami``) as ``application/vnd.kubernetes.protobuf``. The
messages below carry the field numbers of Kubernetes' published ``authentication/v1`` and
``authorization/v1`` protobuf definitions; the envelope and wire format are the ones the
object decoder reads (``protobuf.py``). Fields these tables do not know are refused, never
dropped.
"""

from __future__ import annotations

import json
from typing import Any

import yaml

from reconcile.apiserver.protobuf import MAGIC, UnsupportedProtobuf, _fields
from reconcile.apiserver.status import StatusError, bad_request

__all__ = ["decode_body"]

_Field = tuple[str, str, bool]
_META: dict[int, _Field] = {
    1: ("name", "string", False), 2: ("generateName", "string", False),
    3: ("namespace", "string", False), 5: ("uid", "string", False),
    6: ("resourceVersion", "string", False),
}  # fmt: skip
_STATUS: _Field = ("status", "skip", False)
"""The status a client sends along (empty from kubectl) is the server's to compute."""
_MESSAGES: dict[str, dict[int, _Field]] = {
    "ObjectMeta": _META,
    "TokenRequest": {
        1: ("metadata", "ObjectMeta", False), 2: ("spec", "TokenRequestSpec", False), 3: _STATUS,
    },
    "TokenRequestSpec": {
        1: ("audiences", "string", True), 3: ("boundObjectRef", "BoundObjectReference", False),
        4: ("expirationSeconds", "int", False),
    },
    "BoundObjectReference": {
        1: ("kind", "string", False), 2: ("apiVersion", "string", False),
        3: ("name", "string", False), 4: ("uid", "string", False),
    },
    "TokenReview": {
        1: ("metadata", "ObjectMeta", False), 2: ("spec", "TokenReviewSpec", False), 3: _STATUS,
    },
    "TokenReviewSpec": {1: ("token", "string", False), 2: ("audiences", "string", True)},
    "SelfSubjectReview": {1: ("metadata", "ObjectMeta", False), 2: _STATUS},
    "SelfSubjectAccessReview": {
        1: ("metadata", "ObjectMeta", False), 3: _STATUS,
        2: ("spec", "SelfSubjectAccessReviewSpec", False),
    },
    "SelfSubjectAccessReviewSpec": {
        1: ("resourceAttributes", "ResourceAttributes", False),
        2: ("nonResourceAttributes", "NonResourceAttributes", False),
    },
    "SubjectAccessReview": {
        1: ("metadata", "ObjectMeta", False), 3: _STATUS,
        2: ("spec", "SubjectAccessReviewSpec", False),
    },
    "LocalSubjectAccessReview": {
        1: ("metadata", "ObjectMeta", False), 3: _STATUS,
        2: ("spec", "SubjectAccessReviewSpec", False),
    },
    "SubjectAccessReviewSpec": {
        1: ("resourceAttributes", "ResourceAttributes", False),
        2: ("nonResourceAttributes", "NonResourceAttributes", False),
        3: ("user", "string", False), 4: ("groups", "string", True),
        5: ("extra", "map:ExtraValue", False), 6: ("uid", "string", False),
    },
    "ResourceAttributes": {
        1: ("namespace", "string", False), 2: ("verb", "string", False),
        3: ("group", "string", False), 4: ("version", "string", False),
        5: ("resource", "string", False), 6: ("subresource", "string", False),
        7: ("name", "string", False),
    },
    "NonResourceAttributes": {1: ("path", "string", False), 2: ("verb", "string", False)},
    "SelfSubjectRulesReview": {
        1: ("metadata", "ObjectMeta", False), 3: _STATUS,
        2: ("spec", "SelfSubjectRulesReviewSpec", False),
    },
    "SelfSubjectRulesReviewSpec": {1: ("namespace", "string", False)},
}  # fmt: skip


def _decode(name: str, data: bytes) -> dict[str, Any]:
    table = _MESSAGES[name]
    result: dict[str, Any] = {}
    for number, _, value in _fields(data):
        field = table.get(number)
        if field is None:
            if value in (0, b""):
                continue  # an empty field the Go encoder always writes
            raise UnsupportedProtobuf(
                f"protobuf field {number} of {name} is not supported by this API server; "
                "send the object as JSON instead"
            )
        key, kind, repeated = field
        if kind == "skip":
            continue
        if kind == "map:ExtraValue":
            entry = {n: v for n, _, v in _fields(bytes(value))}
            items = [bytes(v).decode() for n, _, v in _fields(bytes(entry.get(2, b""))) if n == 1]
            result.setdefault(key, {})[bytes(entry.get(1, b"")).decode()] = items
        elif kind == "string":
            text = bytes(value).decode()
            if repeated:
                result.setdefault(key, []).append(text)
            elif text:
                result[key] = text
        elif kind == "int":
            result[key] = value
        else:
            result[key] = _decode(kind, bytes(value))
    return result


def _decode_protobuf(raw: bytes) -> dict[str, Any]:
    if not raw.startswith(MAGIC):
        raise UnsupportedProtobuf("protobuf body does not start with the k8s\\x00 magic prefix")
    envelope = {number: value for number, _, value in _fields(raw[len(MAGIC) :])}
    type_meta = {n: bytes(v).decode() for n, _, v in _fields(bytes(envelope.get(1, b"")))}
    api_version, kind = type_meta.get(1, ""), type_meta.get(2, "")
    if kind not in _MESSAGES:
        raise UnsupportedProtobuf(f"{kind} ({api_version}) cannot be sent as protobuf here")
    return {"apiVersion": api_version, "kind": kind, **_decode(kind, bytes(envelope.get(2, b"")))}


def decode_body(raw: bytes, content_type: str) -> dict[str, Any]:
    """The request object; 400 or 415 with a message when it cannot be read."""
    try:
        if "protobuf" in content_type:
            return _decode_protobuf(raw)
        body = yaml.safe_load(raw) if "yaml" in content_type else json.loads(raw or b"{}")
    except UnsupportedProtobuf as exc:
        raise StatusError(415, "UnsupportedMediaType", str(exc)) from exc
    except (ValueError, IndexError, yaml.YAMLError) as exc:
        raise bad_request(f"the request body could not be decoded: {exc}") from exc
    if not isinstance(body, dict):
        raise bad_request("the request body must be a JSON object")
    return body
