"""kreconcile dev's webhook configurations: one webhook per registered endpoint, named,
matched and addressed as config/default's (through the webhook Service), trusting the
dev CA, whose serving certificate covers the Service's DNS names."""

from __future__ import annotations

import base64
from pathlib import Path

from cryptography import x509

from controllers.devwebhooks import (
    MUTATING_CONFIGURATION,
    SERVICE,
    SERVICE_NAMESPACE,
    VALIDATING_CONFIGURATION,
    configurations,
    write_certificate,
)
from crds import AgentPool
from reconcile.gvk import GroupVersionKind
from reconcile.webhook import Endpoint, mutate_path, validate_path

GADGET = GroupVersionKind("example.com", "v1", "Gadget")


def test_one_configuration_per_purpose_with_a_webhook_per_endpoint() -> None:
    endpoints = [
        Endpoint(validate_path(AgentPool.GVK), "validating", AgentPool.GVK),
        Endpoint(mutate_path(GADGET), "mutating", GADGET),
        Endpoint("/convert", "conversion"),
    ]
    found = configurations(endpoints, b"CA", lambda k: k.kind.lower() + "s")
    assert [(c["kind"], c["metadata"]["name"]) for c in found] == [
        ("ValidatingWebhookConfiguration", VALIDATING_CONFIGURATION),
        ("MutatingWebhookConfiguration", MUTATING_CONFIGURATION),
    ]
    (validating,) = found[0]["webhooks"]
    assert validating["name"] == "vagentpool.kreconcile.io"
    assert validating["clientConfig"] == {
        "service": {
            "namespace": "kreconcile-system",
            "name": "kreconcile-webhook-service",
            "path": "/validate-kreconcile-io-v1alpha1-agentpool",
            "port": 443,
        },
        "caBundle": base64.b64encode(b"CA").decode(),
    }
    assert validating["rules"] == [{"operations": ["CREATE", "UPDATE"],
                                    "apiGroups": ["kreconcile.io"], "apiVersions": ["v1alpha1"],
                                    "resources": ["agentpools"]}]  # fmt: skip
    assert found[1]["webhooks"][0]["name"] == "mgadget.example.com"
    assert configurations([Endpoint("/convert", "conversion")], b"", str) == []


def test_the_certificate_serves_the_service_and_is_signed_by_the_returned_ca(
    tmp_path: Path,
) -> None:
    ca_pem = write_certificate(tmp_path)
    leaf = x509.load_pem_x509_certificate((tmp_path / "tls.crt").read_bytes())
    ca = x509.load_pem_x509_certificate(ca_pem)
    assert leaf.issuer == ca.subject
    names = leaf.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    assert "127.0.0.1" in {str(ip) for ip in names.get_values_for_type(x509.IPAddress)}
    assert {
        f"{SERVICE}.{SERVICE_NAMESPACE}.svc",
        f"{SERVICE}.{SERVICE_NAMESPACE}.svc.cluster.local",
    } <= set(names.get_values_for_type(x509.DNSName))
    assert (tmp_path / "tls.key").stat().st_mode & 0o077 == 0
