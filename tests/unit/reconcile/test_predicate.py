from __future__ import annotations

from typing import Any

import pytest

from reconcile.predicate import (
    AnnotationsChanged,
    Funcs,
    GenerationChanged,
    LabelsChanged,
    ResourceVersionChanged,
    and_,
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
