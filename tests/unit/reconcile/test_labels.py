"""Label selector parsing and matching (``reconcile.labels``)."""

from __future__ import annotations

import pytest

from reconcile.errors import InvalidSelector
from reconcile.labels import parse_selector, selector_from_set

LABELS = {"app": "web", "tier": "front", "replicas": "3", "weird": "x3"}


@pytest.mark.parametrize(
    ("selector", "matches"),
    [
        pytest.param("", True, id="empty-matches-all"),
        pytest.param("app=web", True, id="equals"),
        pytest.param("app==web", True, id="double-equals"),
        pytest.param("app!=web", False, id="not-equals"),
        pytest.param("missing!=x", True, id="not-equals-absent"),
        pytest.param("app in (web,api)", True, id="in"),
        pytest.param("app notin (web)", False, id="notin"),
        pytest.param("missing notin (web)", True, id="notin-absent"),
        pytest.param("tier", True, id="exists"),
        pytest.param("!tier", False, id="does-not-exist"),
        pytest.param("app=web,tier=back", False, id="all-must-hold"),
        pytest.param("app in (web), !missing", True, id="set-then-negation"),
        pytest.param("replicas>2", True, id="greater"),
        pytest.param("replicas>3", False, id="greater-is-strict"),
        pytest.param("replicas<10", True, id="less"),
        pytest.param("replicas < -1", False, id="less-negative"),
        pytest.param("missing>0", False, id="greater-absent"),
        pytest.param("weird>0", False, id="greater-non-integer-label"),
    ],
)
def test_matches(selector: str, matches: bool) -> None:
    assert parse_selector(selector).matches(LABELS) is matches


@pytest.mark.parametrize(
    ("selector", "message"),
    [
        pytest.param("a in b", "found 'a in b'", id="in-without-parentheses"),
        pytest.param("a>x", "must be one integer", id="greater-non-integer"),
        pytest.param("a<", "must be one integer", id="less-without-value"),
        pytest.param("!a in (x)", "only negates a bare key", id="negated-set"),
        pytest.param("a in ()", "can't be empty", id="empty-set"),
        pytest.param("a=b/c", "invalid label value", id="slash-in-value"),
    ],
)
def test_bad_selectors_raise_the_framework_error(selector: str, message: str) -> None:
    with pytest.raises(InvalidSelector, match=message):
        parse_selector(selector)


def test_invalid_selector_is_a_value_error() -> None:
    with pytest.raises(ValueError, match="unable to parse requirement"):
        parse_selector("=x")


def test_from_set_and_round_trip() -> None:
    selector = selector_from_set({"tier": "front", "app": "web"})
    assert str(selector) == "app=web,tier=front"
    assert parse_selector(str(selector)) == selector
    assert selector.matches_object({"metadata": {"labels": LABELS}})
    assert not selector.matches_object({"metadata": {}})
