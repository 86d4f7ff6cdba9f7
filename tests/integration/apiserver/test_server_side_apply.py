"""Server-side apply and field ownership, driven by kubectl --server-side."""

from __future__ import annotations

import json
from typing import Any

from tests.conftest import Kubectl

DEPLOYMENT = """
apiVersion: apps/v1
kind: Deployment
metadata: {name: web}
spec:
  replicas: %d
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec:
      containers:
      - {name: web, image: nginx:1.27}
"""


def _get(kubectl: Kubectl, *target: str) -> dict[str, Any]:
    obj: dict[str, Any] = json.loads(kubectl("get", *target, "-o", "json", "--show-managed-fields"))
    return obj


def _owners(obj: dict[str, Any], field: str) -> list[str]:
    owners = []
    for entry in obj["metadata"].get("managedFields") or []:
        fields = json.dumps(entry.get("fieldsV1", {}))
        if f'"f:{field}"' in fields:
            owners.append(f"{entry['manager']}/{entry['operation']}")
    return sorted(owners)


def test_server_side_apply_twice_is_a_no_op(kubectl: Kubectl) -> None:
    assert "serverside-applied" in kubectl(
        "apply", "--server-side", "-f", "-", input=DEPLOYMENT % 2
    )
    before = _get(kubectl, "deployment", "web")
    kubectl("apply", "--server-side", "-f", "-", input=DEPLOYMENT % 2)
    after = _get(kubectl, "deployment", "web")
    assert after["metadata"]["resourceVersion"] == before["metadata"]["resourceVersion"]
    assert _owners(after, "replicas") == ["kubectl/Apply"]


def test_two_managers_conflict_until_forced(kubectl: Kubectl) -> None:
    kubectl("apply", "--server-side", "--field-manager=team-a", "-f", "-", input=DEPLOYMENT % 2)
    conflict = kubectl.run(
        "apply",
        "--server-side",
        "--field-manager=team-b",
        "-f",
        "-",
        input=DEPLOYMENT % 3,
        check=False,
    )
    assert conflict.returncode != 0
    assert 'conflict with "team-a" using apps/v1: .spec.replicas' in conflict.stderr
    assert _get(kubectl, "deployment", "web")["spec"]["replicas"] == 2

    kubectl(
        "apply",
        "--server-side",
        "--field-manager=team-b",
        "--force-conflicts",
        "-f",
        "-",
        input=DEPLOYMENT % 3,
    )
    forced = _get(kubectl, "deployment", "web")
    assert forced["spec"]["replicas"] == 3
    assert _owners(forced, "replicas") == ["team-b/Apply"]


def test_equal_values_are_shared_without_conflict(kubectl: Kubectl) -> None:
    kubectl("apply", "--server-side", "--field-manager=team-a", "-f", "-", input=DEPLOYMENT % 2)
    kubectl("apply", "--server-side", "--field-manager=team-b", "-f", "-", input=DEPLOYMENT % 2)
    assert _owners(_get(kubectl, "deployment", "web"), "replicas") == [
        "team-a/Apply",
        "team-b/Apply",
    ]


def test_fields_no_longer_applied_are_removed(kubectl: Kubectl) -> None:
    config = "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: cfg}\ndata: {%s}\n"
    kubectl("apply", "--server-side", "-f", "-", input=config % "keep: '1', drop: '2'")
    kubectl("apply", "--server-side", "-f", "-", input=config % "keep: '1'")
    assert _get(kubectl, "configmap", "cfg")["data"] == {"keep": "1"}


def test_update_operations_are_tracked_per_manager(kubectl: Kubectl) -> None:
    kubectl(
        "create",
        "-f",
        "-",
        input="apiVersion: v1\nkind: ConfigMap\nmetadata: {name: tracked}\ndata: {a: '1'}\n",
    )
    kubectl("label", "configmap", "tracked", "team=x")
    obj = _get(kubectl, "configmap", "tracked")
    managers = sorted(f"{e['manager']}/{e['operation']}" for e in obj["metadata"]["managedFields"])
    assert managers == ["kubectl-create/Update", "kubectl-label/Update"]
    assert _owners(obj, "team") == ["kubectl-label/Update"]


def test_client_side_apply_then_server_side_takes_over(kubectl: Kubectl) -> None:
    kubectl("apply", "-f", "-", input=DEPLOYMENT % 2)
    conflict = kubectl.run("apply", "--server-side", "-f", "-", input=DEPLOYMENT % 4, check=False)
    assert 'conflict with "kubectl-client-side-apply"' in conflict.stderr
    kubectl("apply", "--server-side", "--force-conflicts", "-f", "-", input=DEPLOYMENT % 4)
    assert _get(kubectl, "deployment", "web")["spec"]["replicas"] == 4
