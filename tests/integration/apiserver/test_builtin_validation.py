"""Built-in kinds are decoded and validated as kube-apiserver 1.32 does: per kind, the
invalid object is refused with the field named, and nothing is stored."""

from __future__ import annotations

import base64
import copy
import json
from typing import Any

import pytest
from kubernetes import client as k8s
from kubernetes.client.exceptions import ApiException

from reconcile.apiserver import APIServer
from tests.conftest import Kubectl
from tests.integration.apiserver.http import request
from tests.raw_http import python_client

NS = "/api/v1/namespaces/default"
APPS = "/apis/apps/v1/namespaces/default"
BATCH = "/apis/batch/v1/namespaces/default"


def _pod(**spec: Any) -> dict[str, Any]:
    body = {"containers": [{"name": "c", "image": "nginx"}], **spec}
    return {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p"}, "spec": body}


def _deployment(**spec: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "selector": {"matchLabels": {"app": "d"}},
        "template": {
            "metadata": {"labels": {"app": "d"}},
            "spec": {"containers": [{"name": "c", "image": "nginx"}]},
        },
        **spec,
    }
    return {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "d"}, "spec": body}


def _configmap(**fields: Any) -> dict[str, Any]:
    return {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "cm"}, **fields}


def _with_meta(obj: dict[str, Any], **meta: Any) -> dict[str, Any]:
    obj = copy.deepcopy(obj)
    obj["metadata"].update(meta)
    return obj


CASES = [
    pytest.param(f"{APPS}/deployments", _deployment(replicas="two"), 400,
                 "json: cannot unmarshal string into Go struct field Deployment.spec.replicas "
                 "of type int32", id="deployment-replicas-string"),
    pytest.param(f"{NS}/configmaps", _configmap(data={"k": 1}), 400,
                 "cannot unmarshal number into Go struct field ConfigMap.data.k of type string",
                 id="configmap-data-number"),
    pytest.param("/apis/coordination.k8s.io/v1/namespaces/default/leases",
                 {"apiVersion": "coordination.k8s.io/v1", "kind": "Lease",
                  "metadata": {"name": "l"}, "spec": {"leaseDurationSeconds": "15"}},
                 400, "Lease.spec.leaseDurationSeconds of type int32", id="lease-duration-string"),
    pytest.param(f"{NS}/pods", _pod(containers=[]), 422, "spec.containers: Required value",
                 id="pod-no-containers"),
    pytest.param(f"{NS}/pods", _pod(containers=[{"name": "Bad_Name", "image": "x"}]), 422,
                 'spec.containers[0].name: Invalid value: "Bad_Name"', id="container-name"),
    pytest.param(f"{NS}/pods", _pod(containers=[{"name": "c"}]), 422,
                 "spec.containers[0].image: Required value", id="container-image"),
    pytest.param(f"{NS}/pods",
                 _pod(containers=[{"name": "c", "image": "x", "ports": [{"containerPort": 70000}]}]),
                 422, "spec.containers[0].ports[0].containerPort: Invalid value: 70000: must be "
                 "between 1 and 65535, inclusive", id="container-port-range"),
    pytest.param(f"{NS}/pods", _pod(restartPolicy="Sometimes"), 422,
                 'spec.restartPolicy: Unsupported value: "Sometimes"', id="restart-policy"),
    pytest.param(f"{NS}/configmaps", _with_meta(_configmap(), labels={"bad key!": "v"}), 422,
                 'metadata.labels: Invalid value: "bad key!"', id="label-key"),
    pytest.param(f"{NS}/configmaps", _with_meta(_configmap(), labels={"k": "-bad-"}), 422,
                 'metadata.labels: Invalid value: "-bad-"', id="label-value"),
    pytest.param(f"{NS}/configmaps",
                 _with_meta(_configmap(), annotations={"a": "x" * (256 * 1024 + 1)}), 422,
                 "metadata.annotations: Too long: may not be more than 262144 bytes",
                 id="annotations-size"),
    pytest.param(f"{NS}/configmaps", _configmap(data={"bad/key": "v"}), 422,
                 "data[bad/key]: Invalid value: \"bad/key\": a valid config key", id="config-key"),
    pytest.param(f"{NS}/configmaps", _configmap(data={"a": "x" * (1024 * 1024 + 1)}), 422,
                 "Too long: may not be more than 1048576 bytes", id="configmap-1MiB"),
    pytest.param(f"{NS}/secrets",
                 {"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "s"},
                  "data": {"k": "not base64!"}}, 400,
                 "illegal base64 data at input byte 3", id="secret-base64"),
    pytest.param(f"{NS}/secrets",
                 {"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "s"},
                  "type": "kubernetes.io/tls", "data": {}}, 422,
                 "data[tls.crt]: Required value", id="tls-secret-keys"),
    pytest.param(f"{NS}/services",
                 {"apiVersion": "v1", "kind": "Service", "metadata": {"name": "svc"},
                  "spec": {"ports": [{"port": 0}]}}, 422,
                 "spec.ports[0].port: Invalid value: 0", id="service-port"),
    pytest.param(f"{NS}/services",
                 {"apiVersion": "v1", "kind": "Service", "metadata": {"name": "Svc"},
                  "spec": {"ports": [{"port": 80}]}}, 422,
                 'metadata.name: Invalid value: "Svc"', id="service-name-dns-label"),
    pytest.param(f"{APPS}/deployments",
                 _deployment(selector={"matchLabels": {"app": "other"}}), 422,
                 "`selector` does not match template `labels`", id="selector-mismatch"),
    pytest.param(f"{APPS}/deployments", _deployment(replicas=-1), 422,
                 "spec.replicas: Invalid value: -1", id="negative-replicas"),
    pytest.param(f"{BATCH}/jobs",
                 {"apiVersion": "batch/v1", "kind": "Job", "metadata": {"name": "j"},
                  "spec": {"template": {"spec": {"containers": [{"name": "c", "image": "x"}]}}}},
                 422, 'spec.template.spec.restartPolicy: Unsupported value: "Always"',
                 id="job-restart-always"),
    pytest.param("/apis/events.k8s.io/v1/namespaces/default/events",
                 {"apiVersion": "events.k8s.io/v1", "kind": "Event", "metadata": {"name": "e"},
                  "type": "Normal"}, 422, "eventTime: Required value", id="events-v1-required"),
    pytest.param("/apis/autoscaling/v2/namespaces/default/horizontalpodautoscalers",
                 {"apiVersion": "autoscaling/v2", "kind": "HorizontalPodAutoscaler",
                  "metadata": {"name": "h"},
                  "spec": {"scaleTargetRef": {"kind": "Deployment", "name": "d"},
                           "maxReplicas": 0}}, 422, "spec.maxReplicas: Invalid value: 0",
                 id="hpa-max"),
]  # fmt: skip


@pytest.mark.parametrize(("path", "body", "code", "fragment"), CASES)
def test_invalid_object_is_refused_with_the_field_named(
    server: APIServer, path: str, body: dict[str, Any], code: int, fragment: str
) -> None:
    status, answer = request(server, "POST", path, body)
    assert status == code, answer
    assert answer["reason"] == ("BadRequest" if code == 400 else "Invalid")
    assert fragment in answer["message"]
    if code == 422:
        assert any(c.get("field") for c in answer["details"]["causes"])
    name = body["metadata"]["name"]
    assert request(server, "GET", f"{path}/{name}")[0] == 404


def test_patch_producing_a_wrong_type_is_invalid_on_patch(server: APIServer) -> None:
    path = f"{APPS}/deployments"
    assert request(server, "POST", path, _deployment())[0] == 201
    status, answer = request(
        server, "PATCH", f"{path}/d", {"spec": {"replicas": "two"}}, "application/merge-patch+json"
    )
    assert (status, answer["reason"]) == (422, "Invalid")
    assert answer["details"]["causes"][0]["field"] == "patch"
    status, listed = request(server, "GET", "/apis/apps/v1/deployments")
    assert status == 200 and all(isinstance(d["spec"]["replicas"], int) for d in listed["items"])
    assert request(server, "DELETE", f"{path}/d")[0] == 200


def test_kubectl_patch_with_a_wrong_type_is_refused(server: APIServer, tmp_path: Any) -> None:
    kubectl = Kubectl(server.write_kubeconfig(tmp_path / "kc"), tmp_path / "cache")
    kubectl("create", "deployment", "typed", "--image=nginx")
    result = kubectl.run(
        "patch", "deploy", "typed", "-p", '{"spec":{"replicas":"two"}}', check=False
    )
    assert result.returncode == 1
    assert "patch: Invalid value" in result.stderr and "of type int32" in result.stderr
    assert kubectl("get", "deploy", "typed", "-o", "jsonpath={.spec.replicas}") == "1"
    kubectl("scale", "deploy", "typed", "--replicas=2")
    kubectl("delete", "deploy", "typed")


KUBECTL_CASES = {"pod-no-containers", "label-key", "secret-base64"}


@pytest.mark.parametrize(
    ("body", "fragment"),
    [pytest.param(c.values[1], c.values[3], id=c.id) for c in CASES if c.id in KUBECTL_CASES],
)
def test_kubectl_create_shows_the_refusal(
    server: APIServer, tmp_path: Any, body: dict[str, Any], fragment: str
) -> None:
    kubectl = Kubectl(server.write_kubeconfig(tmp_path / "kc"), tmp_path / "cache")
    result = kubectl.run("create", "-f", "-", input=json.dumps(body), check=False)
    assert result.returncode == 1 and fragment in result.stderr


def test_python_client_gets_the_invalid_status(server: APIServer) -> None:
    core = k8s.CoreV1Api(python_client(server))
    with pytest.raises(ApiException) as raised:
        pod = k8s.V1Pod(metadata=k8s.V1ObjectMeta(name="p"), spec=k8s.V1PodSpec(containers=[]))
        core.create_namespaced_pod("default", pod)
    assert raised.value.status == 422
    assert "spec.containers: Required value" in str(raised.value.body)


UPDATE_CASES = [
    pytest.param(f"{NS}/pods", _pod(), {"spec": {"restartPolicy": "Never"}},
                 "pod updates may not change fields other than", id="pod-spec"),
    pytest.param(f"{APPS}/deployments", _deployment(),
                 {"spec": {"selector": {"matchLabels": {"app": "e"}},
                           "template": {"metadata": {"labels": {"app": "e"}}}}},
                 "spec.selector: Invalid value", id="deployment-selector"),
    pytest.param(f"{NS}/configmaps", _configmap(immutable=True, data={"a": "1"}),
                 {"data": {"a": "2"}}, "field is immutable when `immutable` is set",
                 id="immutable-configmap"),
    pytest.param(f"{NS}/services",
                 {"apiVersion": "v1", "kind": "Service", "metadata": {"name": "svc"},
                  "spec": {"ports": [{"port": 80}]}},
                 {"spec": {"clusterIP": "10.96.99.99"}}, "spec.clusterIP: Invalid value",
                 id="service-cluster-ip"),
]  # fmt: skip


@pytest.mark.parametrize(("path", "body", "patch", "fragment"), UPDATE_CASES)
def test_immutable_fields_refuse_updates(
    server: APIServer, path: str, body: dict[str, Any], patch: dict[str, Any], fragment: str
) -> None:
    name = body["metadata"]["name"]
    assert request(server, "POST", path, body)[0] == 201
    try:
        status, answer = request(
            server, "PATCH", f"{path}/{name}", patch, "application/merge-patch+json"
        )
        assert (status, answer["reason"]) == (422, "Invalid")
        assert fragment in answer["message"]
    finally:
        request(server, "DELETE", f"{path}/{name}")


def test_pod_image_may_change(server: APIServer) -> None:
    assert request(server, "POST", f"{NS}/pods", _with_meta(_pod(), name="img"))[0] == 201
    patch = {"spec": {"containers": [{"name": "c", "image": "nginx:2"}]}}
    status, pod = request(
        server, "PATCH", f"{NS}/pods/img", patch, "application/strategic-merge-patch+json"
    )
    assert status == 200 and pod["spec"]["containers"][0]["image"] == "nginx:2"


def test_stored_object_that_fails_todays_rules_is_still_listed(
    server: APIServer, tmp_path: Any
) -> None:
    assert request(server, "POST", f"{NS}/configmaps", _configmap())[0] == 201
    assert server.api is not None
    stored = server.api.store.get(("", "configmaps"), "default", "cm")
    assert stored is not None
    legacy = {**stored.obj, "data": {"bad/key": "v"}}
    store = server.api.store
    server.call(lambda: store.put(("", "configmaps"), legacy, created=False))
    status, listed = request(server, "GET", f"{NS}/configmaps")
    assert status == 200
    assert {"bad/key": "v"} in [item.get("data") for item in listed["items"]]
    request(server, "DELETE", f"{NS}/configmaps/cm")
    status, created = request(server, "POST", f"{APPS}/deployments", _with_meta(_deployment(),
                              name="legacy"))  # fmt: skip
    assert status == 201
    broken = {**created, "spec": {**created["spec"], "replicas": "two"}}
    server.call(lambda: store.put(("apps", "deployments"), broken, created=False))
    kubectl = Kubectl(server.write_kubeconfig(tmp_path / "kc"), tmp_path / "cache")
    assert "legacy" in kubectl("get", "deploy", "-A")
    assert "legacy" in kubectl("get", "deploy", "legacy", "-o", "name")
    request(server, "DELETE", f"{APPS}/deployments/legacy")


def test_secret_string_data_is_merged_and_never_stored(server: APIServer) -> None:
    body = {"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "sd"},
            "data": {"a": base64.b64encode(b"1").decode()}, "stringData": {"b": "two"}}  # fmt: skip
    status, created = request(server, "POST", f"{NS}/secrets", body)
    assert status == 201
    assert created["data"] == {"a": "MQ==", "b": "dHdv"} and "stringData" not in created
    assert created["type"] == "Opaque"
    assert "stringData" not in request(server, "GET", f"{NS}/secrets/sd")[1]
