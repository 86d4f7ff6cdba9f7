"""config/webhook and config/certmanager as config/default renders them: the webhooks call
the manager through the Service at the paths the operators serve, and cert-manager issues
the Service's certificate into the Secret the manager mounts and injects its CA."""

from __future__ import annotations

from typing import Any

from controllers import devwebhooks
from crds import DEFINITIONS
from reconcile.gvk import GroupVersionKind
from reconcile.webhook import validate_path
from tests.integration.config.manifests import find, rendered

NAMESPACE = "kreconcile-system"
SERVICE = "kreconcile-webhook-service"
CONFIGURATION = "kreconcile-validating-webhook-configuration"


def _manager_container() -> dict[str, Any]:
    deployment = find("Deployment", "kreconcile-controller-manager")
    container: dict[str, Any] = deployment["spec"]["template"]["spec"]["containers"][0]
    return container


def test_each_webhook_calls_the_service_at_kubebuilder_path_of_its_kind() -> None:
    webhooks = find("ValidatingWebhookConfiguration", CONFIGURATION)["webhooks"]
    kinds = {d.plural: d.gvk for d in DEFINITIONS}
    served = set()
    for webhook in webhooks:
        (rule,) = webhook["rules"]
        (group,), (version,), (resource,) = (rule["apiGroups"], rule["apiVersions"],
                                              rule["resources"])  # fmt: skip
        kind = kinds[resource]
        assert GroupVersionKind(group, version, kind.kind) == kind
        service = webhook["clientConfig"]["service"]
        assert (service["name"], service["namespace"]) == (SERVICE, NAMESPACE)
        assert service["path"] == validate_path(kind)
        assert webhook["name"] == f"v{kind.kind.lower()}.{kind.group}"
        assert (webhook["failurePolicy"], webhook["sideEffects"]) == ("Fail", "None")
        assert set(rule["operations"]) == {"CREATE", "UPDATE"}
        served.add(kind.kind)
    assert served == {"AgentPool", "IOLimitPolicy"}


def test_kreconcile_dev_addresses_the_same_service_so_applying_config_default_fits() -> None:
    """dev's configurations call config/default's Service and name their webhooks alike,
    so `kubectl apply -k config/default` against dev merges into them."""
    assert (devwebhooks.SERVICE, devwebhooks.SERVICE_NAMESPACE) == (SERVICE, NAMESPACE)
    assert devwebhooks.VALIDATING_CONFIGURATION == CONFIGURATION
    (port,) = find("Service", SERVICE)["spec"]["ports"]
    assert port["port"] == devwebhooks.SERVICE_PORT


def test_the_service_reaches_the_manager_webhook_port() -> None:
    service = find("Service", SERVICE)
    (port,) = service["spec"]["ports"]
    assert port["port"] == 443
    container = _manager_container()
    ports = {p["name"]: p["containerPort"] for p in container["ports"]}
    assert port["targetPort"] == ports["webhook-server"] == 9443
    labels = find("Deployment", "kreconcile-controller-manager")["spec"]["template"]["metadata"]
    assert service["spec"]["selector"].items() <= labels["labels"].items()


def test_cert_manager_issues_the_mounted_certificate_and_injects_its_ca() -> None:
    certificate = find("Certificate", "kreconcile-serving-cert")
    assert certificate["metadata"]["namespace"] == NAMESPACE
    assert certificate["spec"]["dnsNames"] == [
        f"{SERVICE}.{NAMESPACE}.svc",
        f"{SERVICE}.{NAMESPACE}.svc.cluster.local",
    ]
    issuer = find("Issuer", certificate["spec"]["issuerRef"]["name"])
    assert issuer["spec"] == {"selfSigned": {}}
    configuration = find("ValidatingWebhookConfiguration", CONFIGURATION)
    assert configuration["metadata"]["annotations"]["cert-manager.io/inject-ca-from"] == (
        f"{NAMESPACE}/kreconcile-serving-cert"
    )
    deployment = find("Deployment", "kreconcile-controller-manager")
    volume = next(
        v for v in deployment["spec"]["template"]["spec"]["volumes"] if v["name"] == "webhook-certs"
    )
    assert volume["secret"]["secretName"] == certificate["spec"]["secretName"]
    container = _manager_container()
    mount = next(m for m in container["volumeMounts"] if m["name"] == "webhook-certs")
    assert mount["readOnly"] is True
    assert f"--webhook-cert-path={mount['mountPath']}" in container["args"]


def test_only_the_manager_serves_webhooks() -> None:
    for obj in rendered():
        if obj["kind"] in ("Deployment", "DaemonSet") and obj["metadata"]["name"] != (
            "kreconcile-controller-manager"
        ):
            args = " ".join(obj["spec"]["template"]["spec"]["containers"][0]["args"])
            assert "--webhook" not in args
