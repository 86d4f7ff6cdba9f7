"""`kubectl apply -k config/default` on the embedded API server: dry-run, idempotent, delete."""

from __future__ import annotations

import json

from tests.conftest import Kubectl
from tests.integration.apiserver.manifests import crd
from tests.integration.config.manifests import CONFIG, rendered

NAMESPACE_LINE = "namespace/kreconcile-system"


_ANY = {"type": "object", "x-kubernetes-preserve-unknown-fields": True}
CERT_MANAGER_CRDS = [
    crd("cert-manager.io", "certificates", "Certificate", _ANY),
    crd("cert-manager.io", "issuers", "Issuer", _ANY),
]
"""Minimal CRDs of cert-manager's kinds (config/certmanager); cert-manager installs the real
ones in a cluster."""


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
