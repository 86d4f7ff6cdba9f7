from __future__ import annotations

import pytest

from reconcile.apiserver.protobuf import MAGIC, UnsupportedProtobuf, decode_object


def _varint(value: int) -> bytes:
    out = bytearray()
    while True:
        byte = value & 0x7F
        value >>= 7
        out.append(byte | (0x80 if value else 0))
        if not value:
            return bytes(out)


def _bytes(number: int, payload: bytes) -> bytes:
    return _varint(number << 3 | 2) + _varint(len(payload)) + payload


def _int(number: int, value: int) -> bytes:
    return _varint(number << 3) + _varint(value)


def _entry(key: str, value: bytes) -> bytes:
    return _bytes(1, key.encode()) + _bytes(2, value)


def _envelope(api_version: str, kind: str, raw: bytes) -> bytes:
    type_meta = _bytes(1, api_version.encode()) + _bytes(2, kind.encode())
    return MAGIC + _bytes(1, type_meta) + _bytes(2, raw)


def test_configmap_with_metadata_time_and_maps() -> None:
    metadata = (
        _bytes(1, b"cfg") + _bytes(4, b"") + _bytes(11, _entry("app", b"web"))
        + _bytes(8, _int(1, 1_800_000_000))
    )  # fmt: skip
    raw = _bytes(1, metadata) + _bytes(2, _entry("k", b"v")) + _bytes(3, _entry("bin", b"\x00\x01"))
    obj = decode_object(_envelope("v1", "ConfigMap", raw))
    assert obj == {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {
            "name": "cfg",
            "labels": {"app": "web"},
            "creationTimestamp": "2027-01-15T08:00:00Z",
        },
        "data": {"k": "v"},
        "binaryData": {"bin": "AAE="},
    }


def test_unknown_non_empty_field_is_refused_not_dropped() -> None:
    raw = _bytes(1, _bytes(1, b"cfg")) + _bytes(9, b"surprise")
    with pytest.raises(
        UnsupportedProtobuf, match=r"protobuf field 9 of core\.v1\.ConfigMap is not supported"
    ):
        decode_object(_envelope("v1", "ConfigMap", raw))


def test_unsupported_kind_says_to_send_json() -> None:
    with pytest.raises(UnsupportedProtobuf, match=r"Widget \(example\.com/v1\) cannot be sent"):
        decode_object(_envelope("example.com/v1", "Widget", b""))


def test_delete_options_decode() -> None:
    preconditions = _bytes(1, b"uid-1")
    raw = _int(1, 0) + _bytes(2, preconditions) + _bytes(4, b"Background")
    assert decode_object(_envelope("v1", "DeleteOptions", raw)) == {
        "apiVersion": "v1",
        "kind": "DeleteOptions",
        "gracePeriodSeconds": 0,
        "preconditions": {"uid": "uid-1"},
        "propagationPolicy": "Background",
    }


def test_int_or_string_and_inline_volume_source() -> None:
    # Deployment.spec.strategy.rollingUpdate.maxSurge = "50%" (IntOrString type 1)
    surge = _bytes(2, _int(1, 1) + _bytes(3, b"50%"))
    strategy = _bytes(1, b"RollingUpdate") + _bytes(2, surge)
    volume = _bytes(1, b"data") + _bytes(2, _bytes(2, b""))  # emptyDir (VolumeSource field 2)
    pod_spec = _bytes(1, volume)
    template = _bytes(2, pod_spec)
    spec = _bytes(3, template) + _bytes(4, strategy)
    obj = decode_object(
        _envelope("apps/v1", "Deployment", _bytes(1, _bytes(1, b"d")) + _bytes(2, spec))
    )
    assert obj["spec"]["strategy"] == {
        "type": "RollingUpdate",
        "rollingUpdate": {"maxSurge": "50%"},
    }
    assert obj["spec"]["template"]["spec"]["volumes"] == [{"name": "data", "emptyDir": {}}]


def test_explicit_zero_replicas_is_kept() -> None:
    raw = _bytes(1, _bytes(1, b"d")) + _bytes(2, _int(1, 0))
    assert decode_object(_envelope("apps/v1", "Deployment", raw))["spec"] == {"replicas": 0}


def test_embedded_reference_is_inline_as_in_json() -> None:
    # Pod.spec.volumes[0].configMap.name: ConfigMapVolumeSource embeds LocalObjectReference
    config_map = _bytes(1, _bytes(1, b"settings")) + _int(3, 0o440)
    volume = _bytes(1, b"cfg") + _bytes(2, _bytes(19, config_map))  # VolumeSource.configMap
    obj = decode_object(_envelope("v1", "Pod", _bytes(2, _bytes(1, volume))))
    assert obj["spec"]["volumes"] == [
        {"name": "cfg", "configMap": {"name": "settings", "defaultMode": 0o440}}
    ]


def test_subject_access_review_extra_values_are_lists() -> None:
    attributes = _bytes(1, b"team-a") + _bytes(2, b"get") + _bytes(5, b"pods")
    extra = _entry("scopes", _bytes(1, b"read") + _bytes(1, b"write"))
    spec = _bytes(1, attributes) + _bytes(3, b"jane") + _bytes(4, b"devs") + _bytes(5, extra)
    raw = _bytes(2, spec) + _bytes(3, b"")
    obj = decode_object(_envelope("authorization.k8s.io/v1", "SubjectAccessReview", raw))
    assert obj["spec"] == {
        "resourceAttributes": {"namespace": "team-a", "verb": "get", "resource": "pods"},
        "user": "jane",
        "groups": ["devs"],
        "extra": {"scopes": ["read", "write"]},
    }


def test_token_request_bound_object_uid_takes_its_json_name() -> None:
    bound = _bytes(1, b"Pod") + _bytes(3, b"web-0") + _bytes(4, b"uid-7")
    spec = _bytes(1, b"vault") + _bytes(3, bound) + _int(4, 600)
    obj = decode_object(_envelope("authentication.k8s.io/v1", "TokenRequest", _bytes(2, spec)))
    assert obj["spec"] == {
        "audiences": ["vault"],
        "boundObjectRef": {"kind": "Pod", "name": "web-0", "uid": "uid-7"},
        "expirationSeconds": 600,
    }
