"""Admission webhooks served by a manager and called by the embedded API server, driven by
the real kubectl: refusals with the webhook's message, server-side dry runs, defaults
recorded under the webhook's manager, warnings, failure policies, timeouts, selectors and
match conditions, CA verification, panics and reinvocation."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from reconcile.errors import Invalid
from reconcile.gvk import GroupVersionKind
from reconcile.webhook import (
    AdmissionRequest,
    AdmissionResponse,
    FieldError,
    Webhook,
    WebhookBuilder,
    allowed,
    denied,
    invalid,
    patch_response,
    request_from_context,
)
from tests.integration.apiserver.manifests import crd
from tests.integration.webhook.cluster import WebhookCluster, free_port

GADGET = GroupVersionKind("example.com", "v1", "Gadget")
GADGET_CRD = crd(
    "example.com",
    "gadgets",
    "Gadget",
    {
        "type": "object",
        "properties": {
            "spec": {
                "type": "object",
                "properties": {
                    "size": {"type": "integer"},
                    "color": {"type": "string"},
                    "tier": {"type": "string"},
                },
            }
        },
    },
)


class GadgetValidator:
    """Refuses more than 10 gadgets; warns about pink ones; remembers dryRun flags."""

    def __init__(self) -> None:
        self.dry_runs: list[tuple[str, bool]] = []

    def _check(self, obj: dict[str, Any]) -> list[str] | None:
        request = request_from_context()
        self.dry_runs.append((str(obj["metadata"].get("name")), request.dry_run))
        size = int(obj.get("spec", {}).get("size", 0))
        if size > 10:
            raise invalid(
                GADGET,
                str(obj["metadata"].get("name")),
                FieldError("Invalid", "spec.size", "at most 10 gadgets fit in a box", value=size),
            )
        if obj.get("spec", {}).get("color") == "pink":
            return ["pink gadgets fade in the sun"]
        return None

    def validate_create(self, obj: dict[str, Any]) -> list[str] | None:
        return self._check(obj)

    def validate_update(self, old: dict[str, Any], new: dict[str, Any]) -> list[str] | None:
        return self._check(new)

    def validate_delete(self, obj: dict[str, Any]) -> None:
        return None


class GadgetDefaulter:
    def default(self, obj: dict[str, Any]) -> None:
        obj.setdefault("spec", {}).setdefault("tier", "standard")


class Handler:
    """An admission handler from a function."""

    def __init__(self, decide: Any) -> None:
        self.decide = decide

    def handle(self, request: AdmissionRequest) -> AdmissionResponse:
        result: AdmissionResponse = self.decide(request)
        return result


def _label(key: str, value: str) -> Any:
    def decide(request: AdmissionRequest) -> AdmissionResponse:
        assert request.object is not None
        changed = json.loads(json.dumps(request.object))
        changed["metadata"].setdefault("labels", {})[key] = value
        return patch_response(request.object, changed)

    return decide


def _seen_label(request: AdmissionRequest) -> AdmissionResponse:
    """Annotates whether label ``b`` was there when this webhook ran."""
    assert request.object is not None
    changed = json.loads(json.dumps(request.object))
    seen = "after-b" if "b" in (changed["metadata"].get("labels") or {}) else "before-b"
    changed["metadata"].setdefault("annotations", {})["a"] = seen
    return patch_response(request.object, changed)


def _panic(request: AdmissionRequest) -> AdmissionResponse:
    raise RuntimeError("the gadget counter overflowed")


@pytest.fixture(scope="module")
def release() -> Iterator[threading.Event]:
    event = threading.Event()
    yield event
    event.set()


@pytest.fixture(scope="module")
def cluster(
    tmp_path_factory: pytest.TempPathFactory, release: threading.Event
) -> Iterator[WebhookCluster]:
    cluster = WebhookCluster(tmp_path_factory.mktemp("webhooks"))
    validator = GadgetValidator()
    (
        WebhookBuilder(cluster.manager)
        .for_(GADGET)
        .with_validator(validator)
        .with_defaulter(GadgetDefaulter())
        .complete()
    )
    server = cluster.server
    server.register("/deny", Webhook(Handler(lambda r: denied("no configmaps here today"))))
    server.register("/slow", Webhook(Handler(lambda r: (release.wait(10), allowed())[1])))
    server.register("/panic", Webhook(Handler(_panic)))
    server.register("/label-b", Webhook(Handler(_label("b", "yes"))))
    server.register("/seen-b", Webhook(Handler(_seen_label)))
    cluster.validator = validator  # type: ignore[attr-defined]
    cluster.client.create(GADGET_CRD)
    cluster.start()
    try:
        yield cluster
    finally:
        release.set()
        cluster.stop()


def _gadget(name: str, namespace: str, **spec: Any) -> str:
    return json.dumps(
        {
            "apiVersion": "example.com/v1",
            "kind": "Gadget",
            "metadata": {"name": name, "namespace": namespace},
            "spec": spec,
        }
    )


def _gadget_hooks(cluster: WebhookCluster, scope: str) -> None:
    cluster.configure(
        "Validating",
        f"v-{scope}",
        cluster.webhook("vgadget.example.com", "/validate-example-com-v1-gadget", scope=scope),
    )
    cluster.configure(
        "Mutating",
        f"m-{scope}",
        cluster.webhook("mgadget.example.com", "/mutate-example-com-v1-gadget", scope=scope),
    )


def test_validating_webhook_refuses_with_its_message_and_sees_server_dry_run(
    cluster: WebhookCluster,
) -> None:
    namespace = cluster.namespace("refuse")
    _gadget_hooks(cluster, namespace)
    refused = cluster.kubectl.run("apply", "-f", "-", input=_gadget("big", namespace, size=11),
                                  check=False)  # fmt: skip
    assert refused.returncode != 0
    # the webhook's 422 and its causes reach kubectl, which prints them as its own
    cause = "spec.size: Invalid value: 11: at most 10 gadgets fit in a box"
    assert f'The Gadget "big" is invalid: {cause}' in refused.stderr
    with pytest.raises(Invalid) as error:
        cluster.client.create(json.loads(_gadget("big", namespace, size=11)))
    assert error.value.message == (
        'admission webhook "vgadget.example.com" denied the request: Gadget.example.com "big" '
        f"is invalid: {cause}"
    )
    assert [c.field for c in error.value.causes] == ["spec.size"]

    dry = cluster.kubectl("apply", "--dry-run=server", "-f", "-", input=_gadget("dry", namespace))
    assert "(server dry run)" in dry
    validator: GadgetValidator = cluster.validator  # type: ignore[attr-defined]
    assert ("dry", True) in validator.dry_runs
    missing = cluster.kubectl.run("get", "gadget", "dry", "-n", namespace, check=False)
    assert "NotFound" in missing.stderr


def test_mutating_webhook_defaults_appear_and_are_owned_by_the_webhook(
    cluster: WebhookCluster,
) -> None:
    namespace = cluster.namespace("defaults")
    _gadget_hooks(cluster, namespace)
    cluster.kubectl("apply", "-f", "-", input=_gadget("plain", namespace, size=2))
    obj = json.loads(
        cluster.kubectl(
            "get", "gadget", "plain", "-n", namespace, "-o", "json", "--show-managed-fields"
        )
    )
    assert obj["spec"] == {"size": 2, "tier": "standard"}
    owners = {e["manager"]: e["fieldsV1"] for e in obj["metadata"]["managedFields"]}
    assert owners["mgadget.example.com"] == {"f:spec": {"f:tier": {}}}
    kubectl_fields = owners["kubectl-client-side-apply"]
    assert "f:tier" not in kubectl_fields["f:spec"]
    assert "f:size" in kubectl_fields["f:spec"]

    cluster.kubectl(
        "apply", "--server-side", "-f", "-", input=_gadget("applied", namespace, size=1)
    )
    applied = json.loads(
        cluster.kubectl(
            "get", "gadget", "applied", "-n", namespace, "-o", "json", "--show-managed-fields"
        )
    )
    assert applied["spec"] == {"size": 1, "tier": "standard"}
    entries = {
        (e["manager"], e["operation"]): e["fieldsV1"] for e in applied["metadata"]["managedFields"]
    }
    assert entries[("kubectl", "Apply")]["f:spec"] == {"f:size": {}}
    assert entries[("mgadget.example.com", "Update")] == {"f:spec": {"f:tier": {}}}


def test_warnings_reach_kubectl(cluster: WebhookCluster) -> None:
    namespace = cluster.namespace("warn")
    _gadget_hooks(cluster, namespace)
    result = cluster.kubectl.run("apply", "-f", "-", input=_gadget("rose", namespace, color="pink"))
    assert "Warning: pink gadgets fade in the sun" in result.stderr


def _configmap(name: str, namespace: str, **labels: str) -> str:
    return json.dumps(
        {
            "apiVersion": "v1",
            "kind": "ConfigMap",
            "metadata": {"name": name, "namespace": namespace, "labels": labels},
        }
    )


def test_failure_policy_decides_when_the_webhook_is_down(cluster: WebhookCluster) -> None:
    namespace = cluster.namespace("down")
    down = f"https://127.0.0.1:{free_port()}/validate"
    cluster.configure(
        "Validating", "down", cluster.webhook("down.example.com", "", scope=namespace, url=down)
    )
    refused = cluster.kubectl.run("apply", "-f", "-", input=_configmap("a", namespace), check=False)
    assert refused.returncode != 0
    assert 'Internal error occurred: failed calling webhook "down.example.com"' in refused.stderr
    assert "connect: connection refused" in refused.stderr
    cluster.configure(
        "Validating",
        "down",
        cluster.webhook("down.example.com", "", scope=namespace, url=down, failurePolicy="Ignore"),
    )
    assert "created" in cluster.kubectl("apply", "-f", "-", input=_configmap("a", namespace))


def test_timeout_fails_closed_or_open_by_policy(cluster: WebhookCluster) -> None:
    namespace = cluster.namespace("slow")
    slow = cluster.webhook("slow.example.com", "/slow", scope=namespace, timeoutSeconds=1)
    cluster.configure("Validating", "slow", slow)
    refused = cluster.kubectl.run("apply", "-f", "-", input=_configmap("a", namespace), check=False)
    assert refused.returncode != 0
    assert "context deadline exceeded" in refused.stderr
    assert "?timeout=1s" in refused.stderr
    cluster.configure("Validating", "slow", {**slow, "failurePolicy": "Ignore"})
    assert "created" in cluster.kubectl("apply", "-f", "-", input=_configmap("a", namespace))


def test_object_selector_and_match_conditions_skip_the_webhook(cluster: WebhookCluster) -> None:
    namespace = cluster.namespace("select")
    cluster.configure(
        "Validating",
        "select",
        cluster.webhook(
            "deny.example.com",
            "/deny",
            scope=namespace,
            objectSelector={"matchLabels": {"checked": "yes"}},
            matchConditions=[
                {"name": "not-exempt", "expression": "object.metadata.name != 'exempt'"}
            ],
        ),
    )
    kubectl = cluster.kubectl
    assert "created" in kubectl("apply", "-f", "-", input=_configmap("unlabelled", namespace))
    assert "created" in kubectl(
        "apply", "-f", "-", input=_configmap("exempt", namespace, checked="yes")
    )
    refused = kubectl.run(
        "apply", "-f", "-", input=_configmap("checked", namespace, checked="yes"), check=False
    )
    assert 'admission webhook "deny.example.com" denied the request: no configmaps here today' in (
        refused.stderr
    )


def test_a_webhook_named_by_service_is_called_where_the_server_routes_the_service(
    cluster: WebhookCluster,
) -> None:
    """The embedded server has no cluster network: an unrouted Service is not reached (and
    the failure names its DNS name); once routed, the call goes to the routed address and
    the certificate is verified for the Service's DNS name, as kube-apiserver does."""
    namespace = cluster.namespace("routed")
    service = {"namespace": "webhooks", "name": "gate", "path": "/deny"}
    hook = cluster.webhook("routed.example.com", "", scope=namespace)
    hook["clientConfig"] = {"service": service, "caBundle": cluster.ca_bundle}
    cluster.configure("Validating", "routed", hook)
    manifest = _configmap("a", namespace)
    unrouted = cluster.kubectl.run("apply", "-f", "-", input=manifest, check=False)
    assert 'failed calling webhook "routed.example.com"' in unrouted.stderr
    assert "https://gate.webhooks.svc:443/deny" in unrouted.stderr
    routes = cluster.apiserver.service_routes
    routes.route("webhooks", "gate", 443, "127.0.0.1", cluster.server.port or 0)
    try:
        refused = cluster.kubectl.run("apply", "-f", "-", input=manifest, check=False)
        assert (
            'admission webhook "routed.example.com" denied the request: no configmaps here today'
        ) in refused.stderr
    finally:
        routes.remove("webhooks", "gate", 443)


def test_ca_bundle_is_verified(cluster: WebhookCluster) -> None:
    namespace = cluster.namespace("untrusted")
    other_ca = cluster.issue().cert_pem  # a leaf, not the CA that signed the server
    import base64

    hook = cluster.webhook("untrusted.example.com", "/deny", scope=namespace)
    hook["clientConfig"]["caBundle"] = base64.b64encode(other_ca).decode()
    cluster.configure("Validating", "untrusted", hook)
    refused = cluster.kubectl.run("apply", "-f", "-", input=_configmap("a", namespace), check=False)
    assert "tls: failed to verify certificate: x509:" in refused.stderr


def test_panic_is_an_errored_review_counted_in_metrics(cluster: WebhookCluster) -> None:
    namespace = cluster.namespace("panic")
    cluster.configure("Validating", "panic", cluster.webhook("panic.example.com", "/panic",
                                                             scope=namespace))  # fmt: skip
    refused = cluster.kubectl.run("apply", "-f", "-", input=_configmap("a", namespace), check=False)
    assert (
        'admission webhook "panic.example.com" denied the request: panic: the gadget counter '
        "overflowed [recovered]"
    ) in refused.stderr
    registry = cluster.manager.registry
    assert registry.get_sample_value("controller_runtime_webhook_panics_total") == 1
    sample = registry.get_sample_value
    assert sample("controller_runtime_webhook_requests_total",
                  {"webhook": "/panic", "code": "200"}) == 1  # fmt: skip
    assert sample("controller_runtime_webhook_latency_seconds_count", {"webhook": "/panic"}) == 1
    assert sample("controller_runtime_webhook_requests_in_flight", {"webhook": "/panic"}) == 0
    assert cluster.server.started_checker()() is None  # the readiness check passes


@pytest.mark.parametrize(("policy", "seen"), [("IfNeeded", "after-b"), ("Never", "before-b")])
def test_reinvocation_policy(cluster: WebhookCluster, policy: str, seen: str) -> None:
    namespace = cluster.namespace(f"reinvoke-{policy.lower()}")
    cluster.configure(
        "Mutating",
        f"reinvoke-{policy.lower()}",
        cluster.webhook("seen-b.example.com", "/seen-b", scope=namespace,
                        reinvocationPolicy=policy),
        cluster.webhook("label-b.example.com", "/label-b", scope=namespace),
    )  # fmt: skip
    cluster.kubectl("apply", "-f", "-", input=_configmap("a", namespace))
    annotations = json.loads(
        cluster.kubectl("get", "configmap", "a", "-n", namespace, "-o", "json")
    )["metadata"]["annotations"]
    assert annotations["a"] == seen


def test_configurations_are_defaulted_and_checked(cluster: WebhookCluster, tmp_path: Path) -> None:
    stored = json.loads(
        cluster.kubectl("get", "mutatingwebhookconfiguration", "m-refuse", "-o", "json")
    )["webhooks"][0]
    assert (stored["failurePolicy"], stored["matchPolicy"], stored["reinvocationPolicy"]) == (
        "Fail", "Equivalent", "Never",
    )  # fmt: skip
    assert stored["timeoutSeconds"] == 5 and stored["objectSelector"] == {}
    bad = {
        "apiVersion": "admissionregistration.k8s.io/v1",
        "kind": "ValidatingWebhookConfiguration",
        "metadata": {"name": "bad"},
        "webhooks": [
            {
                "name": "bad",
                "clientConfig": {"url": "http://127.0.0.1/x"},
                "sideEffects": "Some",
                "admissionReviewVersions": ["v1"],
                "timeoutSeconds": 31,
                "matchConditions": [{"name": "c", "expression": "object.("}],
            }
        ],
    }
    refused = cluster.kubectl.run("apply", "-f", "-", input=json.dumps(bad), check=False)
    for field in (
        "webhooks[0].name", "webhooks[0].clientConfig.url", "webhooks[0].sideEffects",
        "webhooks[0].timeoutSeconds", "webhooks[0].matchConditions[0].expression",
    ):  # fmt: skip
        assert f"{field}:" in refused.stderr, refused.stderr


def test_a_scale_rule_sees_the_scale_and_not_the_resource(cluster: WebhookCluster) -> None:
    namespace = cluster.namespace("scale")
    rule = {"operations": ["UPDATE"], "apiGroups": ["apps"], "apiVersions": ["v1"],
            "resources": ["deployments/scale"]}  # fmt: skip
    cluster.configure("Validating", "scale", cluster.webhook("scale.example.com", "/deny",
                                                            scope=namespace, rules=[rule]))  # fmt: skip
    kubectl = cluster.kubectl
    kubectl("create", "deployment", "web", "--image=nginx", "-n", namespace)
    assert "patched" in kubectl("patch", "deployment", "web", "-n", namespace,
                               "-p", '{"spec":{"replicas":2}}')  # fmt: skip
    refused = kubectl.run("scale", "deployment", "web", "-n", namespace, "--replicas=3",
                          check=False)  # fmt: skip
    assert 'admission webhook "scale.example.com" denied the request' in refused.stderr
    replicas = kubectl("get", "deployment", "web", "-n", namespace, "-o",
                       "jsonpath={.spec.replicas}")  # fmt: skip
    assert replicas == "2"
