"""The raw-dict client against the embedded API server over HTTP."""

from __future__ import annotations

import threading
from typing import Any

import pytest
from prometheus_client import CollectorRegistry

from reconcile.apiserver import APIServer
from reconcile.client import Client, RestConfig, merge_from, retry_on_conflict
from reconcile.client.restmapper import NoKindMatch
from reconcile.errors import AlreadyExists, Conflict, Invalid, NotFound, TooManyRequests
from reconcile.gvk import GroupVersionKind

CONFIGMAP = GroupVersionKind("", "v1", "ConfigMap")


def _cm(name: str, **data: str) -> dict[str, Any]:
    return {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {"name": name, "namespace": "default"},
        "data": data,
    }


def test_crud_round_trip(client: Client) -> None:
    created = client.create(_cm("a", k="1"))
    assert created["metadata"]["uid"]
    fetched = client.get(CONFIGMAP, "a", "default")
    fetched["data"]["k"] = "2"
    updated = client.update(fetched)
    assert int(updated["metadata"]["resourceVersion"]) > int(created["metadata"]["resourceVersion"])
    patched = client.patch(updated, {"data": {"x": "y"}})
    assert patched["data"] == {"k": "2", "x": "y"}
    listed = client.list(CONFIGMAP, namespace="default")
    assert [i["metadata"]["name"] for i in listed["items"]] == ["a"]
    assert listed["items"][0]["kind"] == "ConfigMap"
    client.delete(patched)
    with pytest.raises(NotFound):
        client.get(CONFIGMAP, "a", "default")


def test_typed_errors(client: Client) -> None:
    client.create(_cm("dup"))
    with pytest.raises(AlreadyExists):
        client.create(_cm("dup"))
    stale = client.get(CONFIGMAP, "dup", "default")
    client.patch(stale, {"data": {"a": "b"}})
    with pytest.raises(Conflict, match="the object has been modified"):
        client.update(stale)
    with pytest.raises(Invalid) as invalid:
        client.create(_cm("Bad_Name"))
    assert [c.field for c in invalid.value.causes] == ["metadata.name"]


def test_unknown_kind_names_the_fix(client: Client) -> None:
    with pytest.raises(NoKindMatch, match="install its CustomResourceDefinition"):
        client.get(GroupVersionKind("example.com", "v1", "Missing"), "x")


def test_retry_on_conflict_rereads_and_succeeds(client: Client) -> None:
    client.create(_cm("counter", n="0"))
    attempts = []

    def increment() -> dict[str, Any]:
        current = client.get(CONFIGMAP, "counter", "default")
        attempts.append(1)
        if len(attempts) == 1:
            client.patch(current, {"data": {"n": "5"}})  # a racing writer
        current["data"]["n"] = str(int(current["data"]["n"]) + 1)
        return client.update(current)

    result = retry_on_conflict(increment)
    assert result["data"]["n"] == "6"
    assert len(attempts) == 2


def test_reads_retry_429_and_500(client: Client, apiserver: APIServer) -> None:
    client.create(_cm("flaky"))
    apiserver.faults.fail(code=429, verb="get", resource="configmaps", retry_after=0)
    apiserver.faults.fail(code=500, verb="get", resource="configmaps", count=2)
    before = apiserver.faults.count("get", "configmaps")
    assert client.get(CONFIGMAP, "flaky", "default")["metadata"]["name"] == "flaky"
    assert apiserver.faults.count("get", "configmaps") - before == 4


def test_429_surfaces_retry_after(client: Client, apiserver: APIServer) -> None:
    apiserver.faults.fail(code=429, verb="create", resource="configmaps", count=50, retry_after=7)
    with pytest.raises(TooManyRequests) as raised:
        client.transport.request("POST", "/api/v1/namespaces/default/configmaps", body=_cm("t"))
    assert raised.value.retry_after == 7


def test_merge_from_with_optimistic_lock(client: Client) -> None:
    original = client.create(_cm("locked", a="1"))
    modified = {**original, "data": {"a": "2"}}
    client.patch(original, {"data": {"b": "x"}})
    with pytest.raises(Conflict):
        client.patch(original, merge_from(original, modified, optimistic_lock=True))


def test_request_metrics(kubeconfig) -> None:
    registry = CollectorRegistry()
    client = Client(RestConfig.from_kubeconfig(kubeconfig), registry=registry)
    client.list(CONFIGMAP, namespace="default")
    host = client.transport.config.host.split("//")[1]
    labels = {"code": "200", "method": "GET", "host": host}
    count = registry.get_sample_value("rest_client_requests_total", labels)
    assert count is not None and count >= 1


def test_client_is_thread_safe(client: Client) -> None:
    errors = []

    def work(i: int) -> None:
        try:
            client.create(_cm(f"t{i}"))
        except Exception as exc:
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(i,)) for i in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert len(client.list(CONFIGMAP, namespace="default")["items"]) == 8


def test_scale_subresource_and_status_writer(client: Client) -> None:
    deployment = client.create(
        {
            "apiVersion": "apps/v1",
            "kind": "Deployment",
            "metadata": {"name": "web", "namespace": "default"},
            "spec": {
                "replicas": 2,
                "selector": {"matchLabels": {"app": "web"}},
                "template": {
                    "metadata": {"labels": {"app": "web"}},
                    "spec": {"containers": [{"name": "w", "image": "x"}]},
                },
            },
        }
    )
    assert client.scale(deployment)["spec"]["replicas"] == 2
    scaled = client.scale(deployment, 5)
    assert (scaled["kind"], scaled["spec"]["replicas"]) == ("Scale", 5)
    current = client.get(GroupVersionKind("apps", "v1", "Deployment"), "web", "default")
    assert current["spec"]["replicas"] == 5 and current["metadata"]["generation"] == 2
    updated = client.status().patch(
        current, {"status": {"readyReplicas": 5}, "spec": {"replicas": 9}}
    )
    assert updated["status"]["readyReplicas"] == 5 and updated["spec"]["replicas"] == 5, (
        "status writes ignore spec"
    )
    assert updated["metadata"]["generation"] == 2, "status writes never bump generation"


def test_server_side_apply_through_the_client_and_on_status(client: Client) -> None:
    from reconcile.client import APPLY_PATCH

    desired = {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {"name": "applied", "namespace": "default"},
        "data": {"a": "1"},
    }
    created = client.apply(desired, field_manager="controller-x")
    assert created["data"] == {"a": "1"}
    assert [e["manager"] for e in created["metadata"]["managedFields"]] == ["controller-x"]
    again = client.apply(desired, field_manager="controller-x")
    assert again["metadata"]["resourceVersion"] == created["metadata"]["resourceVersion"]

    pod = client.create({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p", "namespace": "default"},
                         "spec": {"containers": [{"name": "c", "image": "x"}]}})  # fmt: skip
    status = {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p", "namespace": "default"},
              "status": {"phase": "Running"}, "spec": {"containers": [{"name": "c", "image": "changed"}]}}  # fmt: skip
    applied = client.patch(
        pod, status, patch_type=APPLY_PATCH, field_manager="kubelet", subresource="status"
    )
    assert applied["status"]["phase"] == "Running"
    assert applied["spec"]["containers"][0]["image"] == "x", "a status apply never touches spec"
    entry = next(e for e in applied["metadata"]["managedFields"] if e["manager"] == "kubelet")
    assert entry["operation"] == "Apply"
