"""What `kubectl kustomize config/default` renders: valid against the 1.32 schemas, hardened,
least-privilege RBAC, and alerts on metrics that exist."""

from __future__ import annotations

import copy
import re
from typing import Any

import kubernetes_validate
import pytest
import yaml

from controllers.run import DEFAULT_LEADER_ELECTION_ID
from tests.integration.config.manifests import CONFIG, ROOT, find, rendered

KUBERNETES_VERSION = "1.32"
MONITORING = "monitoring.coreos.com/v1"
CERT_MANAGER = "cert-manager.io/v1"
NAMESPACE = "kreconcile-system"


def _validate(obj: dict[str, Any]) -> None:
    kubernetes_validate.validate(obj, KUBERNETES_VERSION, strict=True)


def test_every_built_in_object_passes_the_published_schemas() -> None:
    checked = []
    for obj in rendered():
        if obj["apiVersion"] in (MONITORING, CERT_MANAGER):
            continue  # Prometheus Operator and cert-manager kinds: checked below, no schema
        _validate(obj)
        checked.append(obj["kind"])
    assert {"Namespace", "CustomResourceDefinition", "Deployment", "DaemonSet"} <= set(checked)
    assert {"ClusterRole", "ClusterRoleBinding", "Role", "RoleBinding", "Service"} <= set(checked)
    assert "ValidatingWebhookConfiguration" in checked


def test_the_schema_check_catches_a_misspelt_field() -> None:
    deployment = copy.deepcopy(find("Deployment", "kreconcile-controller-manager"))
    container = deployment["spec"]["template"]["spec"]["containers"][0]
    container["securityContext"]["readOnlyRootFS"] = True
    with pytest.raises(kubernetes_validate.ValidationError, match="readOnlyRootFS"):
        _validate(deployment)


CLUSTER_SCOPED = (
    "Namespace",
    "ClusterRole",
    "ClusterRoleBinding",
    "ValidatingWebhookConfiguration",
    "MutatingWebhookConfiguration",
)


def test_everything_lands_in_kreconcile_system_with_the_prefix() -> None:
    for obj in rendered():
        name = obj["metadata"]["name"]
        if obj["kind"] == "CustomResourceDefinition":
            assert name.endswith(".kreconcile.io")
            continue
        assert name.startswith("kreconcile-"), name
        if obj["kind"] not in CLUSTER_SCOPED:
            assert obj["metadata"]["namespace"] == NAMESPACE, name
    assert find("Namespace", NAMESPACE)


def _container(obj: dict[str, Any]) -> dict[str, Any]:
    containers = obj["spec"]["template"]["spec"]["containers"]
    assert len(containers) == 1
    return dict(containers[0])


def test_manager_deployment_is_hardened_and_elects_a_leader() -> None:
    deployment = find("Deployment", "kreconcile-controller-manager")
    pod = deployment["spec"]["template"]["spec"]
    container = _container(deployment)
    assert deployment["spec"]["replicas"] == 2
    assert container["args"][0] == "run"
    assert "--leader-elect" in container["args"]
    assert pod["serviceAccountName"] == "kreconcile-controller-manager"
    assert pod["securityContext"]["runAsNonRoot"] is True
    assert pod["securityContext"]["seccompProfile"] == {"type": "RuntimeDefault"}
    assert container["securityContext"] == {
        "allowPrivilegeEscalation": False,
        "readOnlyRootFilesystem": True,
        "capabilities": {"drop": ["ALL"]},
    }
    assert container["livenessProbe"]["httpGet"] == {"path": "/healthz", "port": "health"}
    assert container["readinessProbe"]["httpGet"] == {"path": "/readyz", "port": "health"}
    ports = {p["name"]: p["containerPort"] for p in container["ports"]}
    assert ports == {"https-metrics": 8443, "health": 8081, "webhook-server": 9443}
    assert "--health-probe-bind-address=:8081" in container["args"]
    assert {"requests", "limits"} <= set(container["resources"])
    env = {e["name"]: e["valueFrom"]["fieldRef"]["fieldPath"] for e in container["env"]}
    assert env == {"POD_NAMESPACE": "metadata.namespace"}
    # the graceful shutdown (30 s) fits before SIGKILL
    assert pod["terminationGracePeriodSeconds"] > 30


def test_agent_daemonset_writes_cgroups_without_privilege() -> None:
    daemonset = find("DaemonSet", "kreconcile-node-agent")
    pod = daemonset["spec"]["template"]["spec"]
    container = _container(daemonset)
    assert container["args"][0] == "agent"
    assert pod["serviceAccountName"] == "kreconcile-node-agent"
    assert {"operator": "Exists"} in pod["tolerations"]
    env = {e["name"]: e["valueFrom"]["fieldRef"]["fieldPath"] for e in container["env"]}
    assert env == {"NODE_NAME": "spec.nodeName"}
    security = container["securityContext"]
    assert security["privileged"] is False
    assert security["allowPrivilegeEscalation"] is False
    assert security["readOnlyRootFilesystem"] is True
    assert security["capabilities"] == {"drop": ["ALL"]}
    host_paths = [v["hostPath"]["path"] for v in pod["volumes"] if "hostPath" in v]
    assert host_paths == ["/sys/fs/cgroup"]
    mount = next(m for m in container["volumeMounts"] if m["name"] == "cgroup")
    assert f"--cgroup-root={mount['mountPath']}" in container["args"]
    assert "leader-elect" not in " ".join(container["args"])


def test_both_workloads_run_the_dockerfile_image_and_mount_the_config() -> None:
    dockerfile = (ROOT / "Dockerfile").read_text()
    assert re.search(r'^ENTRYPOINT \["kreconcile"\]$', dockerfile, re.M)
    assert re.search(r"^USER 65532", dockerfile, re.M)
    tag = re.search(r"docker build -t (\S+) \.", dockerfile)
    assert tag is not None
    for kind, name in (
        ("Deployment", "kreconcile-controller-manager"),
        ("DaemonSet", "kreconcile-node-agent"),
    ):
        obj = find(kind, name)
        container = _container(obj)
        assert container["image"] == tag.group(1)
        config = next(
            v for v in obj["spec"]["template"]["spec"]["volumes"] if v["name"] == "config"
        )
        assert config["configMap"]["name"] == "kreconcile-operators-config"
        assert "--config=/etc/kreconcile/operators.yaml" in container["args"]
    data = find("ConfigMap", "kreconcile-operators-config")["data"]["operators.yaml"]
    assert yaml.safe_load(data) == {}


def _rules(kind: str, name: str) -> list[dict[str, Any]]:
    return list(find(kind, name)["rules"])


def _grants(rules: list[dict[str, Any]]) -> set[tuple[str, str, str]]:
    return {
        (group, resource, verb)
        for rule in rules
        for group in rule["apiGroups"]
        for resource in rule["resources"]
        for verb in rule["verbs"]
    }


def test_no_role_uses_a_wildcard() -> None:
    for obj in rendered():
        for rule in obj.get("rules", []):
            for key in ("apiGroups", "resources", "verbs", "nonResourceURLs"):
                assert "*" not in rule.get(key, []), f"{obj['metadata']['name']}: wildcard in {key}"


# Which verbs the manager's and the agent's ClusterRoles grant is proven by running the
# operators as their ServiceAccounts: tests/integration/controllers/test_rbac_usage.py.


def test_metrics_are_guarded_as_kubebuilder_lays_it_out() -> None:
    assert _grants(_rules("ClusterRole", "kreconcile-metrics-auth-role")) == {
        ("authentication.k8s.io", "tokenreviews", "create"),
        ("authorization.k8s.io", "subjectaccessreviews", "create"),
    }
    binding = find("ClusterRoleBinding", "kreconcile-metrics-auth-rolebinding")
    assert binding["roleRef"]["name"] == "kreconcile-metrics-auth-role"
    assert [s["name"] for s in binding["subjects"]] == [
        "kreconcile-controller-manager",
        "kreconcile-node-agent",
    ]
    assert _rules("ClusterRole", "kreconcile-metrics-reader") == [
        {"nonResourceURLs": ["/metrics"], "verbs": ["get"]}
    ]
    for kind, name in (
        ("Deployment", "kreconcile-controller-manager"),
        ("DaemonSet", "kreconcile-node-agent"),
    ):
        container = _container(find(kind, name))
        assert "--metrics-secure" in container["args"], name
        assert "--metrics-bind-address=:8443" in container["args"], name
        assert {"name": "https-metrics", "containerPort": 8443, "protocol": "TCP"} in container[
            "ports"
        ]


def test_leader_election_role_is_limited_to_the_lease() -> None:
    rules = _rules("Role", "kreconcile-leader-election-role")
    assert _grants(rules) == {
        ("coordination.k8s.io", "leases", "create"),
        ("coordination.k8s.io", "leases", "get"),
        ("coordination.k8s.io", "leases", "update"),
    }
    named = [r for r in rules if r.get("resourceNames")]
    assert named and all(r["resourceNames"] == [DEFAULT_LEADER_ELECTION_ID] for r in named)
    assert all("create" not in r["verbs"] for r in named)  # create cannot be name-limited


@pytest.mark.parametrize(
    ("binding", "role", "account"),
    [
        (
            "kreconcile-manager-rolebinding",
            "kreconcile-manager-role",
            "kreconcile-controller-manager",
        ),
        ("kreconcile-agent-rolebinding", "kreconcile-agent-role", "kreconcile-node-agent"),
    ],
)
def test_each_role_is_bound_to_its_own_service_account(
    binding: str, role: str, account: str
) -> None:
    obj = find("ClusterRoleBinding", binding)
    assert obj["roleRef"]["name"] == role
    assert obj["subjects"] == [{"kind": "ServiceAccount", "name": account, "namespace": NAMESPACE}]


def test_the_file_framework_errors_point_at_exists() -> None:
    role = yaml.safe_load((CONFIG / "rbac" / "role.yaml").read_text())
    assert role["kind"] == "ClusterRole" and role["metadata"]["name"] == "manager-role"


EXPORTED_METRICS = {
    # restarts operator (RestartRecord)
    "pod_monitor_container_restart_total",
    "pod_monitor_container_last_restart_timestamp_seconds",
    "pod_monitor_namespace_restart_ratio",
    # iolimit operator and node agent
    "kreconcile_io_throttle_active",
    "kreconcile_io_throttle_apply_total",
    # agentpool operator
    "kreconcile_agentpool_slots",
    "kreconcile_agentpool_pending_claims",
    "kreconcile_agentpool_scale_events_total",
    # framework (served today; see tests/integration/controllers/test_run.py)
    "kreconcile_config_last_reload_successful",
    "leader_election_master_status",
}
"""The metric names the operators' issues define, plus the framework's own."""


def test_alerts_cover_the_four_situations_with_exported_metrics() -> None:
    rule = find("PrometheusRule", "kreconcile-alerts")
    alerts = {r["alert"]: r for group in rule["spec"]["groups"] for r in group["rules"]}
    assert {
        "ContainerRestartingFrequently",
        "NamespaceRestartAnomaly",
        "IOThrottleActiveTooLong",
        "AgentPoolAtMaxWithPendingClaims",
    } <= set(alerts)
    for name, alert in alerts.items():
        # metric names are the identifiers with an underscore, outside [ranges] and {matchers}
        text = re.sub(r"\[[^]]*\]|\{[^}]*\}", " ", alert["expr"])
        words = {w for w in re.findall(r"[a-z_][a-z0-9_]*", text) if "_" in w}
        unknown = words - EXPORTED_METRICS
        assert not unknown, f"{name} uses metrics nobody exports: {unknown}"
        assert words & EXPORTED_METRICS, f"{name} uses no metric"
        assert alert["labels"]["severity"] in ("info", "warning", "critical")
        assert alert["annotations"]["description"]


def test_service_monitor_scrapes_both_metrics_services() -> None:
    monitor = find("ServiceMonitor", "kreconcile-metrics-monitor")
    selector = monitor["spec"]["selector"]["matchLabels"]
    services = [
        d
        for d in rendered()
        if d["kind"] == "Service"
        and all(d["metadata"]["labels"].get(k) == v for k, v in selector.items())
    ]
    assert sorted(s["metadata"]["name"] for s in services) == [
        "kreconcile-controller-manager-metrics-service",
        "kreconcile-node-agent-metrics-service",
    ]
    (endpoint,) = monitor["spec"]["endpoints"]
    for service in services:
        assert [p["name"] for p in service["spec"]["ports"]] == [endpoint["port"]]
    # both endpoints serve HTTPS to scrapers with a token (--metrics-secure)
    assert endpoint["scheme"] == "https"
    assert endpoint["bearerTokenFile"] == "/var/run/secrets/kubernetes.io/serviceaccount/token"
