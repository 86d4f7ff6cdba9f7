"""OpenAPI v3 structural schemas from the dataclass API types (controller-gen's schema pass).

The walk maps Python types to schema nodes: ``str``/``int``/``float``/``bool`` to their
JSON types, ``Literal[...]`` to an ``enum``, ``list[X]`` to an array, ``dict[str, X]`` to a
map (``additionalProperties``), ``dict[str, Any]`` to a free-form object that keeps unknown
fields, and a dataclass to an object whose ``required`` list holds the fields without a
Python default. Markers add their keywords; docstrings become descriptions.

Rules about a whole object (CEL across fields) sit in the type's ``OBJECT_MARKERS`` class
variable. Python defaults become schema ``default``s only under ``spec`` (``emit_defaults``):
the API server fills them in, so a user's object shows the values the operator will use. Status
defaults exist only for Python's convenience and are not published.
"""

from __future__ import annotations

import dataclasses
import inspect
import typing
from typing import Any

from crds.convert import to_dict
from crds.introspect import docstrings, fields_of, literal_values, split_type

__all__ = ["schema_for"]

_SCALARS: dict[Any, str] = {str: "string", int: "integer", float: "number", bool: "boolean"}
_FREE_FORM = {"type": "object", "x-kubernetes-preserve-unknown-fields": True}


def schema_for(cls: type, *, emit_defaults: bool = False) -> dict[str, Any]:
    """The schema of dataclass ``cls`` (its docstring is the node's description)."""
    return _object(cls, emit_defaults)


def description(text: str | None) -> str:
    """A docstring as a description: lines of a paragraph joined, paragraphs kept apart."""
    if not text:
        return ""
    paragraphs = inspect.cleandoc(text).split("\n\n")
    return "\n\n".join(" ".join(line.strip() for line in p.splitlines()) for p in paragraphs)


def _class_description(cls: type) -> str:
    doc = cls.__doc__
    # dataclass() invents "Name(field: type, ...)" for classes without a docstring
    if not doc or doc.startswith(f"{cls.__name__}("):
        return ""
    return description(doc)


def _type_node(hint: Any, emit_defaults: bool) -> dict[str, Any]:
    values = literal_values(hint)
    if values is not None:
        return {"type": _SCALARS[type(values[0])], "enum": list(values)}
    if hint in _SCALARS:
        return {"type": _SCALARS[hint]}
    if hint is Any:
        return dict(_FREE_FORM)
    if dataclasses.is_dataclass(hint) and isinstance(hint, type):
        return _object(hint, emit_defaults)
    origin = typing.get_origin(hint)
    if origin is list:
        (item,) = typing.get_args(hint)
        return {"type": "array", "items": _field_type_node(item, emit_defaults)}
    if origin is dict:
        key, value = typing.get_args(hint)
        if key is not str:
            raise TypeError(f"map keys must be str, got {hint!r}")
        if value is Any:
            return dict(_FREE_FORM)
        return {"type": "object", "additionalProperties": _field_type_node(value, emit_defaults)}
    raise TypeError(
        f"no schema for type {hint!r}; use str, int, float, bool, Literal, list, dict[str, X] "
        "or a dataclass"
    )


def _field_type_node(hint: Any, emit_defaults: bool) -> dict[str, Any]:
    """A node for a nested type that may itself be ``Annotated`` (list items, map values)."""
    base, _, markers = split_type(hint)
    node = _type_node(base, emit_defaults)
    for marker in markers:
        marker.apply(node)
    return node


def _object(cls: type, emit_defaults: bool) -> dict[str, Any]:
    docs = docstrings(cls)
    properties: dict[str, Any] = {}
    required: list[str] = []
    for info in fields_of(cls):
        prop = _type_node(info.type, emit_defaults)
        text = description(docs.get(info.attribute))
        if text:  # the field's own text wins over its type's
            prop = {"description": text, **{k: v for k, v in prop.items() if k != "description"}}
        for marker in info.markers:
            marker.apply(prop)
        if emit_defaults:
            _add_default(prop, info.default)
        if info.required:
            required.append(info.json)
        properties[info.json] = prop
    node: dict[str, Any] = {"type": "object", "properties": properties}
    text = _class_description(cls)
    if text:
        node = {"description": text, **node}
    if required:
        node["required"] = required
    for marker in getattr(cls, "OBJECT_MARKERS", ()):
        marker.apply(node)
    return node


def _add_default(node: dict[str, Any], default: Any) -> None:
    if default is dataclasses.MISSING or default is None:
        return
    if dataclasses.is_dataclass(default) and not isinstance(default, type):
        node["default"] = to_dict(default)
    elif isinstance(default, list | dict):
        if default:
            node["default"] = list(default) if isinstance(default, list) else dict(default)
    else:
        node["default"] = default
