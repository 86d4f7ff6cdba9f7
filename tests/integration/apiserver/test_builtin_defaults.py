"""Built-in kinds come back as from kube-apiserver 1.32: defaulted, with server-set status,
readable by the kubernetes Python client's models, and answered per kind on delete."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from kubernetes import client as k8s

from reconcile.apiserver import APIServer
from tests.integration.apiserver.http import request
from tests.raw_http import python_client

NS = "/api/v1/namespaces/default"
APPS = "/apis/apps/v1/namespaces/default"
BATCH = "/apis/batch/v1/namespaces/default"
CONTAINERS = [{"name": "c", "image": "nginx:1.25", "ports": [{"containerPort": 80}]}]
TEMPLATE = {"metadata": {"labels": {"app": "x"}}, "spec": {"containers": CONTAINERS}}
SELECTOR = {"matchLabels": {"app": "x"}}


def _get(obj: Any, path: str) -> Any:
    for part in path.split("."):
        obj = obj[int(part)] if isinstance(obj, list) else obj[part]
    return obj


def _obj(api_version: str, kind: str, name: str, **fields: Any) -> dict[str, Any]:
    return {"apiVersion": api_version, "kind": kind, "metadata": {"name": name}, **fields}


DEFAULTS = [
    pytest.param(f"{NS}/pods", _obj("v1", "Pod", "p", spec={"containers": CONTAINERS}), {
        "spec.restartPolicy": "Always", "spec.dnsPolicy": "ClusterFirst",
        "spec.terminationGracePeriodSeconds": 30, "spec.schedulerName": "default-scheduler",
        "spec.serviceAccountName": "default", "spec.securityContext": {},
        "spec.enableServiceLinks": True, "spec.priority": 0,
        "spec.containers.0.imagePullPolicy": "IfNotPresent",
        "spec.containers.0.terminationMessagePath": "/dev/termination-log",
        "spec.containers.0.terminationMessagePolicy": "File",
        "spec.containers.0.ports.0.protocol": "TCP", "status.phase": "Pending",
        "status.qosClass": "BestEffort"}, id="pod"),
    pytest.param(f"{NS}/pods", _obj("v1", "Pod", "latest",
                                    spec={"containers": [{"name": "c", "image": "nginx"}]}),
                 {"spec.containers.0.imagePullPolicy": "Always"}, id="pod-latest-tag"),
    pytest.param(f"{NS}/services", _obj("v1", "Service", "svc",
                                        spec={"ports": [{"port": 80}], "selector": {"a": "b"}}), {
        "spec.type": "ClusterIP", "spec.sessionAffinity": "None", "spec.ports.0.protocol": "TCP",
        "spec.ports.0.targetPort": 80, "spec.ipFamilies": ["IPv4"],
        "spec.ipFamilyPolicy": "SingleStack", "spec.internalTrafficPolicy": "Cluster",
        "status.loadBalancer": {}}, id="service"),
    pytest.param(f"{APPS}/deployments", _obj("apps/v1", "Deployment", "d",
                                             spec={"selector": SELECTOR, "template": TEMPLATE}), {
        "spec.replicas": 1, "spec.strategy.type": "RollingUpdate",
        "spec.strategy.rollingUpdate.maxSurge": "25%",
        "spec.strategy.rollingUpdate.maxUnavailable": "25%", "spec.revisionHistoryLimit": 10,
        "spec.progressDeadlineSeconds": 600, "spec.template.spec.restartPolicy": "Always",
        "spec.template.spec.containers.0.imagePullPolicy": "IfNotPresent",
        "metadata.generation": 1}, id="deployment"),
    pytest.param(f"{APPS}/replicasets", _obj("apps/v1", "ReplicaSet", "rs",
                                             spec={"selector": SELECTOR, "template": TEMPLATE}),
                 {"spec.replicas": 1, "spec.template.spec.dnsPolicy": "ClusterFirst"},
                 id="replicaset"),
    pytest.param(f"{APPS}/daemonsets", _obj("apps/v1", "DaemonSet", "ds",
                                            spec={"selector": SELECTOR, "template": TEMPLATE}), {
        "spec.updateStrategy.type": "RollingUpdate",
        "spec.updateStrategy.rollingUpdate.maxUnavailable": 1, "spec.revisionHistoryLimit": 10},
        id="daemonset"),
    pytest.param(f"{APPS}/statefulsets", _obj("apps/v1", "StatefulSet", "sts",
                                              spec={"selector": SELECTOR, "template": TEMPLATE,
                                                    "serviceName": "sts"}), {
        "spec.replicas": 1, "spec.podManagementPolicy": "OrderedReady",
        "spec.updateStrategy.rollingUpdate.partition": 0,
        "spec.persistentVolumeClaimRetentionPolicy.whenDeleted": "Retain"}, id="statefulset"),
    pytest.param(f"{BATCH}/jobs", _obj("batch/v1", "Job", "job", spec={"template": {
        "spec": {"containers": CONTAINERS, "restartPolicy": "Never"}}}), {
        "spec.backoffLimit": 6, "spec.completions": 1, "spec.parallelism": 1,
        "spec.completionMode": "NonIndexed", "spec.suspend": False,
        "spec.template.metadata.labels.job-name": "job"}, id="job"),
    pytest.param(f"{BATCH}/cronjobs", _obj("batch/v1", "CronJob", "cj", spec={
        "schedule": "*/5 * * * *", "jobTemplate": {"spec": {"template": {
            "spec": {"containers": CONTAINERS, "restartPolicy": "OnFailure"}}}}}), {
        "spec.concurrencyPolicy": "Allow", "spec.successfulJobsHistoryLimit": 3,
        "spec.failedJobsHistoryLimit": 1, "spec.suspend": False}, id="cronjob"),
    pytest.param(f"{NS}/replicationcontrollers", _obj("v1", "ReplicationController", "rc",
                                                      spec={"template": TEMPLATE}), {
        "spec.replicas": 1, "spec.selector": {"app": "x"}, "metadata.labels": {"app": "x"}},
        id="replicationcontroller"),
    pytest.param(f"{NS}/persistentvolumeclaims", _obj("v1", "PersistentVolumeClaim", "pvc", spec={
        "accessModes": ["ReadWriteOnce"], "resources": {"requests": {"storage": "1Gi"}}}), {
        "spec.volumeMode": "Filesystem", "status.phase": "Pending"}, id="pvc"),
    pytest.param("/api/v1/namespaces", _obj("v1", "Namespace", "team"), {
        "status.phase": "Active", "spec.finalizers": ["kubernetes"],
        "metadata.labels": {"kubernetes.io/metadata.name": "team"}}, id="namespace"),
]  # fmt: skip


@pytest.mark.parametrize(("path", "body", "expected"), DEFAULTS)
def test_defaults_after_create(
    server: APIServer, path: str, body: dict[str, Any], expected: dict[str, Any]
) -> None:
    status, created = request(server, "POST", path, body)
    assert status == 201, created
    for field, value in expected.items():
        assert _get(created, field) == value, field


def test_service_allocations(server: APIServer) -> None:
    body = _obj("v1", "Service", "np", spec={"type": "NodePort", "ports": [{"port": 80}]})
    status, created = request(server, "POST", f"{NS}/services", body)
    assert status == 201
    assert created["spec"]["clusterIP"].startswith("10.")
    assert created["spec"]["clusterIPs"] == [created["spec"]["clusterIP"]]
    assert 30000 <= created["spec"]["ports"][0]["nodePort"] <= 32767
    body["spec"]["ports"] = [{"port": 81}]  # a PUT that leaves the allocations out keeps them
    body["metadata"]["resourceVersion"] = created["metadata"]["resourceVersion"]
    status, updated = request(server, "PUT", f"{NS}/services/np", body)
    assert status == 200, updated
    assert updated["spec"]["clusterIP"] == created["spec"]["clusterIP"]


def test_objects_without_spec_carry_no_generation(server: APIServer) -> None:
    status, created = request(server, "POST", f"{NS}/configmaps", _obj("v1", "ConfigMap", "nogen"))
    assert status == 201 and "generation" not in created["metadata"]


def test_generate_name_retries_a_taken_name(
    server: APIServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    import secrets

    letters = iter("bbbbbbbbbbccccc")
    monkeypatch.setattr(secrets, "choice", lambda _: next(letters))
    body = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"generateName": "gen-"}}
    first = request(server, "POST", f"{NS}/configmaps", body)
    second = request(server, "POST", f"{NS}/configmaps", body)
    assert (first[0], first[1]["metadata"]["name"]) == (201, "gen-bbbbb")
    assert (second[0], second[1]["metadata"]["name"]) == (201, "gen-ccccc")


EVENT_CORE = {
    "apiVersion": "v1", "kind": "Event", "metadata": {"name": "core-ev"},
    "involvedObject": {"kind": "Pod", "name": "p", "namespace": "default"},
    "reason": "Started", "message": "started container", "type": "Normal",
    "firstTimestamp": "2026-01-01T00:00:00Z", "lastTimestamp": "2026-01-01T00:00:00Z",
    "count": 1, "source": {"component": "kubelet"},
}  # fmt: skip
EVENT_V1 = {
    "apiVersion": "events.k8s.io/v1", "kind": "Event", "metadata": {"name": "v1-ev"},
    "regarding": {"kind": "Pod", "name": "p", "namespace": "default"},
    "reason": "Pulled", "note": "image pulled", "type": "Normal", "action": "Pull",
    "eventTime": "2026-01-01T00:00:00Z", "reportingController": "kubelet",
    "reportingInstance": "node-1",
}  # fmt: skip


def test_events_are_one_store_seen_through_two_versions(server: APIServer) -> None:
    assert request(server, "POST", f"{NS}/events", EVENT_CORE)[0] == 201
    status, created = request(server, "POST", "/apis/events.k8s.io/v1/namespaces/default/events",
                              EVENT_V1)  # fmt: skip
    assert status == 201, created
    assert created["note"] == "image pulled" and created["regarding"]["name"] == "p"
    core = request(server, "GET", f"{NS}/events")[1]["items"]
    by_name = {e["metadata"]["name"]: e for e in core}
    assert by_name["v1-ev"]["message"] == "image pulled"
    assert by_name["v1-ev"]["apiVersion"] == "v1"
    assert by_name["v1-ev"]["eventTime"] == "2026-01-01T00:00:00.000000Z"
    v1 = request(server, "GET", "/apis/events.k8s.io/v1/namespaces/default/events")[1]["items"]
    converted = {e["metadata"]["name"]: e for e in v1}["core-ev"]
    assert converted["note"] == "started container"
    assert converted["deprecatedSource"] == {"component": "kubelet"}
    assert converted["apiVersion"] == "events.k8s.io/v1"


@pytest.mark.parametrize(
    ("path", "body", "returns_object"),
    [
        pytest.param(f"{NS}/configmaps", _obj("v1", "ConfigMap", "del"), False, id="configmap"),
        pytest.param(
            f"{NS}/pods", _obj("v1", "Pod", "del", spec={"containers": CONTAINERS}), True, id="pod"
        ),
        pytest.param(f"{NS}/serviceaccounts", _obj("v1", "ServiceAccount", "del"), True, id="sa"),
        pytest.param(
            f"{APPS}/deployments",
            _obj("apps/v1", "Deployment", "del", spec={"selector": SELECTOR, "template": TEMPLATE}),
            False,
            id="deployment",
        ),
    ],
)
def test_delete_answers_per_kind(
    server: APIServer, path: str, body: dict[str, Any], returns_object: bool
) -> None:
    status, created = request(server, "POST", path, body)
    assert status == 201
    status, answer = request(server, "DELETE", f"{path}/del")
    assert status == 200
    if returns_object:
        assert answer["kind"] == body["kind"] and answer["metadata"]["name"] == "del"
    else:
        assert (answer["kind"], answer["status"]) == ("Status", "Success")
        assert answer["details"]["name"] == "del"
        assert answer["details"]["uid"] == created["metadata"]["uid"]


def _apis(server: APIServer) -> dict[str, Any]:
    api_client = python_client(server)
    return {
        "core": k8s.CoreV1Api(api_client), "apps": k8s.AppsV1Api(api_client),
        "batch": k8s.BatchV1Api(api_client), "events": k8s.EventsV1Api(api_client),
        "coordination": k8s.CoordinationV1Api(api_client),
        "discovery": k8s.DiscoveryV1Api(api_client), "policy": k8s.PolicyV1Api(api_client),
        "autoscaling": k8s.AutoscalingV2Api(api_client),
        "apiregistration": k8s.ApiregistrationV1Api(api_client),
    }  # fmt: skip


ROUND_TRIP: list[tuple[str, str, str, dict[str, Any], Callable[[Any], Any]]] = [
    ("core", "list_namespaced_pod", f"{NS}/pods",
     _obj("v1", "Pod", "rt", spec={"containers": CONTAINERS}), lambda o: o.spec.containers[0].name),
    ("core", "list_namespaced_service", f"{NS}/services",
     _obj("v1", "Service", "rt", spec={"ports": [{"port": 80}]}), lambda o: o.spec.ports[0].target_port),
    ("core", "list_namespaced_config_map", f"{NS}/configmaps",
     _obj("v1", "ConfigMap", "rt", data={"a": "b"}), lambda o: o.data["a"]),
    ("core", "list_namespaced_secret", f"{NS}/secrets",
     _obj("v1", "Secret", "rt", stringData={"a": "b"}), lambda o: o.type),
    ("core", "list_namespaced_service_account", f"{NS}/serviceaccounts",
     _obj("v1", "ServiceAccount", "rt"), lambda o: o.metadata.name),
    ("core", "list_namespaced_event", f"{NS}/events",
     {**EVENT_CORE, "metadata": {"name": "rt"}, "eventTime": "2026-01-01T00:00:00.5Z",
      "action": "Start", "reportingComponent": "kubelet", "reportingInstance": "node-1"},
     lambda o: o.involved_object.name),
    ("core", "list_namespaced_endpoints", f"{NS}/endpoints",
     _obj("v1", "Endpoints", "rt", subsets=[{"addresses": [{"ip": "10.0.0.1"}],
                                            "ports": [{"port": 80}]}]),
     lambda o: o.subsets[0].ports[0].protocol),
    ("core", "list_namespaced_persistent_volume_claim", f"{NS}/persistentvolumeclaims",
     _obj("v1", "PersistentVolumeClaim", "rt", spec={"accessModes": ["ReadWriteOnce"],
          "resources": {"requests": {"storage": "1Gi"}}}), lambda o: o.spec.volume_mode),
    ("core", "list_namespaced_replication_controller", f"{NS}/replicationcontrollers",
     _obj("v1", "ReplicationController", "rt", spec={"template": TEMPLATE}),
     lambda o: o.spec.selector["app"]),
    ("core", "list_namespace", "/api/v1/namespaces", _obj("v1", "Namespace", "rt"),
     lambda o: o.status.phase),
    ("apps", "list_namespaced_deployment", f"{APPS}/deployments",
     _obj("apps/v1", "Deployment", "rt", spec={"selector": SELECTOR, "template": TEMPLATE}),
     lambda o: o.spec.strategy.type),
    ("apps", "list_namespaced_replica_set", f"{APPS}/replicasets",
     _obj("apps/v1", "ReplicaSet", "rt", spec={"selector": SELECTOR, "template": TEMPLATE}),
     lambda o: o.spec.replicas),
    ("apps", "list_namespaced_daemon_set", f"{APPS}/daemonsets",
     _obj("apps/v1", "DaemonSet", "rt", spec={"selector": SELECTOR, "template": TEMPLATE}),
     lambda o: o.spec.update_strategy.type),
    ("apps", "list_namespaced_stateful_set", f"{APPS}/statefulsets",
     _obj("apps/v1", "StatefulSet", "rt", spec={"selector": SELECTOR, "template": TEMPLATE,
                                                "serviceName": "rt"}),
     lambda o: o.spec.pod_management_policy),
    ("batch", "list_namespaced_job", f"{BATCH}/jobs",
     _obj("batch/v1", "Job", "rt", spec={"template": {"spec": {"containers": CONTAINERS,
                                                                "restartPolicy": "Never"}}}),
     lambda o: o.spec.backoff_limit),
    ("batch", "list_namespaced_cron_job", f"{BATCH}/cronjobs",
     _obj("batch/v1", "CronJob", "rt", spec={"schedule": "@hourly", "jobTemplate": {"spec": {
         "template": {"spec": {"containers": CONTAINERS, "restartPolicy": "Never"}}}}}),
     lambda o: o.spec.concurrency_policy),
    ("events", "list_namespaced_event", "/apis/events.k8s.io/v1/namespaces/default/events",
     {**EVENT_V1, "metadata": {"name": "rt2"}}, lambda o: o.reporting_controller),
    ("coordination", "list_namespaced_lease", "/apis/coordination.k8s.io/v1/namespaces/default/leases",
     _obj("coordination.k8s.io/v1", "Lease", "rt", spec={"holderIdentity": "me"}),
     lambda o: o.spec.holder_identity),
    ("discovery", "list_namespaced_endpoint_slice",
     "/apis/discovery.k8s.io/v1/namespaces/default/endpointslices",
     _obj("discovery.k8s.io/v1", "EndpointSlice", "rt", addressType="IPv4",
          endpoints=[{"addresses": ["10.0.0.1"]}], ports=[{"port": 80}]),
     lambda o: o.ports[0].protocol),
    ("policy", "list_namespaced_pod_disruption_budget",
     "/apis/policy/v1/namespaces/default/poddisruptionbudgets",
     _obj("policy/v1", "PodDisruptionBudget", "rt", spec={"minAvailable": 1, "selector": SELECTOR}),
     lambda o: o.spec.min_available),
    ("autoscaling", "list_namespaced_horizontal_pod_autoscaler",
     "/apis/autoscaling/v2/namespaces/default/horizontalpodautoscalers",
     _obj("autoscaling/v2", "HorizontalPodAutoscaler", "rt", spec={
         "scaleTargetRef": {"apiVersion": "apps/v1", "kind": "Deployment", "name": "rt"},
         "minReplicas": 1, "maxReplicas": 3}), lambda o: o.spec.max_replicas),
    ("apiregistration", "list_api_service", "/apis/apiregistration.k8s.io/v1/apiservices",
     _obj("apiregistration.k8s.io/v1", "APIService", "v1.example.com", spec={
         "group": "example.com", "version": "v1", "groupPriorityMinimum": 1000,
         "versionPriority": 15}), lambda o: o.spec.group),
]  # fmt: skip


def test_every_served_kind_round_trips_through_the_python_client(server: APIServer) -> None:
    apis = _apis(server)
    assert request(server, "POST", "/api/v1/namespaces", _obj("v1", "Namespace", "trip"))[0] == 201
    for api, method, default_path, template, probe in ROUND_TRIP:
        path = default_path.replace("/namespaces/default/", "/namespaces/trip/")
        body = dict(template)
        if body["kind"] == "Event":
            body["involvedObject"] = {"kind": "Pod", "name": "p", "namespace": "trip"}
        status, created = request(server, "POST", path, body)
        assert status == 201, (path, created)
        lister = getattr(apis[api], method)
        listed = lister() if "namespaced" not in method else lister("trip")
        names = [item.metadata.name for item in listed.items]
        item = listed.items[names.index(body["metadata"]["name"])]
        assert probe(item) is not None, method
