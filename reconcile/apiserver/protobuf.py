"""Decoding the protobuf bodies kubectl's imperative commands send.

``kubectl create namespace|serviceaccount|configmap|secret|deployment`` post objects as
``application/vnd.kubernetes.protobuf``: the bytes ``k8s\\x00`` followed by a
``runtime.Unknown`` envelope (apiVersion, kind, raw message). This module decodes the wire
format for the kinds those commands create, using field numbers from Kubernetes' published
protobuf API, into the same JSON dicts every other request produces.

A field this table does not know is never silently dropped: the request fails with 415 and
a message that names the field, so nothing is stored half-way.
"""

from __future__ import annotations

import base64
import datetime as dt
from typing import Any

__all__ = ["MAGIC", "UnsupportedProtobuf", "decode_object"]

MAGIC = b"k8s\x00"


class UnsupportedProtobuf(Exception):
    """The body uses a kind or field this server cannot decode from protobuf."""


# message -> field number -> (json name, type, repeated). Types: "string", "bool", "int",
# "bytes", "time", "map:string", "map:bytes", "map:quantity", or another message's name.
_Field = tuple[str, str, bool]
_MESSAGES: dict[str, dict[int, _Field]] = {
    "ObjectMeta": {
        1: ("name", "string", False), 2: ("generateName", "string", False),
        3: ("namespace", "string", False), 5: ("uid", "string", False),
        6: ("resourceVersion", "string", False), 7: ("generation", "int", False),
        8: ("creationTimestamp", "time", False), 9: ("deletionTimestamp", "time", False),
        10: ("deletionGracePeriodSeconds", "int", False), 11: ("labels", "map:string", False),
        12: ("annotations", "map:string", False), 13: ("ownerReferences", "OwnerReference", True),
        14: ("finalizers", "string", True),
    },
    "OwnerReference": {
        1: ("kind", "string", False), 3: ("name", "string", False), 4: ("uid", "string", False),
        5: ("apiVersion", "string", False), 6: ("controller", "bool", False),
        7: ("blockOwnerDeletion", "bool", False),
    },
    "LabelSelector": {
        1: ("matchLabels", "map:string", False),
        2: ("matchExpressions", "LabelSelectorRequirement", True),
    },
    "LabelSelectorRequirement": {
        1: ("key", "string", False),
        2: ("operator", "string", False),
        3: ("values", "string", True),
    },
    "Namespace": {
        1: ("metadata", "ObjectMeta", False),
        2: ("spec", "NamespaceSpec", False),
        3: ("status", "Empty", False),
    },
    "NamespaceSpec": {1: ("finalizers", "string", True)},
    "ServiceAccount": {
        1: ("metadata", "ObjectMeta", False), 2: ("secrets", "ObjectReference", True),
        3: ("imagePullSecrets", "LocalObjectReference", True),
        4: ("automountServiceAccountToken", "bool", False),
    },
    "ObjectReference": {
        1: ("kind", "string", False),
        2: ("namespace", "string", False),
        3: ("name", "string", False),
        4: ("uid", "string", False), 5: ("apiVersion", "string", False),
        6: ("resourceVersion", "string", False), 7: ("fieldPath", "string", False),
    },
    "LocalObjectReference": {1: ("name", "string", False)},
    "ConfigMap": {
        1: ("metadata", "ObjectMeta", False), 2: ("data", "map:string", False),
        3: ("binaryData", "map:bytes", False), 4: ("immutable", "bool", False),
    },
    "Secret": {
        1: ("metadata", "ObjectMeta", False), 2: ("data", "map:bytes", False),
        3: ("type", "string", False), 4: ("stringData", "map:string", False),
        5: ("immutable", "bool", False),
    },
    "Deployment": {
        1: ("metadata", "ObjectMeta", False),
        2: ("spec", "DeploymentSpec", False),
        3: ("status", "Empty", False),
    },
    "DeploymentSpec": {
        1: ("replicas", "int", False), 2: ("selector", "LabelSelector", False),
        3: ("template", "PodTemplateSpec", False), 4: ("strategy", "DeploymentStrategy", False),
        5: ("minReadySeconds", "int", False), 6: ("revisionHistoryLimit", "int", False),
        7: ("paused", "bool", False), 9: ("progressDeadlineSeconds", "int", False),
    },
    "DeploymentStrategy": {1: ("type", "string", False)},
    "PodTemplateSpec": {1: ("metadata", "ObjectMeta", False), 2: ("spec", "PodSpec", False)},
    "PodSpec": {
        2: ("containers", "Container", True), 3: ("restartPolicy", "string", False),
        4: ("terminationGracePeriodSeconds", "int", False), 6: ("dnsPolicy", "string", False),
        7: ("nodeSelector", "map:string", False), 8: ("serviceAccountName", "string", False),
        10: ("nodeName", "string", False), 14: ("securityContext", "Empty", False),
        15: ("imagePullSecrets", "LocalObjectReference", True),
        19: ("schedulerName", "string", False),
        20: ("initContainers", "Container", True),
    },
    "Container": {
        1: ("name", "string", False), 2: ("image", "string", False), 3: ("command", "string", True),
        4: ("args", "string", True),
        5: ("workingDir", "string", False),
        6: ("ports", "ContainerPort", True),
        7: ("env", "EnvVar", True), 8: ("resources", "ResourceRequirements", False),
        13: ("terminationMessagePath", "string", False), 14: ("imagePullPolicy", "string", False),
        20: ("terminationMessagePolicy", "string", False),
    },
    "ContainerPort": {
        1: ("name", "string", False),
        2: ("hostPort", "int", False),
        3: ("containerPort", "int", False),
        4: ("protocol", "string", False), 5: ("hostIP", "string", False),
    },
    "EnvVar": {1: ("name", "string", False), 2: ("value", "string", False)},
    "ResourceRequirements": {
        1: ("limits", "map:quantity", False),
        2: ("requests", "map:quantity", False),
    },
    "Empty": {},
}  # fmt: skip
_ROOTS = {
    ("v1", "Namespace"): "Namespace",
    ("v1", "ServiceAccount"): "ServiceAccount",
    ("v1", "ConfigMap"): "ConfigMap",
    ("v1", "Secret"): "Secret",
    ("apps/v1", "Deployment"): "Deployment",
}


def _varint(data: bytes, position: int) -> tuple[int, int]:
    result = shift = 0
    while True:
        byte = data[position]
        position += 1
        result |= (byte & 0x7F) << shift
        if not byte & 0x80:
            return result, position
        shift += 7


def _fields(data: bytes) -> list[tuple[int, int, Any]]:
    """(field number, wire type, value) for every field in one message."""
    fields = []
    position = 0
    while position < len(data):
        key, position = _varint(data, position)
        number, wire = key >> 3, key & 7
        value: int | bytes
        if wire == 0:
            value, position = _varint(data, position)
        elif wire == 2:
            length, position = _varint(data, position)
            value, position = data[position : position + length], position + length
        elif wire == 1:
            value, position = data[position : position + 8], position + 8
        elif wire == 5:
            value, position = data[position : position + 4], position + 4
        else:
            raise UnsupportedProtobuf(f"unsupported protobuf wire type {wire}")
        fields.append((number, wire, value))
    return fields


def _signed(value: int) -> int:
    return value - (1 << 64) if value >= 1 << 63 else value


def _time(raw: bytes) -> str | None:
    values = {number: value for number, _, value in _fields(raw)}
    seconds = _signed(values.get(1, 0))
    if seconds <= 0:
        return None
    return dt.datetime.fromtimestamp(seconds, dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _map_entry(raw: bytes, value_type: str) -> tuple[str, Any]:
    entry = {number: value for number, _, value in _fields(raw)}
    key = bytes(entry.get(1, b"")).decode()
    value = entry.get(2, b"")
    if value_type == "map:bytes":
        return key, base64.b64encode(bytes(value)).decode()
    if value_type == "map:quantity":
        quantity = {n: v for n, _, v in _fields(bytes(value))}
        return key, bytes(quantity.get(1, b"")).decode()
    return key, bytes(value).decode()


def _scalar(kind: str, value: Any) -> Any:
    if kind == "string":
        return bytes(value).decode()
    if kind == "bytes":
        return base64.b64encode(bytes(value)).decode()
    if kind == "bool":
        return bool(value)
    if kind == "int":
        return _signed(value)
    if kind == "time":
        return _time(bytes(value))
    return decode_message(kind, bytes(value))


_KEEP_ZERO = frozenset(
    {
        "replicas",
        "automountServiceAccountToken",
        "immutable",
        "terminationGracePeriodSeconds",
        "deletionGracePeriodSeconds",
        "revisionHistoryLimit",
        "progressDeadlineSeconds",
        "controller",
        "blockOwnerDeletion",
    }
)
"""Pointer fields in the Go types: an explicit zero or false is meaningful there. Go's
encoder writes every other scalar even when empty, which JSON would have omitted."""


def decode_message(name: str, data: bytes) -> dict[str, Any]:
    table = _MESSAGES[name]
    result: dict[str, Any] = {}
    for number, _, value in _fields(data):
        field = table.get(number)
        if field is None:
            if value in (0, b""):
                continue  # an empty field the Go encoder always writes (e.g. selfLink)
            raise UnsupportedProtobuf(
                f"protobuf field {number} of {name} is not supported by this API server; "
                "send the object as JSON or YAML instead (kubectl apply -f / create -f)"
            )
        json_name, kind, repeated = field
        if kind.startswith("map:"):
            key, item = _map_entry(bytes(value), kind)
            result.setdefault(json_name, {})[key] = item
        elif repeated:
            result.setdefault(json_name, []).append(_scalar(kind, value))
        else:
            decoded = _scalar(kind, value)
            empty = decoded is None or (decoded in ("", 0, False) and json_name not in _KEEP_ZERO)
            if not empty or isinstance(decoded, dict):
                result[json_name] = decoded
    return result


def decode_object(body: bytes) -> dict[str, Any]:
    """A protobuf-encoded object (``k8s\\x00`` + runtime.Unknown) as a JSON-style dict."""
    if not body.startswith(MAGIC):
        raise UnsupportedProtobuf("protobuf body does not start with the k8s\\x00 magic prefix")
    envelope = {number: value for number, _, value in _fields(body[len(MAGIC) :])}
    type_meta = {
        number: bytes(value).decode() for number, _, value in _fields(bytes(envelope.get(1, b"")))
    }
    api_version, kind = type_meta.get(1, ""), type_meta.get(2, "")
    root = _ROOTS.get((api_version, kind))
    if root is None:
        raise UnsupportedProtobuf(
            f"{kind} ({api_version}) cannot be sent as protobuf to this API server; send it as "
            "JSON or YAML instead (kubectl apply -f / create -f)"
        )
    obj = decode_message(root, bytes(envelope.get(2, b"")))
    return {"apiVersion": api_version, "kind": kind, **obj}


def decode_request(body: bytes) -> dict[str, Any]:
    """``decode_object`` for a request body: 415 for what cannot be decoded, 400 if malformed."""
    from reconcile.apiserver.status import StatusError, bad_request

    try:
        return decode_object(body)
    except UnsupportedProtobuf as exc:
        raise StatusError(415, "UnsupportedMediaType", str(exc)) from exc
    except (IndexError, UnicodeDecodeError, KeyError) as exc:
        raise bad_request(f"malformed protobuf body: {exc}") from exc
