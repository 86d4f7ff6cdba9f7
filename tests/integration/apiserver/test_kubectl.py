"""The embedded API server driven by the real kubectl binary."""

from __future__ import annotations

import json
import subprocess
import threading

import pytest

from reconcile.apiserver import APIServer
from tests.conftest import Kubectl
from tests.integration.apiserver.manifests import WIDGET_CRD, widget
from tests.waiting import wait_for


@pytest.fixture
def widgets(kubectl: Kubectl) -> Kubectl:
    assert "created" in kubectl("apply", "-f", "-", input=WIDGET_CRD)
    return kubectl


def _rv(kubectl: Kubectl, *target: str) -> str:
    return kubectl("get", *target, "-o", "jsonpath={.metadata.resourceVersion}")


def test_apply_crd_then_cr_shows_printer_columns(widgets: Kubectl) -> None:
    assert "widget.example.com/w1 created" in widgets("apply", "-f", "-", input=widget("w1", 4))
    lines = widgets("get", "widgets").splitlines()
    assert lines[0].split() == ["NAME", "SIZE", "COLOR"]
    assert lines[1].split() == ["w1", "4", "red"], "the schema default fills color"


def test_second_apply_is_unchanged_and_keeps_resource_version(widgets: Kubectl) -> None:
    widgets("apply", "-f", "-", input=widget("w1"))
    before = _rv(widgets, "widget", "w1")
    assert "widget.example.com/w1 unchanged" in widgets("apply", "-f", "-", input=widget("w1"))
    assert _rv(widgets, "widget", "w1") == before


def test_apply_of_a_change_bumps_generation_once(widgets: Kubectl) -> None:
    widgets("apply", "-f", "-", input=widget("w1", 3))
    assert "configured" in widgets("apply", "-f", "-", input=widget("w1", 5))
    obj = json.loads(widgets("get", "widget", "w1", "-o", "json"))
    assert obj["spec"]["size"] == 5
    assert obj["metadata"]["generation"] == 2


def test_deployment_apply_twice_and_with_a_change(kubectl: Kubectl) -> None:
    manifest = """
apiVersion: apps/v1
kind: Deployment
metadata: {name: web, labels: {app: web}}
spec:
  replicas: 2
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec:
      containers:
      - {name: web, image: nginx:1.27, env: [{name: A, value: "1"}]}
      - {name: side, image: busybox}
"""
    assert "created" in kubectl("apply", "-f", "-", input=manifest)
    assert "unchanged" in kubectl("apply", "-f", "-", input=manifest)
    changed = manifest.replace("nginx:1.27", "nginx:1.28").replace("replicas: 2", "replicas: 3")
    assert "configured" in kubectl("apply", "-f", "-", input=changed)
    deployment = json.loads(kubectl("get", "deployment", "web", "-o", "json"))
    containers = deployment["spec"]["template"]["spec"]["containers"]
    assert [c["name"] for c in containers] == ["web", "side"]
    assert containers[0]["image"] == "nginx:1.28"
    assert containers[0]["env"] == [{"name": "A", "value": "1"}]
    assert deployment["spec"]["replicas"] == 3


def test_get_watch_sees_create_update_delete(kubectl: Kubectl) -> None:
    process = subprocess.Popen(
        kubectl.command("get", "configmaps", "-w", "--output-watch-events"),
        stdout=subprocess.PIPE,
        text=True,
    )
    lines: list[str] = []

    def read() -> None:
        assert process.stdout is not None
        for line in process.stdout:
            lines.append(" ".join(line.split()[:2]))

    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    try:
        config = "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: seen}\ndata: {a: '1'}\n"
        kubectl("apply", "-f", "-", input=config)
        wait_for(lambda: "ADDED seen" in lines, timeout=20, what="ADDED")
        kubectl("apply", "-f", "-", input=config.replace("'1'", "'2'"))
        wait_for(lambda: "MODIFIED seen" in lines, timeout=20, what="MODIFIED")
        kubectl("delete", "configmap", "seen")
        wait_for(lambda: "DELETED seen" in lines, timeout=20, what="DELETED")
    finally:
        process.terminate()
        process.wait(10)


def test_replace_with_stale_resource_version_conflicts(kubectl: Kubectl) -> None:
    kubectl("create", "-f", "-", input="apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c}\n")
    stale = json.loads(kubectl("get", "configmap", "c", "-o", "json"))
    kubectl("label", "configmap", "c", "touched=yes")
    stale["data"] = {"k": "v"}
    result = kubectl.run("replace", "-f", "-", input=json.dumps(stale), check=False)
    assert result.returncode != 0
    assert (
        'Operation cannot be fulfilled on configmaps "c": the object has been modified; '
        "please apply your changes to the latest version and try again"
    ) in result.stderr


def test_chunked_list_returns_every_object(kubectl: Kubectl, apiserver: APIServer) -> None:
    items = [
        {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": f"cm-{i:02d}"}}
        for i in range(10)
    ]
    kubectl(
        "create", "-f", "-", input=json.dumps({"apiVersion": "v1", "kind": "List", "items": items})
    )
    before = apiserver.faults.count("list", "configmaps")
    names = kubectl("get", "configmaps", "--chunk-size=2", "-o", "name").split()
    assert names == [f"configmap/cm-{i:02d}" for i in range(10)]
    assert apiserver.faults.count("list", "configmaps") - before >= 5, "kubectl paged by 2"


def test_label_and_field_selectors(kubectl: Kubectl) -> None:
    for name, tier in (("a", "web"), ("b", "db"), ("c", "web")):
        kubectl(
            "apply", "-f", "-",
            input="apiVersion: v1\nkind: ConfigMap\n"
            f"metadata: {{name: {name}, labels: {{tier: {tier}}}}}\n",
        )  # fmt: skip
    assert kubectl("get", "cm", "-l", "tier=web", "-o", "name").split() == [
        "configmap/a",
        "configmap/c",
    ]
    assert kubectl("get", "cm", "-l", "tier in (db),tier!=web", "-o", "name").split() == [
        "configmap/b"
    ]
    assert kubectl("get", "cm", "--field-selector", "metadata.name=c", "-o", "name").split() == [
        "configmap/c"
    ]
    result = kubectl.run("get", "cm", "--field-selector", "spec.foo=x", check=False)
    assert "field label not supported: spec.foo" in result.stderr


def test_invalid_cr_is_rejected_naming_the_field(widgets: Kubectl) -> None:
    result = widgets.run("apply", "-f", "-", input=widget("w2", 30), check=False)
    assert result.returncode != 0
    assert (
        'The Widget "w2" is invalid: spec.size: Invalid value: 30: spec.size in body should be '
        "less than or equal to 10"
    ) in result.stderr
    result = widgets.run("apply", "-f", "-", input=widget("w3", 3, ", color: green"), check=False)
    assert (
        'spec.color: Unsupported value: "green": supported values: "red", "blue"' in result.stderr
    )


def test_unknown_field_strict_fails_and_warn_warns(widgets: Kubectl) -> None:
    manifest = widget("w4", 3, ", bogus: 1")
    strict = widgets.run("apply", "-f", "-", input=manifest, check=False)
    assert strict.returncode != 0
    assert 'strict decoding error: unknown field "spec.bogus"' in strict.stderr
    warn = widgets.run("apply", "--validate=warn", "-f", "-", input=manifest)
    assert 'Warning: unknown field "spec.bogus"' in warn.stderr
    stored = json.loads(widgets("get", "widget", "w4", "-o", "json"))
    assert stored["spec"] == {"size": 3, "color": "red"}, "unknown field pruned, default set"


def test_delete_with_finalizer_waits_for_its_removal(kubectl: Kubectl) -> None:
    kubectl(
        "apply", "-f", "-",
        input="apiVersion: v1\nkind: ConfigMap\n"
        "metadata: {name: held, finalizers: [example.com/hold]}\n",
    )  # fmt: skip
    kubectl("delete", "configmap", "held", "--wait=false")
    held = json.loads(kubectl("get", "configmap", "held", "-o", "json"))
    assert held["metadata"]["deletionTimestamp"]
    kubectl("patch", "configmap", "held", "--type=merge", "-p", '{"metadata":{"finalizers":null}}')
    result = kubectl.run("get", "configmap", "held", check=False)
    assert 'configmaps "held" not found' in result.stderr


def test_namespace_delete_removes_its_contents(kubectl: Kubectl) -> None:
    kubectl(
        "create", "-f", "-", input="apiVersion: v1\nkind: Namespace\nmetadata: {name: doomed}\n"
    )
    kubectl(
        "apply", "-n", "doomed", "-f", "-",
        input="apiVersion: v1\nkind: ConfigMap\nmetadata: {name: inside}\n",
    )  # fmt: skip
    kubectl("delete", "namespace", "doomed", "--timeout=30s")
    assert 'namespaces "doomed" not found' in kubectl.run("get", "ns", "doomed", check=False).stderr
    result = kubectl.run(
        "apply", "-n", "doomed", "-f", "-",
        input="apiVersion: v1\nkind: ConfigMap\nmetadata: {name: late}\n", check=False,
    )  # fmt: skip
    assert 'namespaces "doomed" not found' in result.stderr


def test_explain_custom_resource(widgets: Kubectl) -> None:
    text = widgets("explain", "widgets.spec")
    assert "size\t<integer> -required-" in text
    assert "enum: red, blue" in text


def test_unknown_field_in_builtin_kind_strict_and_warn(kubectl: Kubectl) -> None:
    manifest = "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: strict}\ndata: {a: b}\nbogus: 1\n"
    strict = kubectl.run("apply", "-f", "-", input=manifest, check=False)
    assert 'strict decoding error: unknown field "bogus"' in strict.stderr
    warn = kubectl.run("apply", "--validate=warn", "-f", "-", input=manifest)
    assert 'Warning: unknown field "bogus"' in warn.stderr


def test_explain_builtin_kind(kubectl: Kubectl) -> None:
    text = kubectl("explain", "deployment.spec.replicas")
    assert "FIELD: replicas <integer>" in text
    assert "Number of desired pods" in text


CEL_CRD = """
apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata: {name: pools.example.com}
spec:
  group: example.com
  names: {kind: Pool, plural: pools, singular: pool}
  scope: Namespaced
  versions:
  - name: v1
    served: true
    storage: true
    schema:
      openAPIV3Schema:
        type: object
        properties:
          spec:
            type: object
            x-kubernetes-validations:
            - {rule: "self.min <= self.max", message: "min must not exceed max"}
            - {rule: "self.mode == oldSelf.mode", message: "mode is immutable"}
            properties:
              min: {type: integer}
              max: {type: integer}
              mode: {type: string}
"""


def test_cel_rules_reject_with_their_message(kubectl: Kubectl) -> None:
    kubectl("apply", "-f", "-", input=CEL_CRD)
    pool = "apiVersion: example.com/v1\nkind: Pool\nmetadata: {name: p}\nspec: {min: %d, max: 3, mode: %s}\n"
    bad = kubectl.run("apply", "-f", "-", input=pool % (5, "fast"), check=False)
    assert (
        'The Pool "p" is invalid: spec: Invalid value: "object": min must not exceed max'
        in bad.stderr
    )
    kubectl("apply", "-f", "-", input=pool % (1, "fast"))
    changed = kubectl.run("apply", "-f", "-", input=pool % (1, "slow"), check=False)
    assert "mode is immutable" in changed.stderr


def test_crd_with_uncompilable_rule_is_rejected(kubectl: Kubectl) -> None:
    broken = CEL_CRD.replace('"self.min <= self.max"', '"self.min <="')
    result = kubectl.run("apply", "-f", "-", input=broken, check=False)
    assert (
        "x-kubernetes-validations[0].rule" in result.stderr
        and "compilation failed" in result.stderr
    )


def test_imperative_creates_sent_as_protobuf(kubectl: Kubectl) -> None:
    assert "namespace/team-a created" in kubectl("create", "namespace", "team-a")
    assert kubectl("get", "ns", "team-a", "-o", "jsonpath={.status.phase}") == "Active"
    kubectl("create", "serviceaccount", "bot")
    kubectl("create", "secret", "generic", "s", "--from-literal=a=b")
    assert kubectl("get", "secret", "s", "-o", "jsonpath={.data.a}") == "Yg=="
    kubectl("create", "configmap", "c", "--from-literal=x=y")
    kubectl("create", "deployment", "d", "--image=nginx", "--replicas=2", "--port=80")
    deployment = json.loads(kubectl("get", "deployment", "d", "-o", "json"))
    assert deployment["spec"]["replicas"] == 2
    assert deployment["spec"]["template"]["spec"]["containers"][0]["ports"] == [
        {"containerPort": 80, "protocol": "TCP"}
    ]
    kubectl("create", "job", "j", "--image=busybox")
    job = json.loads(kubectl("get", "job", "j", "-o", "json"))
    assert job["spec"]["template"]["spec"]["restartPolicy"] == "Never"
    assert job["spec"]["backoffLimit"] == 6
    kubectl("create", "cronjob", "cj", "--image=busybox", "--schedule=*/5 * * * *")
    assert kubectl("get", "cronjob", "cj", "-o", "jsonpath={.spec.schedule}") == "*/5 * * * *"


def test_kubectl_scale_uses_the_scale_subresource(kubectl: Kubectl) -> None:
    kubectl("create", "deployment", "scaled", "--image=nginx", "--replicas=1")
    assert "deployment.apps/scaled scaled" in kubectl(
        "scale", "deployment", "scaled", "--replicas=4"
    )
    deployment = json.loads(kubectl("get", "deployment", "scaled", "-o", "json"))
    assert deployment["spec"]["replicas"] == 4
    assert deployment["metadata"]["generation"] == 2
