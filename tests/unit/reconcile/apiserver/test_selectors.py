from __future__ import annotations

import pytest

from reconcile.apiserver.registry import Registry
from reconcile.apiserver.selectors import FieldSelector, LabelSelector
from reconcile.apiserver.status import StatusError

OBJ = {"metadata": {"name": "p", "namespace": "ns", "labels": {"app": "web"}}}


def test_label_selector_uses_the_framework_parser() -> None:
    assert LabelSelector("app in (web,api),replicas>2").matches(
        {"metadata": {"labels": {"app": "web", "replicas": "5"}}}
    )
    assert not LabelSelector("app=web").matches({"metadata": {}})


def test_unparseable_label_selector_is_bad_request() -> None:
    with pytest.raises(StatusError) as raised:
        LabelSelector("a in b")
    assert raised.value.code == 400
    assert "unable to parse requirement: found 'a in b'" in raised.value.message


def test_field_values_may_hold_slashes() -> None:
    info = Registry().lookup("", "v1", "events")
    assert info is not None
    event = {"metadata": {"name": "e"}, "involvedObject": {"apiVersion": "apps/v1"}}
    assert FieldSelector("involvedObject.apiVersion=apps/v1", info).matches(event)
    assert not FieldSelector("involvedObject.apiVersion=v1", info).matches(event)


def test_pod_field_selectors() -> None:
    info = Registry().lookup("", "v1", "pods")
    assert info is not None
    pod = {**OBJ, "spec": {"nodeName": "n1"}, "status": {"phase": "Running"}}
    assert FieldSelector("spec.nodeName=n1,status.phase!=Pending", info).matches(pod)
    assert not FieldSelector("metadata.namespace=other", info).matches(pod)


def test_unsupported_field_is_named() -> None:
    info = Registry().lookup("", "v1", "configmaps")
    assert info is not None
    with pytest.raises(StatusError, match=r"field label not supported: spec\.nodeName"):
        FieldSelector("spec.nodeName=n1", info)
