"""Owner references and deletion propagation, driven by kubectl's --cascade flag."""

from __future__ import annotations

import json

import pytest

from tests.conftest import Kubectl
from tests.waiting import wait_for


def _owner_and_children(kubectl: Kubectl) -> str:
    owner = json.loads(
        kubectl(
            "create",
            "-o",
            "json",
            "-f",
            "-",
            input="apiVersion: v1\nkind: ConfigMap\nmetadata: {name: owner}\n",
        )
    )
    uid = owner["metadata"]["uid"]
    for name in ("child-a", "child-b"):
        kubectl(
            "create", "-f", "-",
            input=json.dumps({
                "apiVersion": "v1", "kind": "ConfigMap",
                "metadata": {"name": name, "ownerReferences": [
                    {"apiVersion": "v1", "kind": "ConfigMap", "name": "owner", "uid": uid,
                     "controller": True, "blockOwnerDeletion": True}]},
            }),
        )  # fmt: skip
    return str(uid)


def _names(kubectl: Kubectl) -> list[str]:
    return sorted(kubectl("get", "configmaps", "-o", "name").split())


@pytest.mark.parametrize("cascade", ["background", "foreground"])
def test_deleting_owner_deletes_dependents(kubectl: Kubectl, cascade: str) -> None:
    _owner_and_children(kubectl)
    kubectl("delete", "configmap", "owner", f"--cascade={cascade}", "--timeout=30s")
    wait_for(lambda: not any(n.startswith("configmap/child") for n in _names(kubectl)), timeout=15)
    assert "configmap/owner" not in _names(kubectl)


def test_orphan_keeps_dependents_without_owner_reference(kubectl: Kubectl) -> None:
    _owner_and_children(kubectl)
    kubectl("delete", "configmap", "owner", "--cascade=orphan", "--timeout=30s")
    wait_for(lambda: "configmap/owner" not in _names(kubectl), timeout=15)
    child = json.loads(kubectl("get", "configmap", "child-a", "-o", "json"))
    assert "ownerReferences" not in child["metadata"]


def test_dependent_with_another_live_owner_survives(kubectl: Kubectl) -> None:
    uid = _owner_and_children(kubectl)
    other = json.loads(
        kubectl(
            "create",
            "-o",
            "json",
            "-f",
            "-",
            input="apiVersion: v1\nkind: ConfigMap\nmetadata: {name: other}\n",
        )
    )
    refs = [
        {"apiVersion": "v1", "kind": "ConfigMap", "name": "owner", "uid": uid},
        {"apiVersion": "v1", "kind": "ConfigMap", "name": "other", "uid": other["metadata"]["uid"]},
    ]
    kubectl(
        "patch",
        "configmap",
        "child-a",
        "--type=merge",
        "-p",
        json.dumps({"metadata": {"ownerReferences": refs}}),
    )
    kubectl("delete", "configmap", "owner", "--timeout=30s")
    wait_for(lambda: "configmap/child-b" not in _names(kubectl), timeout=15)
    child = json.loads(kubectl("get", "configmap", "child-a", "-o", "json"))
    assert [r["name"] for r in child["metadata"]["ownerReferences"]] == ["other"]
