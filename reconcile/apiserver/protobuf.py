"""Decoding the protobuf bodies kubectl sends.

kubectl's imperative commands (``create namespace|deployment|job|...``, ``run``,
``expose``) post objects as ``application/vnd.kubernetes.protobuf``, and its deletes (e.g.
``drain``) send DeleteOptions that way, and so do ``kubectl create token``, ``auth can-i``
and ``auth whoami`` with their TokenRequest and review bodies: the bytes ``k8s\\x00``
followed by a ``runtime.Unknown`` envelope (apiVersion, kind, raw message). This module
decodes the wire format of every kind this server serves, with the field numbers
Kubernetes publishes in its ``generated.proto`` files (``protobuf_fields.json``, generated
by ``tools/protobuf_fields.py``), into the same JSON dicts every other request produces.

A field this table does not know is never silently dropped: the request fails with 415 and
a message that names the field, so nothing is stored half-way.
"""

from __future__ import annotations

import base64
import datetime as dt
import functools
import json
import struct
from pathlib import Path
from typing import Any

__all__ = ["MAGIC", "UnsupportedProtobuf", "decode_object"]

MAGIC = b"k8s\x00"
_FIELDS_FILE = Path(__file__).with_name("protobuf_fields.json")
"""Field numbers of the served kinds, generated from Kubernetes' published
``generated.proto`` files by ``tools/protobuf_fields.py``."""


class UnsupportedProtobuf(Exception):
    """The body uses a kind or field this server cannot decode from protobuf."""


_Field = tuple[str, str, bool, bool]
"""(json name, type, repeated, inline). Types: "string", "bool", "int", "double", "bytes",
"time", "microtime", "duration", "quantity", "intorstring", "rawjson", "stringlist" (a
message wrapping a Go ``[]string``, e.g. ``ExtraValue``: a list in JSON), "map:<type>", or
another message's name."""


@functools.cache
def _table() -> tuple[dict[str, str], dict[str, dict[int, _Field]]]:
    raw = json.loads(_FIELDS_FILE.read_text())
    messages = {
        name: {
            int(number): (f[0], f[1], bool(f[2]), bool(f[3]) if len(f) > 3 else False)
            for number, f in fields.items()
        }
        for name, fields in raw["messages"].items()
    }
    return raw["roots"], messages


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


def _time(raw: bytes, *, micro: bool = False) -> str | None:
    values = {number: value for number, _, value in _fields(raw)}
    seconds = _signed(values.get(1, 0))
    if seconds <= 0:
        return None
    stamp = dt.datetime.fromtimestamp(seconds, dt.UTC)
    if micro:
        micros = int(values.get(2, 0)) // 1000
        return stamp.strftime("%Y-%m-%dT%H:%M:%S") + f".{micros:06d}Z"
    return stamp.strftime("%Y-%m-%dT%H:%M:%SZ")


def _int_or_string(raw: bytes) -> int | str:
    values = {number: value for number, _, value in _fields(raw)}
    if values.get(1, 0) == 1:
        return bytes(values.get(3, b"")).decode()
    return _signed(values.get(2, 0))


def _special(kind: str, raw: bytes) -> Any:
    """The JSON form of the apimachinery types that serialize as scalars."""
    if kind in ("time", "microtime"):
        return _time(raw, micro=kind == "microtime")
    if kind == "intorstring":
        return _int_or_string(raw)
    if kind == "stringlist":
        return [bytes(value).decode() for number, _, value in _fields(raw) if number == 1]
    values = {number: value for number, _, value in _fields(raw)}
    if kind == "quantity":
        return bytes(values.get(1, b"")).decode()
    if kind == "duration":
        return f"{_signed(values.get(1, 0)) / 1e9:g}s"
    payload = bytes(values.get(1, b""))  # rawjson: RawExtension / FieldsV1
    return json.loads(payload) if payload else None


def _map_entry(raw: bytes, value_type: str) -> tuple[str, Any]:
    entry = {number: value for number, _, value in _fields(raw)}
    key = bytes(entry.get(1, b"")).decode()
    return key, _scalar(value_type, entry.get(2, b""))


_SPECIALS = frozenset(
    {"time", "microtime", "duration", "quantity", "intorstring", "rawjson", "stringlist"}
)


def _scalar(kind: str, value: Any) -> Any:
    if kind == "string":
        return bytes(value).decode()
    if kind == "bytes":
        return base64.b64encode(bytes(value)).decode()
    if kind == "bool":
        return bool(value)
    if kind == "int":
        return _signed(value)
    if kind == "double":
        return float(struct.unpack("<d", bytes(value))[0])
    if kind in _SPECIALS:
        return _special(kind, bytes(value))
    return decode_message(kind, bytes(value))


_KEEP_ZERO = frozenset(
    {
        "replicas", "automountServiceAccountToken", "immutable", "terminationGracePeriodSeconds",
        "deletionGracePeriodSeconds", "revisionHistoryLimit", "progressDeadlineSeconds",
        "controller", "blockOwnerDeletion", "backoffLimit", "parallelism", "completions",
        "activeDeadlineSeconds", "suspend", "enableServiceLinks", "gracePeriodSeconds",
        "orphanDependents", "ttlSecondsAfterFinished", "startingDeadlineSeconds",
        "successfulJobsHistoryLimit", "failedJobsHistoryLimit", "tolerationSeconds",
        "allowPrivilegeEscalation", "privileged", "runAsNonRoot", "readOnlyRootFilesystem",
        "runAsUser", "runAsGroup", "fsGroup", "defaultMode", "optional", "minReplicas",
        "paused", "hostNetwork", "shareProcessNamespace", "setHostnameAsFQDN",
    }
)  # fmt: skip
"""Pointer fields in the Go types: an explicit zero or false is meaningful there. Go's
encoder writes every other scalar even when empty, which JSON would have omitted."""


def decode_message(name: str, data: bytes) -> dict[str, Any]:
    table = _table()[1][name]
    result: dict[str, Any] = {}
    for number, _, value in _fields(data):
        field = table.get(number)
        if field is None:
            if value in (0, b""):
                continue  # an empty field the Go encoder always writes
            raise UnsupportedProtobuf(
                f"protobuf field {number} of {name} is not supported by this API server; "
                "send the object as JSON or YAML instead (kubectl apply -f / create -f)"
            )
        json_name, kind, repeated, inline = field
        if kind.startswith("map:"):
            key, item = _map_entry(bytes(value), kind[4:])
            result.setdefault(json_name, {})[key] = item
        elif repeated:
            result.setdefault(json_name, []).append(_scalar(kind, value))
        elif inline:
            result.update(_scalar(kind, value))
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
    roots = _table()[0]
    root = roots.get(f"{api_version}/{kind}") or (
        roots["v1/DeleteOptions"] if kind == "DeleteOptions" else None
    )
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
