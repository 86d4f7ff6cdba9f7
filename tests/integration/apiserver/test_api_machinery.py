"""List snapshots across pages, set-typed lists under server-side apply, and the server's
own metrics."""

from __future__ import annotations

import urllib.parse
import urllib.request
from typing import Any

from reconcile.apiserver import APIServer
from tests.integration.apiserver.http import request
from tests.integration.apiserver.manifests import crd
from tests.raw_http import urlopen

CONFIGMAPS = "/api/v1/namespaces/default/configmaps"


def _configmap(name: str) -> dict[str, Any]:
    return {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": name}}


def test_later_pages_are_served_from_the_first_pages_snapshot(server: APIServer) -> None:
    for name in ("page-a", "page-b", "page-c", "page-d"):
        assert request(server, "POST", CONFIGMAPS, _configmap(name))[0] == 201
    first = request(server, "GET", f"{CONFIGMAPS}?limit=2&labelSelector=")[1]
    names = [i["metadata"]["name"] for i in first["items"]]
    assert names == ["page-a", "page-b"]
    assert request(server, "DELETE", f"{CONFIGMAPS}/page-c")[0] == 200
    assert request(server, "POST", CONFIGMAPS, _configmap("page-bb"))[0] == 201
    token = urllib.parse.quote(first["metadata"]["continue"])
    second = request(server, "GET", f"{CONFIGMAPS}?limit=10&continue={token}")[1]
    assert [i["metadata"]["name"] for i in second["items"]] == ["page-c", "page-d"]
    assert second["metadata"]["resourceVersion"] == first["metadata"]["resourceVersion"]
    server.compact()
    status, expired = request(server, "GET", f"{CONFIGMAPS}?limit=10&continue={token}")
    assert (status, expired["reason"]) == (410, "Expired")


CRD = crd(
    "example.com",
    "tags",
    "Tag",
    {
        "type": "object",
        "properties": {
            "spec": {
                "type": "object",
                "properties": {
                    "labels": {
                        "type": "array",
                        "items": {"type": "string"},
                        "x-kubernetes-list-type": "set",
                    },
                    "order": {
                        "type": "array",
                        "items": {"type": "string"},
                        "x-kubernetes-list-type": "atomic",
                    },
                },
            }
        },
    },
)


def _apply(server: APIServer, manager: str, spec: dict[str, Any]) -> dict[str, Any]:
    body = {"apiVersion": "example.com/v1", "kind": "Tag", "metadata": {"name": "t"}, "spec": spec}
    path = f"/apis/example.com/v1/namespaces/default/tags/t?fieldManager={manager}&force=true"
    status, answer = request(server, "PATCH", path, body, "application/apply-patch+yaml")
    assert status in (200, 201), answer
    return answer  # type: ignore[no-any-return]


def test_set_lists_merge_per_item_and_atomic_lists_replace(server: APIServer) -> None:
    assert request(server, "POST", "/apis/apiextensions.k8s.io/v1/customresourcedefinitions",
                   CRD)[0] == 201  # fmt: skip
    _apply(server, "alice", {"labels": ["a", "b"], "order": ["x", "y"]})
    merged = _apply(server, "carol", {"labels": ["c"], "order": ["z"]})
    assert merged["spec"]["labels"] == ["a", "b", "c"]
    assert merged["spec"]["order"] == ["z"]
    dropped = _apply(server, "alice", {"labels": ["a"]})
    assert dropped["spec"]["labels"] == ["a", "c"]


def test_metrics_count_requests_and_stored_objects(server: APIServer) -> None:
    assert request(server, "POST", CONFIGMAPS, _configmap("metered"))[0] == 201
    with urlopen(server, server.url + "/metrics") as response:
        text = response.read().decode()
    assert (
        'apiserver_request_total{code="201",group="",resource="configmaps",subresource="",'
        'verb="create"}' in text
    )
    assert 'apiserver_request_duration_seconds_bucket{group="",le="0.005"' in text
    assert 'apiserver_storage_objects{resource="configmaps"}' in text
