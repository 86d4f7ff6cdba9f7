from __future__ import annotations

import pytest

from reconcile.apiserver.registry import Registry
from reconcile.apiserver.selectors import FieldSelector, LabelSelector
from reconcile.apiserver.status import StatusError

OBJ = {"metadata": {"name": "p", "namespace": "ns", "labels": {"app": "web", "tier": "front"}}}


@pytest.mark.parametrize(
    ("selector", "matches"),
    [
        ("", True),
        ("app=web", True),
        ("app==web", True),
        ("app!=web", False),
        ("app in (web,api)", True),
        ("app notin (web)", False),
        ("tier", True),
        ("!tier", False),
        ("missing!=x", True),
        ("app=web,tier=back", False),
        ("app in (web), !missing", True),
    ],
)
def test_label_selector(selector: str, matches: bool) -> None:
    assert LabelSelector(selector).matches(OBJ) is matches


def test_unparseable_label_selector_is_bad_request() -> None:
    with pytest.raises(StatusError) as raised:
        LabelSelector("a in b")
    assert raised.value.code == 400


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
