from __future__ import annotations

from typing import Any

import pytest

from reconcile.apiserver.auth.escalation import compact_string, covers


def _rule(
    verbs: list[str], resources: list[str], groups: tuple[str, ...] = ("",), **kw: Any
) -> dict[str, Any]:
    return {"verbs": verbs, "apiGroups": list(groups), "resources": resources, **kw}


@pytest.mark.parametrize(
    ("owner", "servant", "covered"),
    [
        pytest.param([_rule(["*"], ["*"], ("*",))], [_rule(["get"], ["pods"])], True, id="star"),
        pytest.param([_rule(["get", "list"], ["pods"])], [_rule(["get"], ["pods"])], True, id="subset"),
        pytest.param([_rule(["get"], ["pods"])], [_rule(["get", "list"], ["pods"])], False, id="more-verbs"),
        pytest.param([_rule(["get"], ["pods"])], [_rule(["get"], ["pods/log"])], False, id="subresource"),
        pytest.param([_rule(["get"], ["*/log"])], [_rule(["get"], ["pods/log"])], True, id="star-subresource"),
        pytest.param([_rule(["get"], ["pods"], resourceNames=["a"])], [_rule(["get"], ["pods"])],
                     False, id="names-do-not-cover-all"),
        pytest.param([_rule(["get"], ["pods"])], [_rule(["get"], ["pods"], resourceNames=["a"])],
                     True, id="all-covers-names"),
        pytest.param([{"verbs": ["get"], "nonResourceURLs": ["/apis/*"]}],
                     [{"verbs": ["get"], "nonResourceURLs": ["/apis/apps"]}], True, id="url-prefix"),
        pytest.param([_rule(["get"], ["*"], ("*",))],
                     [{"verbs": ["get"], "nonResourceURLs": ["/metrics"]}], False, id="url-needs-url-rule"),
    ],
)  # fmt: skip
def test_covers(owner: list[dict[str, Any]], servant: list[dict[str, Any]], covered: bool) -> None:
    ok, missing = covers(owner, servant)
    assert ok is covered
    assert bool(missing) is not covered


def test_missing_rules_are_listed_one_atom_each() -> None:
    ok, missing = covers([_rule(["get"], ["pods"])], [_rule(["get", "list"], ["pods", "secrets"])])
    assert not ok
    assert [compact_string(m) for m in missing] == [
        '{APIGroups:[""], Resources:["pods"], Verbs:["list"]}',
        '{APIGroups:[""], Resources:["secrets"], Verbs:["get"]}',
        '{APIGroups:[""], Resources:["secrets"], Verbs:["list"]}',
    ]


def test_compact_string_orders_fields_like_kube() -> None:
    rule = {
        "verbs": ["get", "list"],
        "resourceNames": ["db"],
        "resources": ["secrets"],
        "apiGroups": [""],
    }
    assert compact_string(rule) == (
        '{APIGroups:[""], Resources:["secrets"], ResourceNames:["db"], Verbs:["get" "list"]}'
    )
