"""A CRD served in v1alpha1 (storage) and v1beta1 through the manager's conversion webhook:
every field round-trips through kubectl in both versions, for GET, LIST, WATCH, apply and
patch; a CRD with strategy None only rewrites apiVersion."""

from __future__ import annotations

import copy
import json
from collections.abc import Iterator
from typing import Any

import pytest

from reconcile.gvk import GroupVersionKind
from reconcile.webhook import Spoke, WebhookBuilder
from tests.integration.webhook.cluster import WebhookCluster
from tests.raw_http import urlopen

HUB = GroupVersionKind("example.com", "v1alpha1", "Widget")


def _schema(spec: dict[str, Any]) -> dict[str, Any]:
    return {
        "openAPIV3Schema": {
            "type": "object",
            "properties": {"spec": {"type": "object", "properties": spec}},
        }
    }


_STRING = {"type": "string"}
_STRINGS = {"type": "array", "items": _STRING}
_WIDGETS: dict[str, Any] = {
    "apiVersion": "apiextensions.k8s.io/v1",
    "kind": "CustomResourceDefinition",
    "metadata": {"name": "widgets.example.com"},
    "spec": {
        "group": "example.com",
        "scope": "Namespaced",
        "names": {"plural": "widgets", "singular": "widget", "kind": "Widget"},
        "versions": [
            {"name": "v1alpha1", "served": True, "storage": True,
             "schema": _schema({"size": {"type": "integer"}, "color": _STRING, "tags": _STRINGS,
                                "owner": _STRING})},
            {"name": "v1beta1", "served": True, "storage": False,
             "schema": _schema({"replicas": {"type": "integer"}, "labels": _STRINGS,
                                "appearance": {"type": "object", "properties": {"color": _STRING}},
                                "owner": _STRING})},
        ],
    },
}  # fmt: skip


def to_hub(obj: dict[str, Any]) -> dict[str, Any]:
    spec = obj.pop("spec", {})
    hub = {"size": spec.get("replicas"), "color": spec.get("appearance", {}).get("color"),
           "tags": spec.get("labels"), "owner": spec.get("owner")}  # fmt: skip
    obj["spec"] = {k: v for k, v in hub.items() if v is not None}
    return obj


def from_hub(obj: dict[str, Any]) -> dict[str, Any]:
    spec = obj.pop("spec", {})
    beta: dict[str, Any] = {"replicas": spec.get("size"), "labels": spec.get("tags"),
                            "owner": spec.get("owner")}  # fmt: skip
    if "color" in spec:
        beta["appearance"] = {"color": spec["color"]}
    obj["spec"] = {k: v for k, v in beta.items() if v is not None}
    return obj


@pytest.fixture(scope="module")
def cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[WebhookCluster]:
    cluster = WebhookCluster(tmp_path_factory.mktemp("conversion"))
    spokes = {"v1beta1": Spoke(to_hub=to_hub, from_hub=from_hub)}
    WebhookBuilder(cluster.manager).for_(HUB).with_conversion(spokes).complete()
    cluster.start()
    crd = copy.deepcopy(_WIDGETS)
    crd["spec"]["conversion"] = {
        "strategy": "Webhook",
        "webhook": {
            "clientConfig": {"url": f"{cluster.url}/convert", "caBundle": cluster.ca_bundle},
            "conversionReviewVersions": ["v1"],
        },
    }
    cluster.client.create(crd)
    try:
        yield cluster
    finally:
        cluster.stop()


BETA_SPEC = {"replicas": 3, "labels": ["a", "b"], "appearance": {"color": "red"}, "owner": "ops"}
HUB_SPEC = {"size": 3, "tags": ["a", "b"], "color": "red", "owner": "ops"}


def _get(cluster: WebhookCluster, version: str, name: str) -> dict[str, Any]:
    out = cluster.kubectl("get", f"widgets.{version}.example.com", name, "-o", "json")
    obj: dict[str, Any] = json.loads(out)
    return obj


def _widget(version: str, name: str, spec: dict[str, Any], **labels: str) -> str:
    return json.dumps(
        {
            "apiVersion": f"example.com/{version}",
            "kind": "Widget",
            "metadata": {"name": name, "namespace": "default", "labels": labels},
            "spec": spec,
        }
    )


def test_every_field_round_trips_in_both_versions(cluster: WebhookCluster) -> None:
    cluster.kubectl("apply", "-f", "-", input=_widget("v1beta1", "beta", BETA_SPEC, team="a"))
    cluster.kubectl("apply", "-f", "-", input=_widget("v1alpha1", "hub", HUB_SPEC))
    for name in ("beta", "hub"):
        beta, hub = _get(cluster, "v1beta1", name), _get(cluster, "v1alpha1", name)
        assert (beta["apiVersion"], beta["spec"]) == ("example.com/v1beta1", BETA_SPEC)
        assert (hub["apiVersion"], hub["spec"]) == ("example.com/v1alpha1", HUB_SPEC)
        assert beta["metadata"] == hub["metadata"]
    assert _get(cluster, "v1beta1", "beta")["metadata"]["labels"] == {"team": "a"}

    # stored in the storage version: the raw store answers v1alpha1 fields
    stored = cluster.apiserver.api.store.get(("example.com", "widgets"), "default", "beta")  # type: ignore[union-attr]
    assert stored is not None and stored.obj["spec"] == HUB_SPEC

    changed = {**BETA_SPEC, "replicas": 5}
    assert "configured" in cluster.kubectl(
        "apply", "-f", "-", input=_widget("v1beta1", "beta", changed, team="a")
    )
    assert _get(cluster, "v1alpha1", "beta")["spec"]["size"] == 5
    cluster.kubectl("patch", "widgets.v1beta1.example.com", "hub", "--type=merge",
                    "-p", json.dumps({"spec": {"appearance": {"color": "blue"}}}))  # fmt: skip
    assert _get(cluster, "v1alpha1", "hub")["spec"]["color"] == "blue"


def test_lists_tables_and_watches_are_converted(cluster: WebhookCluster) -> None:
    cluster.kubectl("apply", "-f", "-", input=_widget("v1alpha1", "listed", HUB_SPEC))
    items = json.loads(cluster.kubectl("get", "widgets.v1beta1.example.com", "-o", "json"))["items"]
    assert {i["apiVersion"] for i in items} == {"example.com/v1beta1"}
    assert all("replicas" in i["spec"] for i in items)
    for version in ("v1alpha1", "v1beta1"):
        table = cluster.kubectl("get", f"widgets.{version}.example.com", "listed")
        assert table.split()[:3] == ["NAME", "AGE", "listed"]
    path = "/apis/example.com/v1beta1/namespaces/default/widgets?watch=true&timeoutSeconds=1"
    with urlopen(cluster.apiserver, cluster.apiserver.url + path) as stream:
        events = [json.loads(line) for line in stream.read().splitlines() if line]
    added = {e["object"]["metadata"]["name"]: e["object"] for e in events}
    assert added["listed"]["apiVersion"] == "example.com/v1beta1"
    assert added["listed"]["spec"] == BETA_SPEC


def test_strategy_none_rewrites_the_api_version_only(cluster: WebhookCluster) -> None:
    crd = copy.deepcopy(_WIDGETS)
    crd["metadata"]["name"] = "gizmos.example.com"
    crd["spec"]["names"] = {"plural": "gizmos", "singular": "gizmo", "kind": "Gizmo"}
    same = _schema({"size": {"type": "integer"}, "color": _STRING})
    for version in crd["spec"]["versions"]:
        version["schema"] = same
    cluster.client.create(crd)
    gizmo = {"apiVersion": "example.com/v1beta1", "kind": "Gizmo",
             "metadata": {"name": "g", "namespace": "default"}, "spec": {"size": 1, "color": "x"}}  # fmt: skip
    cluster.kubectl("apply", "-f", "-", input=json.dumps(gizmo))
    alpha = json.loads(cluster.kubectl("get", "gizmos.v1alpha1.example.com", "g", "-o", "json"))
    assert (alpha["apiVersion"], alpha["spec"]) == ("example.com/v1alpha1", gizmo["spec"])
    conversion = json.loads(cluster.kubectl("get", "crd", "gizmos.example.com", "-o", "json"))[
        "spec"
    ]["conversion"]
    assert conversion == {"strategy": "None"}


def test_conversion_failure_is_a_500_naming_the_webhook(cluster: WebhookCluster) -> None:
    cluster.kubectl("apply", "-f", "-", input=_widget("v1alpha1", "odd", {"size": 1}))
    crd = json.loads(cluster.kubectl("get", "crd", "widgets.example.com", "-o", "json"))
    url = crd["spec"]["conversion"]["webhook"]["clientConfig"]["url"]
    patch = {"spec": {"conversion": {"webhook": {"clientConfig": {"url": url + "-missing"}}}}}
    cluster.kubectl("patch", "crd", "widgets.example.com", "--type=merge", "-p", json.dumps(patch))
    try:
        failed = cluster.kubectl.run("get", "widgets.v1beta1.example.com", "odd", check=False)
        assert "(InternalError)" in failed.stderr
        assert "conversion webhook for example.com/v1alpha1, Kind=Widget failed" in failed.stderr
        assert "the server could not find the requested resource" in failed.stderr
    finally:
        restore = {"spec": {"conversion": {"webhook": {"clientConfig": {"url": url}}}}}
        cluster.kubectl("patch", "crd", "widgets.example.com", "--type=merge",
                        "-p", json.dumps(restore))  # fmt: skip
