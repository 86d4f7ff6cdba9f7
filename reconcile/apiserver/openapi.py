"""OpenAPI v3 documents, shaped for what kubectl 1.32 reads from them.

kubectl fetches ``/openapi/v3`` (an index of group versions) and then one document per
group version. It uses them for three things:

- to learn that the server validates fields itself: the PATCH operation of each kind lists
  the ``fieldValidation`` query parameter, so ``kubectl apply`` sends
  ``fieldValidation=Strict`` and skips client-side schema checks;
- to compute client-side apply patches: a PATCH operation *without*
  ``application/strategic-merge-patch+json`` in its request body makes kubectl use its own
  compiled-in merge keys for built-in kinds and JSON merge patches for custom resources,
  exactly what it does against kube-apiserver for CRDs;
- ``kubectl explain``: component schemas tagged with ``x-kubernetes-group-version-kind``
  (the CRDs' schemas are served here).
"""

from __future__ import annotations

import copy
import hashlib
import json
from collections.abc import Iterable
from typing import Any

from reconcile.apiserver import builtin_schemas
from reconcile.apiserver.resources import ResourceInfo

__all__ = ["etag", "group_version_path", "v2_protobuf", "v3_group_version", "v3_root"]

V2_PROTOBUF = "application/com.github.proto-openapi.spec.v2.v1.0+protobuf"

_QUERY = ("fieldValidation", "fieldManager", "dryRun", "pretty")
_PATCH_TYPES = (
    "application/json-patch+json",
    "application/merge-patch+json",
    "application/apply-patch+yaml",
)


def _string_map(description: str) -> dict[str, Any]:
    return {
        "type": "object",
        "additionalProperties": {"type": "string"},
        "description": description,
    }


_OBJECT_META: dict[str, Any] = {
    "description": "Standard object's metadata.",
    "type": "object",
    "properties": {
        "name": {"type": "string", "description": "Name must be unique within a namespace."},
        "namespace": {"type": "string", "description": "The space within which names are unique."},
        "labels": _string_map("Keys and values to organize and select objects."),
        "annotations": _string_map("Unstructured key value map stored with a resource."),
        "uid": {"type": "string"},
        "resourceVersion": {"type": "string"},
        "generation": {"type": "integer", "format": "int64"},
        "creationTimestamp": {"type": "string", "format": "date-time"},
        "deletionTimestamp": {"type": "string", "format": "date-time"},
        "finalizers": {"type": "array", "items": {"type": "string"}},
        "ownerReferences": {
            "type": "array",
            "items": {"type": "object", "x-kubernetes-preserve-unknown-fields": True},
        },
        "generateName": {"type": "string"},
    },
}
_META_NAME = "io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta"


def group_version_path(group: str, version: str) -> str:
    return f"apis/{group}/{version}" if group else f"api/{version}"


def etag(document: dict[str, Any]) -> str:
    encoded = json.dumps(document, sort_keys=True, separators=(",", ":")).encode()
    return hashlib.sha512(encoded).hexdigest()[:32].upper()


def _schema_name(info: ResourceInfo) -> str:
    reversed_group = ".".join(reversed(info.group.split("."))) if info.group else "io.k8s.api.core"
    return f"{reversed_group}.{info.version}.{info.kind}"


def _gvk(info: ResourceInfo) -> dict[str, str]:
    return {"group": info.group, "version": info.version, "kind": info.kind}


def _parameters(names: Iterable[str]) -> list[dict[str, Any]]:
    return [
        {"name": name, "in": "query", "schema": {"type": "string", "uniqueItems": True}}
        for name in names
    ]


def _operation(
    info: ResourceInfo, verb: str, *, writes: bool, patch: bool = False
) -> dict[str, Any]:
    reference = {"$ref": f"#/components/schemas/{_schema_name(info)}"}
    operation: dict[str, Any] = {
        "operationId": f"{verb}{info.kind}",
        "x-kubernetes-action": verb,
        "x-kubernetes-group-version-kind": _gvk(info),
        "parameters": _parameters(_QUERY if writes else ("pretty",)),
        "responses": {
            "200": {"description": "OK", "content": {"application/json": {"schema": reference}}}
        },
    }
    if patch:
        operation["requestBody"] = {
            "content": {t: {"schema": {"type": "object"}} for t in _PATCH_TYPES},
            "required": True,
        }
    elif writes:
        operation["requestBody"] = {"content": {"*/*": {"schema": reference}}, "required": True}
    return operation


def _paths(info: ResourceInfo) -> dict[str, Any]:
    prefix = "/" + group_version_path(info.group, info.version)
    scope = "/namespaces/{namespace}" if info.namespaced else ""
    collection = f"{prefix}{scope}/{info.resource}"
    item = f"{collection}/{{name}}"
    paths = {
        collection: {
            "get": _operation(info, "list", writes=False),
            "post": _operation(info, "post", writes=True),
        },
        item: {
            "get": _operation(info, "get", writes=False),
            "put": _operation(info, "put", writes=True),
            "patch": _operation(info, "patch", writes=True, patch=True),
            "delete": _operation(info, "delete", writes=True),
        },
    }
    if info.status_subresource:
        paths[f"{item}/status"] = {
            "get": _operation(info, "get", writes=False),
            "put": _operation(info, "put", writes=True),
            "patch": _operation(info, "patch", writes=True, patch=True),
        }
    return paths


def _component(info: ResourceInfo, source: dict[str, Any]) -> dict[str, Any]:
    schema: dict[str, Any] = copy.deepcopy(source)
    properties: dict[str, Any] = schema.setdefault("properties", {})
    properties["apiVersion"] = {"type": "string", "description": "Versioned schema of this object."}
    properties["kind"] = {"type": "string", "description": "The REST resource this object is."}
    properties["metadata"] = {
        "allOf": [{"$ref": f"#/components/schemas/{_META_NAME}"}],
        "description": "Standard object's metadata.",
    }
    schema["x-kubernetes-group-version-kind"] = [_gvk(info)]
    return schema


def v3_group_version(infos: Iterable[ResourceInfo], group: str, version: str) -> dict[str, Any]:
    """The OpenAPI 3.0 document for one group version."""
    paths: dict[str, Any] = {}
    schemas: dict[str, Any] = {_META_NAME: _OBJECT_META}
    for info in infos:
        if (info.group, info.version) != (group, version):
            continue
        paths.update(_paths(info))
        schema = (
            info.schema
            if info.custom
            else builtin_schemas.schema_for(info.group, info.version, info.kind)
        )
        if schema is not None:
            schemas[_schema_name(info)] = _component(info, schema)
    return {
        "openapi": "3.0.0",
        "info": {"title": "Kubernetes", "version": "v1.32.0"},
        "paths": paths,
        "components": {"schemas": schemas},
    }


def v3_root(documents: dict[str, dict[str, Any]]) -> dict[str, Any]:
    """The index: group-version path -> URL with the document's hash."""
    return {
        "paths": {
            path: {"serverRelativeURL": f"/openapi/v3/{path}?hash={etag(document)}"}
            for path, document in sorted(documents.items())
        }
    }


def _length_delimited(field: int, payload: bytes) -> bytes:
    """One protobuf wire-type-2 field (payloads here are far below 128 bytes)."""
    assert len(payload) < 128
    return bytes([field << 3 | 2, len(payload)]) + payload


def v2_protobuf() -> bytes:
    """A minimal OpenAPI v2 document in gnostic's protobuf form, with no definitions.

    kubectl falls back to client-side validation against /openapi/v2 only for what the v3
    verifier cannot place (a ``kind: List`` file); a document without definitions lets it
    pass, and the server still validates every item it receives.
    """
    info = _length_delimited(1, b"Kubernetes") + _length_delimited(2, b"v1.32.0")
    return _length_delimited(1, b"2.0") + _length_delimited(2, info)
