"""ValidatingAdmissionPolicies and their bindings on the embedded server, through kubectl:
Deny and Warn actions, namespace-scoped bindings, params, variables and messageExpression."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from tests.conftest import Kubectl

NO_PASSWORDS = """
apiVersion: admissionregistration.k8s.io/v1
kind: ValidatingAdmissionPolicy
metadata: {name: no-passwords}
spec:
  matchConstraints:
    resourceRules:
    - {apiGroups: [""], apiVersions: [v1], operations: [CREATE, UPDATE], resources: [configmaps]}
  validations:
  - expression: "!has(object.data) || !('password' in object.data)"
    message: ConfigMaps may not hold passwords
---
apiVersion: admissionregistration.k8s.io/v1
kind: ValidatingAdmissionPolicyBinding
metadata: {name: no-passwords-prod}
spec:
  policyName: no-passwords
  validationActions: [Deny]
  matchResources:
    namespaceSelector: {matchLabels: {env: prod}}
---
apiVersion: admissionregistration.k8s.io/v1
kind: ValidatingAdmissionPolicyBinding
metadata: {name: no-passwords-dev}
spec:
  policyName: no-passwords
  validationActions: [Warn]
  matchResources:
    namespaceSelector: {matchLabels: {env: dev}}
"""

REPLICA_LIMIT = """
apiVersion: admissionregistration.k8s.io/v1
kind: ValidatingAdmissionPolicy
metadata: {name: replica-limit}
spec:
  paramKind: {apiVersion: v1, kind: ConfigMap}
  matchConstraints:
    resourceRules:
    - {apiGroups: [apps], apiVersions: [v1], operations: [CREATE, UPDATE], resources: [deployments]}
  variables:
  - {name: replicas, expression: "object.spec.replicas"}
  validations:
  - expression: "variables.replicas <= int(params.data.maxReplicas)"
    messageExpression: "'replicas ' + string(variables.replicas) + ' exceeds ' + params.data.maxReplicas"
    reason: Forbidden
---
apiVersion: admissionregistration.k8s.io/v1
kind: ValidatingAdmissionPolicyBinding
metadata: {name: replica-limit}
spec:
  policyName: replica-limit
  validationActions: [Deny]
  paramRef: {name: limits, parameterNotFoundAction: Deny}
  matchResources:
    namespaceSelector: {matchLabels: {limited: "yes"}}
"""


def _namespace(kubectl: Kubectl, name: str, **labels: str) -> None:
    kubectl("create", "namespace", name)
    if labels:
        kubectl("label", "namespace", name, *(f"{k}={v}" for k, v in labels.items()))


def _configmap(name: str, namespace: str, data: dict[str, str]) -> str:
    return yaml.safe_dump({"apiVersion": "v1", "kind": "ConfigMap",
                           "metadata": {"name": name, "namespace": namespace}, "data": data})  # fmt: skip


@pytest.fixture
def policy_kubectl(shared_kubeconfig: Path, tmp_path: Path) -> Kubectl:
    return Kubectl(shared_kubeconfig, tmp_path / "cache")


def test_deny_and_warn_bindings_of_one_policy(policy_kubectl: Kubectl) -> None:
    kubectl = policy_kubectl
    kubectl("apply", "-f", "-", input=NO_PASSWORDS)
    _namespace(kubectl, "prod", env="prod")
    _namespace(kubectl, "dev", env="dev")
    secret = {"password": "hunter2"}
    refused = kubectl.run("apply", "-f", "-", input=_configmap("c", "prod", secret), check=False)
    assert refused.returncode != 0
    # kubectl prints a 422's cause as kube's documentation shows it for policies
    assert (
        "The configmaps \"c\" is invalid: : ValidatingAdmissionPolicy 'no-passwords' with "
        "binding 'no-passwords-prod' denied request: ConfigMaps may not hold passwords"
    ) in refused.stderr
    assert "created" in kubectl("apply", "-f", "-", input=_configmap("c", "prod", {"a": "b"}))
    warned = kubectl.run("apply", "-f", "-", input=_configmap("c", "dev", secret))
    assert "created" in warned.stdout
    assert (
        "Warning: Validation failed for ValidatingAdmissionPolicy 'no-passwords' with binding "
        "'no-passwords-dev': ConfigMaps may not hold passwords"
    ) in warned.stderr


def test_params_variables_and_message_expression(policy_kubectl: Kubectl) -> None:
    kubectl = policy_kubectl
    kubectl("apply", "-f", "-", input=REPLICA_LIMIT)
    _namespace(kubectl, "limited", limited="yes")
    create = ("create", "deployment", "web", "--image=nginx", "-n", "limited")
    missing = kubectl.run(*create, "--replicas=2", check=False)
    assert "no params found for policy binding with `Deny` parameterNotFoundAction" in (
        missing.stderr
    )
    kubectl("create", "configmap", "limits", "-n", "limited", "--from-literal=maxReplicas=3")
    refused = kubectl.run(*create, "--replicas=5", check=False)
    assert (
        "deployments.apps \"web\" is forbidden: ValidatingAdmissionPolicy 'replica-limit' with "
        "binding 'replica-limit' denied request: replicas 5 exceeds 3"
    ) in refused.stderr
    assert "created" in kubectl(*create, "--replicas=3")
    # the rule names deployments, not deployments/scale: kubectl scale is not checked
    assert "scaled" in kubectl("scale", "deployment", "web", "-n", "limited", "--replicas=4")
