"""`kubectl apply -k config/default` on the embedded API server: dry-run, idempotent, delete."""

from __future__ import annotations

import json
from typing import Any

from tests.conftest import Kubectl
from tests.integration.config.manifests import CONFIG, rendered

NAMESPACE_LINE = "namespace/kreconcile-system"


def _third_party_crd(group: str, kind: str, plural: str) -> dict[str, Any]:
    """A minimal CRD for a kind config/default uses but another project installs."""
    return {
        "apiVersion": "apiextensions.k8s.io/v1",
        "kind": "CustomResourceDefinition",
        "metadata": {"name": f"{plural}.{group}"},
        "spec": {
            "group": group,
            "scope": "Namespaced",
            "names": {"plural": plural, "singular": kind.lower(), "kind": kind},
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


CERT_MANAGER_CRDS = [
    _third_party_crd("cert-manager.io", "Certificate", "certificates"),
    _third_party_crd("cert-manager.io", "Issuer", "issuers"),
]
"""cert-manager's kinds (config/certmanager); a cluster gets them from cert-manager."""


def _lines(output: str) -> list[str]:
    return [line for line in output.splitlines() if line.strip()]


def test_dry_run_then_apply_twice_then_delete(kubectl: Kubectl) -> None:
    default = str(CONFIG / "default")
    objects = len(rendered())
    kubectl("apply", "-f", "-", input=json.dumps({"apiVersion": "v1", "kind": "List",
                                                  "items": CERT_MANAGER_CRDS}))  # fmt: skip

    # As on kube-apiserver, a dry-run create in a namespace that does not exist yet is
    # refused (NamespaceLifecycle admission runs in dry-run too): the namespace comes first.
    kubectl("create", "namespace", "kreconcile-system")
    dry = _lines(kubectl("apply", "--dry-run=server", "-k", default))
    assert len(dry) == objects
    assert all(line.endswith("(server dry run)") for line in dry), dry
    assert "kreconcile.io" not in kubectl("get", "crd", "-o", "name")
    stored = kubectl("get", "sa,cm,deploy,ds,svc", "-n", "kreconcile-system", "-o", "name")
    assert "kreconcile-" not in stored

    first = _lines(kubectl("apply", "-k", default))
    assert len(first) == objects
    not_created = [line for line in first if not line.endswith(" created")]
    assert not_created == [f"{NAMESPACE_LINE} configured"], first

    second = _lines(kubectl("apply", "-k", default))
    assert len(second) == objects
    assert [line for line in second if not line.endswith(" unchanged")] == []

    replicas = kubectl(
        "get", "deployment", "kreconcile-controller-manager", "-n", "kreconcile-system",
        "-o", "jsonpath={.spec.replicas}",
    )  # fmt: skip
    assert replicas == "2"

    deleted = kubectl.run("delete", "-k", default, timeout=120)
    assert deleted.returncode == 0, deleted.stderr
    assert len([line for line in _lines(deleted.stdout) if line.endswith(" deleted")]) == objects
    assert "kreconcile.io" not in kubectl("get", "crd", "-o", "name")
    gone = kubectl.run("get", "namespace", "kreconcile-system", check=False)
    assert "NotFound" in gone.stderr
