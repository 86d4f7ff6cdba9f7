"""Malformed or invalid requests get a clear Status and store nothing."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from typing import Any

import pytest

from reconcile.apiserver import APIServer
from tests.raw_http import urlopen


def _request(
    server: APIServer,
    method: str,
    path: str,
    body: bytes | None,
    content_type: str = "application/json",
) -> tuple[int, dict[str, Any]]:
    request = urllib.request.Request(
        server.url + path, data=body, method=method, headers={"Content-Type": content_type}
    )
    try:
        with urlopen(server, request) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read())


CONFIGMAPS = "/api/v1/namespaces/default/configmaps"


def _count(server: APIServer) -> int:
    _, body = _request(server, "GET", CONFIGMAPS, None)
    return len(body["items"])


@pytest.mark.parametrize(
    ("body", "code", "reason", "fragment"),
    [
        pytest.param(b"{not json", 400, "BadRequest", "Object 'Kind' is missing", id="malformed-json"),
        pytest.param(
            b'{"apiVersion":"v2","kind":"ConfigMap","metadata":{"name":"a"}}',
            400,
            "BadRequest",
            "does not match the expected API version (v1)",
            id="wrong-api-version",
        ),
        pytest.param(
            b'{"apiVersion":"v1","kind":"Secret","metadata":{"name":"a"}}',
            400,
            "BadRequest",
            "does not match the expected kind (ConfigMap)",
            id="wrong-kind",
        ),
        pytest.param(
            b'{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"Not_DNS"}}',
            422,
            "Invalid",
            'metadata.name: Invalid value: "Not_DNS": a lowercase RFC 1123 subdomain',
            id="name-not-dns-1123",
        ),
        pytest.param(
            b'{"apiVersion":"v1","kind":"ConfigMap","metadata":{}}',
            422,
            "Invalid",
            "name or generateName is required",
            id="no-name",
        ),
        pytest.param(
            json.dumps(
                {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "big"},
                 "data": {"blob": "x" * (1600 * 1024)}}
            ).encode(),
            413,
            "RequestEntityTooLarge",
            "Request entity too large",
            id="over-1.5MiB",
        ),
    ],
)  # fmt: skip
def test_rejected_create_stores_nothing(
    apiserver: APIServer, body: bytes, code: int, reason: str, fragment: str
) -> None:
    before = _count(apiserver)
    status, answer = _request(apiserver, "POST", CONFIGMAPS, body)
    assert (status, answer["kind"], answer["reason"]) == (code, "Status", reason)
    assert fragment in answer["message"]
    assert _count(apiserver) == before


def test_malformed_yaml_is_a_bad_request(apiserver: APIServer) -> None:
    status, answer = _request(apiserver, "POST", CONFIGMAPS, b"kind: [unclosed", "application/yaml")
    assert (status, answer["reason"]) == (400, "BadRequest")


def test_create_in_missing_namespace_is_not_found(apiserver: APIServer) -> None:
    status, answer = _request(
        apiserver,
        "POST",
        "/api/v1/namespaces/nowhere/configmaps",
        b'{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"a"}}',
    )
    assert (status, answer["message"]) == (404, 'namespaces "nowhere" not found')


def test_strategic_patch_on_custom_resource_is_unsupported(apiserver: APIServer) -> None:
    crd = {
        "apiVersion": "apiextensions.k8s.io/v1",
        "kind": "CustomResourceDefinition",
        "metadata": {"name": "gadgets.example.com"},
        "spec": {
            "group": "example.com",
            "scope": "Namespaced",
            "names": {"plural": "gadgets", "singular": "gadget", "kind": "Gadget"},
            "versions": [
                {
                    "name": "v1",
                    "served": True,
                    "storage": True,
                    "schema": {
                        "openAPIV3Schema": {
                            "type": "object",
                            "x-kubernetes-preserve-unknown-fields": True,
                        }
                    },
                }
            ],
        },
    }
    status, _ = _request(
        apiserver,
        "POST",
        "/apis/apiextensions.k8s.io/v1/customresourcedefinitions",
        json.dumps(crd).encode(),
    )
    assert status == 201
    path = "/apis/example.com/v1/namespaces/default/gadgets"
    status, _ = _request(
        apiserver,
        "POST",
        path,
        b'{"apiVersion":"example.com/v1","kind":"Gadget","metadata":{"name":"g"}}',
    )
    assert status == 201
    status, answer = _request(
        apiserver, "PATCH", f"{path}/g", b"{}", "application/strategic-merge-patch+json"
    )
    assert (status, answer["reason"]) == (415, "UnsupportedMediaType")


def test_update_of_custom_resource_without_resource_version_is_invalid(
    apiserver: APIServer,
) -> None:
    test_strategic_patch_on_custom_resource_is_unsupported(apiserver)
    path = "/apis/example.com/v1/namespaces/default/gadgets/g"
    status, answer = _request(
        apiserver,
        "PUT",
        path,
        b'{"apiVersion":"example.com/v1","kind":"Gadget","metadata":{"name":"g"}}',
    )
    assert status == 422
    assert (
        "metadata.resourceVersion: Invalid value: 0x0: must be specified for an update"
        in answer["message"]
    )
