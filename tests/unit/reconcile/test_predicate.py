from __future__ import annotations

from typing import Any

import pytest

from reconcile.errors import InvalidSelector
from reconcile.predicate import (
    AnnotationsChanged,
    Funcs,
    GenerationChanged,
    LabelsChanged,
    ResourceVersionChanged,
    and_,
    label_selector_predicate,
    new_predicate_funcs,
    not_,
    or_,
)


def _obj(
    generation: int = 1,
    labels: dict[str, str] | None = None,
    annotations: dict[str, str] | None = None,
    rv: str = "1",
) -> dict[str, Any]:
    return {
        "metadata": {
            "generation": generation,
            "labels": labels or {},
            "annotations": annotations or {},
            "resourceVersion": rv,
        }
    }


@pytest.mark.parametrize(
    ("predicate", "old", "new", "passes"),
    [
        (GenerationChanged(), _obj(1), _obj(2), True),
        (GenerationChanged(), _obj(1, labels={"a": "b"}), _obj(1), False),
        (LabelsChanged(), _obj(labels={"a": "1"}), _obj(labels={"a": "2"}), True),
        (LabelsChanged(), _obj(1), _obj(2), False),
        (AnnotationsChanged(), _obj(annotations={"x": "1"}), _obj(), True),
        (ResourceVersionChanged(), _obj(rv="1"), _obj(rv="1"), False),
        (ResourceVersionChanged(), _obj(rv="1"), _obj(rv="2"), True),
        (or_(GenerationChanged(), LabelsChanged()), _obj(labels={"a": "1"}), _obj(), True),
        (and_(GenerationChanged(), LabelsChanged()), _obj(1), _obj(2), False),
        (not_(GenerationChanged()), _obj(1), _obj(2), False),
        (
            Funcs(update_fn=lambda old, new: new["metadata"]["generation"] > 5),
            _obj(1),
            _obj(6),
            True,
        ),
    ],
)
def test_update_predicates(
    predicate: Any, old: dict[str, Any], new: dict[str, Any], passes: bool
) -> None:
    assert predicate.update(old, new) is passes


def test_change_predicates_pass_create_and_delete() -> None:
    for predicate in (
        GenerationChanged(),
        LabelsChanged(),
        AnnotationsChanged(),
        ResourceVersionChanged(),
    ):
        assert predicate.create(_obj()) and predicate.delete(_obj()) and predicate.generic(_obj())


def _labelled(labels: dict[str, str]) -> dict[str, Any]:
    return {"metadata": {"name": "x", "labels": labels}}


def test_new_predicate_funcs_filters_every_event_by_the_object() -> None:
    keep = new_predicate_funcs(lambda obj: obj["metadata"]["name"].startswith("keep"))
    kept, dropped = {"metadata": {"name": "keep-1"}}, {"metadata": {"name": "drop-1"}}
    assert keep.create(kept) and keep.delete(kept) and keep.generic(kept)
    assert not (keep.create(dropped) or keep.delete(dropped) or keep.generic(dropped))
    assert keep.update(dropped, kept), "updates are judged by the new object"
    assert not keep.update(kept, dropped)


@pytest.mark.parametrize(
    ("selector", "labels", "expected"),
    [
        pytest.param("app=web", {"app": "web"}, True, id="text-match"),
        pytest.param("app=web,tier in (a,b)", {"app": "web", "tier": "c"}, False, id="text-miss"),
        pytest.param({"matchLabels": {"app": "web"}}, {"app": "web", "x": "1"}, True, id="labels"),
        pytest.param(
            {"matchExpressions": [{"key": "tier", "operator": "NotIn", "values": ["db"]}]},
            {"tier": "db"},
            False,
            id="expression-notin",
        ),
        pytest.param(
            {"matchExpressions": [{"key": "canary", "operator": "DoesNotExist"}]},
            {"app": "web"},
            True,
            id="expression-absent",
        ),
        pytest.param({}, {"anything": "goes"}, True, id="empty-matches-all"),
    ],
)
def test_label_selector_predicate(
    selector: str | dict[str, Any], labels: dict[str, str], expected: bool
) -> None:
    predicate = label_selector_predicate(selector)
    assert predicate.create(_labelled(labels)) is expected
    assert predicate.update(_labelled({}), _labelled(labels)) is expected


def test_label_selector_predicate_rejects_a_bad_selector_when_built() -> None:
    with pytest.raises(InvalidSelector, match="operator 'Near'"):
        label_selector_predicate({"matchExpressions": [{"key": "a", "operator": "Near"}]})
    with pytest.raises(InvalidSelector, match="needs values"):
        label_selector_predicate({"matchExpressions": [{"key": "a", "operator": "In"}]})


def test_funcs_predicate_defaults_to_passing() -> None:
    only_creates = Funcs(create_fn=lambda obj: False)
    obj = _labelled({})
    assert not only_creates.create(obj)
    assert only_creates.update(obj, obj) and only_creates.delete(obj) and only_creates.generic(obj)
