"""Field selector parsing (``reconcile.fields``)."""

from __future__ import annotations

import pytest

from reconcile.errors import InvalidSelector
from reconcile.fields import FieldRequirement, parse_field_selector


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        pytest.param("", (), id="empty"),
        pytest.param("spec.nodeName=n1", (FieldRequirement("spec.nodeName", "n1"),), id="eq"),
        pytest.param("a==b", (FieldRequirement("a", "b"),), id="double-eq"),
        pytest.param("a!=b", (FieldRequirement("a", "b", negate=True),), id="not-eq"),
        pytest.param("a=", (FieldRequirement("a", ""),), id="empty-value"),
        pytest.param(
            "involvedObject.kind=Deployment,involvedObject.apiVersion=apps/v1",
            (
                FieldRequirement("involvedObject.kind", "Deployment"),
                FieldRequirement("involvedObject.apiVersion", "apps/v1"),
            ),
            id="slash-in-value",
        ),
        pytest.param(r"a=x\,y\=z\\", (FieldRequirement("a", "x,y=z\\"),), id="escapes"),
        pytest.param("a=host:8080", (FieldRequirement("a", "host:8080"),), id="colon"),
    ],
)
def test_parse(text: str, expected: tuple[FieldRequirement, ...]) -> None:
    assert parse_field_selector(text).requirements == expected


@pytest.mark.parametrize(
    ("text", "message"),
    [
        pytest.param("nodeName", "can't understand 'nodeName'", id="no-operator"),
        pytest.param("a b=c", "can't understand", id="space-in-field"),
        pytest.param("a=b=c", "unescaped '='", id="unescaped-equals"),
        pytest.param(r"a=\q", "unknown escape", id="unknown-escape"),
        pytest.param("a=b\\", "lone backslash", id="trailing-backslash"),
    ],
)
def test_bad_selectors(text: str, message: str) -> None:
    with pytest.raises(InvalidSelector, match=message):
        parse_field_selector(text)


def test_matches_and_exact_and_round_trip() -> None:
    selector = parse_field_selector(r"metadata.name=web,status.phase!=Pending,note=a\,b")
    values = {"metadata.name": "web", "status.phase": "Running", "note": "a,b"}
    assert selector.matches(values.get)
    assert not selector.matches({**values, "status.phase": "Pending"}.get)
    assert selector.exact("metadata.name") == "web"
    assert selector.exact("status.phase") is None
    assert parse_field_selector(str(selector)) == selector
