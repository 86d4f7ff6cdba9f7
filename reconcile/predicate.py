"""Predicates: which events may enqueue a reconcile at all.

Each predicate answers per event type. ``GenerationChanged`` ignores status-only and
metadata-only edits (generation moves only with the spec), so a controller that writes its
own status does not wake itself; the flip side: a wiped status waits for the next spec
change or resync. Combine with ``and_``, ``or_``, ``not_``. ``new_predicate_funcs(keep)``
filters every event type by one function of the object (the new one, for updates);
``label_selector_predicate`` is that filter for a label selector.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Protocol

from reconcile.labels import Selector, parse_selector, selector_from_label_selector

__all__ = [
    "AnnotationsChanged",
    "Funcs",
    "GenerationChanged",
    "LabelsChanged",
    "Predicate",
    "ResourceVersionChanged",
    "and_",
    "label_selector_predicate",
    "new_predicate_funcs",
    "not_",
    "or_",
]

Obj = dict[str, Any]


class Predicate(Protocol):
    def create(self, obj: Obj) -> bool: ...

    def update(self, old: Obj, new: Obj) -> bool: ...

    def delete(self, obj: Obj) -> bool: ...

    def generic(self, obj: Obj) -> bool: ...


def _meta(obj: Obj) -> dict[str, Any]:
    meta = obj.get("metadata")
    return meta if isinstance(meta, dict) else {}


class _UpdateOnly:
    """Passes create, delete and generic events; subclasses judge updates."""

    def create(self, obj: Obj) -> bool:
        return True

    def delete(self, obj: Obj) -> bool:
        return True

    def generic(self, obj: Obj) -> bool:
        return True


class GenerationChanged(_UpdateOnly):
    """Updates pass only when ``metadata.generation`` changed (spec edits)."""

    def update(self, old: Obj, new: Obj) -> bool:
        return _meta(old).get("generation") != _meta(new).get("generation")


class LabelsChanged(_UpdateOnly):
    """Updates pass only when labels changed."""

    def update(self, old: Obj, new: Obj) -> bool:
        return (_meta(old).get("labels") or {}) != (_meta(new).get("labels") or {})


class AnnotationsChanged(_UpdateOnly):
    """Updates pass only when annotations changed."""

    def update(self, old: Obj, new: Obj) -> bool:
        return (_meta(old).get("annotations") or {}) != (_meta(new).get("annotations") or {})


class ResourceVersionChanged(_UpdateOnly):
    """Updates pass only when the resourceVersion moved (drops resync no-ops)."""

    def update(self, old: Obj, new: Obj) -> bool:
        return _meta(old).get("resourceVersion") != _meta(new).get("resourceVersion")


@dataclass(frozen=True, kw_only=True)
class Funcs:
    """A predicate from functions; a missing function passes everything."""

    create_fn: Callable[[Obj], bool] | None = None
    update_fn: Callable[[Obj, Obj], bool] | None = None
    delete_fn: Callable[[Obj], bool] | None = None
    generic_fn: Callable[[Obj], bool] | None = None

    def create(self, obj: Obj) -> bool:
        return self.create_fn(obj) if self.create_fn else True

    def update(self, old: Obj, new: Obj) -> bool:
        return self.update_fn(old, new) if self.update_fn else True

    def delete(self, obj: Obj) -> bool:
        return self.delete_fn(obj) if self.delete_fn else True

    def generic(self, obj: Obj) -> bool:
        return self.generic_fn(obj) if self.generic_fn else True


def new_predicate_funcs(keep: Callable[[Obj], bool]) -> Funcs:
    """A predicate passing the events whose object ``keep`` accepts (for updates, the new
    object), controller-runtime's ``NewPredicateFuncs``."""
    return Funcs(
        create_fn=keep,
        update_fn=lambda old, new: keep(new),
        delete_fn=keep,
        generic_fn=keep,
    )


def label_selector_predicate(selector: str | Mapping[str, Any]) -> Funcs:
    """Passes events for objects whose labels match ``selector`` (controller-runtime's
    ``LabelSelectorPredicate``): selector text (``"app=web,tier in (a,b)"``) or a
    ``metav1.LabelSelector`` dict (``matchLabels``/``matchExpressions``, as in a CR's spec).
    A bad selector raises InvalidSelector here, not on the first event."""
    parsed: Selector = (
        parse_selector(selector)
        if isinstance(selector, str)
        else selector_from_label_selector(selector)
    )
    return new_predicate_funcs(parsed.matches_object)


class _Combined:
    def __init__(self, predicates: tuple[Predicate, ...], combine: Callable[[Any], bool]) -> None:
        self._predicates = predicates
        self._combine = combine

    def create(self, obj: Obj) -> bool:
        return self._combine(p.create(obj) for p in self._predicates)

    def update(self, old: Obj, new: Obj) -> bool:
        return self._combine(p.update(old, new) for p in self._predicates)

    def delete(self, obj: Obj) -> bool:
        return self._combine(p.delete(obj) for p in self._predicates)

    def generic(self, obj: Obj) -> bool:
        return self._combine(p.generic(obj) for p in self._predicates)


def and_(*predicates: Predicate) -> Predicate:
    """Passes when every predicate passes."""
    return _Combined(predicates, all)


def or_(*predicates: Predicate) -> Predicate:
    """Passes when any predicate passes."""
    return _Combined(predicates, any)


class _Not:
    def __init__(self, predicate: Predicate) -> None:
        self._p = predicate

    def create(self, obj: Obj) -> bool:
        return not self._p.create(obj)

    def update(self, old: Obj, new: Obj) -> bool:
        return not self._p.update(old, new)

    def delete(self, obj: Obj) -> bool:
        return not self._p.delete(obj)

    def generic(self, obj: Obj) -> bool:
        return not self._p.generic(obj)


def not_(predicate: Predicate) -> Predicate:
    """Passes when ``predicate`` does not."""
    return _Not(predicate)
