"""What a dataclass API type declares: its fields' JSON names, types, markers and docs.

The converter (``convert.py``) and the schema generator (``schema.py``) both read a type
through ``fields_of``, so the JSON name and the optionality of a field are decided in one
place. Results are cached per class: the work happens once per process, never per object.

JSON names are the attribute names in camelCase, with the Kubernetes initialisms kept in
capitals (``container_id`` -> ``containerID``, ``read_iops`` -> ``readIOPS``), unless a
``JsonName`` marker says otherwise.
"""

from __future__ import annotations

import ast
import dataclasses
import functools
import inspect
import itertools
import textwrap
import types
import typing
from dataclasses import dataclass
from typing import Any, Literal, Union

from crds.markers import JsonName, SchemaMarker

__all__ = ["FieldInfo", "docstrings", "fields_of", "json_name", "literal_values", "split_type"]

_INITIALISMS = {
    "id": "ID",
    "uid": "UID",
    "ttl": "TTL",
    "ip": "IP",
    "url": "URL",
    "iops": "IOPS",
    "bps": "BPS",
    "io": "IO",
}


def json_name(attribute: str) -> str:
    """``slots_per_agent`` -> ``slotsPerAgent``; ``container_id`` -> ``containerID``."""
    first, *rest = attribute.split("_")
    return first + "".join(_INITIALISMS.get(w, w.capitalize()) for w in rest)


@dataclass(frozen=True, slots=True)
class FieldInfo:
    """One field of an API type, as the converter and the generator see it."""

    attribute: str
    json: str
    type: Any
    """The field's type without ``Annotated`` and without ``| None``."""
    optional: bool
    """The type admits None: absent in JSON when None."""
    markers: tuple[SchemaMarker, ...]
    required: bool
    """No Python default: the schema lists it under ``required``."""
    default: Any
    """The Python default value (``dataclasses.MISSING`` when required)."""


def split_type(hint: Any) -> tuple[Any, bool, tuple[SchemaMarker, ...]]:
    """``Annotated[X | None, m1, m2]`` -> ``(X, True, (m1, m2))``."""
    markers: tuple[SchemaMarker, ...] = ()
    if typing.get_origin(hint) is typing.Annotated:
        base, *extra = typing.get_args(hint)
        markers = tuple(m for m in extra if isinstance(m, SchemaMarker))
        hint = base
    optional = False
    if typing.get_origin(hint) in (Union, types.UnionType):
        args = [a for a in typing.get_args(hint) if a is not type(None)]
        optional = len(args) != len(typing.get_args(hint))
        if len(args) != 1:
            raise TypeError(f"API types allow only `X | None` unions, got {hint!r}")
        hint, _, inner_markers = split_type(args[0])
        markers += inner_markers
    return hint, optional, markers


def _default(field: dataclasses.Field[Any]) -> Any:
    if field.default is not dataclasses.MISSING:
        return field.default
    if field.default_factory is not dataclasses.MISSING:
        return field.default_factory()
    return dataclasses.MISSING


@functools.cache
def fields_of(cls: type) -> tuple[FieldInfo, ...]:
    """The fields of dataclass ``cls``, in declaration order."""
    if not dataclasses.is_dataclass(cls):
        raise TypeError(f"{cls!r} is not a dataclass; API types are dataclasses")
    hints = typing.get_type_hints(cls, include_extras=True)
    out = []
    for field in dataclasses.fields(cls):
        base, optional, markers = split_type(hints[field.name])
        names = [m.name for m in markers if isinstance(m, JsonName)]
        default = _default(field)
        out.append(
            FieldInfo(
                attribute=field.name,
                json=names[0] if names else json_name(field.name),
                type=base,
                optional=optional,
                markers=markers,
                required=default is dataclasses.MISSING,
                default=default,
            )
        )
    return tuple(out)


@functools.cache
def docstrings(cls: type) -> dict[str, str]:
    """Attribute docstrings (the string literal right after a field), by attribute name.

    Python keeps no attribute docstrings at run time, so they are read from the source, as
    controller-gen reads Go doc comments; inherited fields keep their base class's text.
    Only the generator needs them.
    """
    found: dict[str, str] = {}
    for klass in reversed(cls.__mro__):
        if klass is not object and dataclasses.is_dataclass(klass):
            found.update(_own_docstrings(klass))
    return found


def _own_docstrings(cls: type) -> dict[str, str]:
    tree = ast.parse(textwrap.dedent(inspect.getsource(cls)))
    body = tree.body[0].body if tree.body and isinstance(tree.body[0], ast.ClassDef) else []
    found: dict[str, str] = {}
    for node, following in itertools.pairwise(body):
        if (
            isinstance(node, ast.AnnAssign)
            and isinstance(node.target, ast.Name)
            and isinstance(following, ast.Expr)
            and isinstance(following.value, ast.Constant)
            and isinstance(following.value.value, str)
        ):
            found[node.target.id] = inspect.cleandoc(following.value.value)
    return found


def literal_values(hint: Any) -> tuple[Any, ...] | None:
    """The allowed values of a ``Literal[...]`` type, else None."""
    if typing.get_origin(hint) is Literal:
        return typing.get_args(hint)
    return None
