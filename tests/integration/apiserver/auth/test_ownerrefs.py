"""OwnerReferencesPermissionEnforcement: blocking an owner's deletion needs its finalizers.

The plugin is off by default (as in kube-apiserver); these servers turn it on, and log the
authorization decisions so the checks made on the requester's behalf can be seen.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from reconcile.apiserver import APIServer, ServerOptions
from reconcile.client import Client, RestConfig
from reconcile.errors import Forbidden
from tests.integration.apiserver.auth.conftest import (
    binding,
    namespace,
    role,
    service_account,
    service_account_token,
)


@pytest.fixture(scope="module")
def apiserver() -> Iterator[APIServer]:
    server = APIServer(
        ServerOptions(owner_references_permission_enforcement=True, authorization_log=1000)
    )
    server.start()
    try:
        yield server
    finally:
        server.stop()


def _owner(obj: dict[str, Any], *, block: bool) -> dict[str, Any]:
    return {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "name": obj["metadata"]["name"],
        "uid": obj["metadata"]["uid"],
        "controller": True,
        "blockOwnerDeletion": block,
    }


def _secret(ns: str, name: str, owner: dict[str, Any] | None = None) -> dict[str, Any]:
    meta: dict[str, Any] = {"name": name, "namespace": ns}
    if owner is not None:
        meta["ownerReferences"] = [owner]
    return {"apiVersion": "v1", "kind": "Secret", "metadata": meta}


@pytest.fixture
def scene(
    apiserver: APIServer, admin: Client, tmp_path: Path, request: pytest.FixtureRequest
) -> tuple[str, dict[str, Any], Client]:
    """A namespace of the test's own, a ConfigMap ``owner`` in it, and a ServiceAccount
    ``writer`` that may create, read and update Secrets there (not delete them)."""
    ns = namespace(admin, request.node.name.replace("_", "-")[5:40].strip("-"))
    owner = admin.create(
        {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "owner", "namespace": ns}}
    )
    rules = [{"apiGroups": [""], "resources": ["secrets"], "verbs": ["create", "get", "update"]}]
    admin.create(role(ns, "writer", rules))
    admin.create(binding(ns, "writer", "Role", "writer", service_account(ns, "writer")))
    token = service_account_token(admin, ns, "writer")
    kubeconfig = apiserver.write_kubeconfig(tmp_path / "kc", token=token)
    return ns, owner, Client(RestConfig.from_kubeconfig(kubeconfig))


def test_blocking_owner_deletion_needs_update_on_the_owners_finalizers(
    apiserver: APIServer, admin: Client, scene: tuple[str, dict[str, Any], Client]
) -> None:
    ns, owner, writer = scene
    writer.create(_secret(ns, "plain", _owner(owner, block=False)))
    with pytest.raises(Forbidden) as refused:
        writer.create(_secret(ns, "blocking", _owner(owner, block=True)))
    assert refused.value.message.startswith(
        'secrets "blocking" is forbidden: cannot set blockOwnerDeletion if an ownerReference '
        "refers to a resource you can't set finalizers on"
    )
    finalizers = [{"apiGroups": [""], "resources": ["configmaps/finalizers"],
                   "resourceNames": ["owner"], "verbs": ["update"]}]  # fmt: skip
    admin.create(role(ns, "owner-finalizers", finalizers))
    admin.create(
        binding(ns, "owner-finalizers", "Role", "owner-finalizers", service_account(ns, "writer"))
    )
    created = writer.create(_secret(ns, "blocking", _owner(owner, block=True)))
    assert created["metadata"]["ownerReferences"][0]["blockOwnerDeletion"] is True
    assert apiserver.security is not None and apiserver.security.decisions is not None
    checks = {
        (d.attributes.resource, d.attributes.subresource, d.attributes.name, d.allowed)
        for d in apiserver.security.decisions.decisions(f"system:serviceaccount:{ns}:writer")
        if d.attributes.verb == "update"
    }
    assert checks == {("configmaps", "finalizers", "owner", False),
                      ("configmaps", "finalizers", "owner", True)}  # fmt: skip


def test_changing_owner_references_needs_delete_on_the_object(
    scene: tuple[str, dict[str, Any], Client],
) -> None:
    ns, owner, writer = scene
    secret = writer.create(_secret(ns, "adopted"))
    secret["metadata"]["labels"] = {"touched": "yes"}
    secret = writer.update(secret)  # no owner reference changes: no delete needed
    secret["metadata"]["ownerReferences"] = [_owner(owner, block=False)]
    with pytest.raises(Forbidden, match="cannot set an ownerRef on a resource you can't delete"):
        writer.update(secret)
