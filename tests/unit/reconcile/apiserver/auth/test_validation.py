from __future__ import annotations

from typing import Any

import pytest

from reconcile.apiserver.auth.validation import validate_binding, validate_role
from reconcile.apiserver.registry import Registry
from reconcile.apiserver.status import StatusError

RBAC = "rbac.authorization.k8s.io"
REGISTRY = Registry()


def _info(resource: str) -> Any:
    return REGISTRY.lookup(RBAC, "v1", resource)


@pytest.mark.parametrize(
    ("resource", "rules", "message"),
    [
        pytest.param("roles", [{"apiGroups": [""], "resources": ["pods"]}],
                     "rules[0].verbs: Required value: verbs must contain at least one value",
                     id="no-verbs"),
        pytest.param("roles", [{"verbs": ["get"], "resources": ["pods"]}],
                     "rules[0].apiGroups: Required value: resource rules must supply at least "
                     "one api group", id="no-groups"),
        pytest.param("roles", [{"verbs": ["get"], "nonResourceURLs": ["/x"]}],
                     'rules[0].nonResourceURLs: Invalid value: []string{"/x"}: namespaced rules '
                     "cannot apply to non-resource URLs", id="urls-in-a-role"),
        pytest.param("clusterroles", [{"verbs": ["get"], "nonResourceURLs": ["/x"],
                                       "resources": ["pods"]}],
                     "rules cannot apply to both regular resources and non-resource URLs",
                     id="urls-and-resources"),
    ],
)  # fmt: skip
def test_bad_rules_are_invalid(resource: str, rules: list[dict[str, Any]], message: str) -> None:
    with pytest.raises(StatusError) as refused:
        validate_role(_info(resource), {"metadata": {"name": "r"}, "rules": rules})
    assert refused.value.code == 422
    assert message in refused.value.message


def test_good_rules_pass() -> None:
    rules = [{"verbs": ["get"], "apiGroups": [""], "resources": ["pods"]},
             {"verbs": ["get"], "nonResourceURLs": ["/healthz"]}]  # fmt: skip
    validate_role(_info("clusterroles"), {"metadata": {"name": "r"}, "rules": rules})


@pytest.mark.parametrize(
    ("resource", "binding", "message"),
    [
        pytest.param("clusterrolebindings",
                     {"roleRef": {"apiGroup": RBAC, "kind": "Role", "name": "x"}},
                     'roleRef.kind: Unsupported value: "Role": supported values: "ClusterRole"',
                     id="cluster-binding-to-role"),
        pytest.param("rolebindings", {"roleRef": {"apiGroup": "", "kind": "Role", "name": "x"}},
                     'roleRef.apiGroup: Unsupported value: ""', id="no-api-group"),
        pytest.param("clusterrolebindings",
                     {"roleRef": {"apiGroup": RBAC, "kind": "ClusterRole", "name": "x"},
                      "subjects": [{"kind": "ServiceAccount", "name": "bot"}]},
                     "subjects[0].namespace: Required value", id="service-account-namespace"),
        pytest.param("rolebindings",
                     {"roleRef": {"apiGroup": RBAC, "kind": "Role", "name": "x"},
                      "subjects": [{"kind": "Robot", "name": "bot"}]},
                     'subjects[0].kind: Unsupported value: "Robot"', id="subject-kind"),
    ],
)  # fmt: skip
def test_bad_bindings_are_invalid(resource: str, binding: dict[str, Any], message: str) -> None:
    with pytest.raises(StatusError) as refused:
        validate_binding(_info(resource), {"metadata": {"name": "b"}, **binding})
    assert message in refused.value.message
