"""Which requests a webhook rule, namespace selector and object selector match."""

from __future__ import annotations

from typing import Any

import pytest

from reconcile.apiserver.admission.matching import (
    Attributes,
    namespace_matches,
    object_matches,
    rule_matches,
)
from reconcile.apiserver.registry import BUILTINS
from reconcile.apiserver.resources import ResourceInfo
from reconcile.apiserver.status import StatusError
from reconcile.apiserver.storage import Store

INFOS = {(i.group, i.resource): i for i in BUILTINS}
PODS, NAMESPACES = INFOS[("", "pods")], INFOS[("", "namespaces")]
DEPLOYMENTS = INFOS[("apps", "deployments")]


def _attributes(info: ResourceInfo, operation: str = "CREATE", subresource: str = "",
                namespace: str = "ns", **extra: Any) -> Attributes:  # fmt: skip
    return Attributes(operation=operation, info=info, namespace=namespace, name="x",
                      subresource=subresource, **extra)  # fmt: skip


def _rule(**fields: Any) -> dict[str, Any]:
    return {"operations": ["*"], "apiGroups": ["*"], "apiVersions": ["*"], "resources": ["*"],
            **fields}  # fmt: skip


@pytest.mark.parametrize(
    ("rule", "attributes", "matches"),
    [
        pytest.param(_rule(), _attributes(PODS), True, id="wildcards"),
        pytest.param(_rule(), _attributes(PODS, subresource="status"), False,
                     id="star-is-no-subresource"),
        pytest.param(_rule(resources=["*/*"]), _attributes(PODS, subresource="status"), True,
                     id="star-star-is-every-subresource"),
        pytest.param(_rule(resources=["pods/status"]), _attributes(PODS, subresource="status"),
                     True, id="named-subresource"),
        pytest.param(_rule(resources=["pods"]), _attributes(PODS, subresource="status"), False,
                     id="resource-is-not-its-status"),
        pytest.param(_rule(resources=["pods/*"]), _attributes(PODS), True,
                     id="resource-slash-star-includes-itself"),
        pytest.param(_rule(resources=["*/scale"]), _attributes(DEPLOYMENTS, subresource="scale"),
                     True, id="any-scale"),
        pytest.param(_rule(operations=["UPDATE"]), _attributes(PODS), False, id="operation"),
        pytest.param(_rule(apiGroups=["apps"]), _attributes(PODS), False, id="group"),
        pytest.param(_rule(apiVersions=["v2"]), _attributes(PODS), False, id="version"),
        pytest.param(_rule(scope="Cluster"), _attributes(PODS), False, id="cluster-scope"),
        pytest.param(_rule(scope="Cluster"), _attributes(NAMESPACES, namespace="x"), True,
                     id="namespaces-are-cluster-scoped"),
        pytest.param(_rule(scope="Namespaced"), _attributes(NAMESPACES, namespace="x"), False,
                     id="namespaces-are-not-namespaced"),
        pytest.param(_rule(scope="Namespaced"), _attributes(PODS), True, id="namespaced"),
    ],
)  # fmt: skip
def test_rule_matching(rule: dict[str, Any], attributes: Attributes, matches: bool) -> None:
    assert rule_matches(rule, attributes, attributes.info) is matches


def _store(**namespaces: dict[str, str]) -> Store:
    store = Store()
    for name, labels in namespaces.items():
        store.put(("", "namespaces"), {"metadata": {"name": name, "labels": labels}}, created=True)
    return store


SELECT_PROD = {"matchLabels": {"env": "prod"}}


def test_namespace_selector_reads_the_namespace_labels() -> None:
    store = _store(prod={"env": "prod"}, dev={"env": "dev"})
    assert namespace_matches(SELECT_PROD, _attributes(PODS, namespace="prod"), store)
    assert not namespace_matches(SELECT_PROD, _attributes(PODS, namespace="dev"), store)
    assert namespace_matches({}, _attributes(PODS, namespace="dev"), store)
    cluster_scoped = _attributes(INFOS[("", "nodes")], namespace="")
    assert namespace_matches(SELECT_PROD, cluster_scoped, store), "never exempted"
    with pytest.raises(StatusError) as missing:
        namespace_matches(SELECT_PROD, _attributes(PODS, namespace="gone"), store)
    assert missing.value.code == 404


def test_a_namespace_being_written_is_matched_by_its_own_labels() -> None:
    own = _attributes(NAMESPACES, namespace="new", obj={"metadata": {"labels": {"env": "prod"}}})
    assert namespace_matches(SELECT_PROD, own, _store())


def test_object_selector_matches_the_object_or_the_old_one() -> None:
    labelled = {"metadata": {"labels": {"env": "prod"}}}
    assert object_matches(SELECT_PROD, _attributes(PODS, obj=labelled))
    assert object_matches(SELECT_PROD, _attributes(PODS, operation="DELETE", old=labelled))
    assert not object_matches(SELECT_PROD, _attributes(PODS, obj={"metadata": {}}))
    assert not object_matches(
        {"matchExpressions": [{"key": "a", "operator": "Bogus"}]},
        _attributes(PODS, obj=labelled),
    ), "a selector that does not parse matches nothing"
