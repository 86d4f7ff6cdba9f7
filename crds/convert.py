"""Typed API objects from and to the raw dicts the client and the cache hold.

Controllers keep raw dicts on their hot paths (the cache, event handlers, predicates) and
convert at the edge: ``from_dict(AgentPoolStatus, raw["status"])`` when a reconcile needs
the typed view, ``to_dict(status)`` when it writes one back.

Conversion is cheap because it is planned once per class: ``_plan`` turns each field's type
into a small decode/encode function (identity for scalars, a comprehension for lists and
maps, a nested plan for dataclasses) and caches it, so converting an object is one loop of
direct calls, with no type inspection per object. Free-form fields (``dict[str, Any]``, such
as a pod template) are shared with the input, not copied: the cache already hands out copies.

Rules:
- absent keys take the field's Python default; a missing required field raises ``ValueError``
  naming its JSON path (the API server validated the object, so this means a programming
  error, such as decoding the wrong kind);
- keys the type does not declare are ignored (the server prunes them anyway);
- ``to_dict`` omits fields whose value is None, and keeps everything else.
"""

from __future__ import annotations

import dataclasses
import functools
import typing
from collections.abc import Callable
from typing import Any, TypeVar

from crds.introspect import fields_of, literal_values

__all__ = ["from_dict", "to_dict"]

T = TypeVar("T")
_Codec = Callable[[Any, str], Any]


def _identity(value: Any, _path: str) -> Any:
    return value


def _to_float(value: Any, _path: str) -> Any:
    return float(value) if isinstance(value, int) and not isinstance(value, bool) else value


def _decoder(hint: Any) -> _Codec:
    if dataclasses.is_dataclass(hint) and isinstance(hint, type):
        cls = hint
        return lambda value, path: _decode_object(cls, value, path)
    origin = typing.get_origin(hint)
    if origin is list:
        (item,) = typing.get_args(hint)
        decode = _decoder(item)
        if decode is _identity:
            return lambda value, _path: list(value)
        return lambda value, path: [decode(v, f"{path}[{i}]") for i, v in enumerate(value)]
    if origin is dict:
        _, item = typing.get_args(hint)
        decode = _decoder(item)
        if decode is _identity:
            return _identity
        return lambda value, path: {k: decode(v, f"{path}.{k}") for k, v in value.items()}
    if hint is float:
        return _to_float
    return _identity


def _encoder(hint: Any) -> Callable[[Any], Any]:
    if dataclasses.is_dataclass(hint) and isinstance(hint, type):
        return to_dict
    origin = typing.get_origin(hint)
    if origin is list:
        (item,) = typing.get_args(hint)
        encode = _encoder(item)
        if encode is _same:
            return list
        return lambda value: [encode(v) for v in value]
    if origin is dict:
        _, item = typing.get_args(hint)
        encode = _encoder(item)
        if encode is _same:
            return _same
        return lambda value: {k: encode(v) for k, v in value.items()}
    return _same


def _same(value: Any) -> Any:
    return value


@dataclasses.dataclass(frozen=True, slots=True)
class _FieldPlan:
    attribute: str
    json: str
    decode: _Codec
    encode: Callable[[Any], Any]
    required: bool


@functools.cache
def _plan(cls: type) -> tuple[_FieldPlan, ...]:
    plans = []
    for info in fields_of(cls):
        decode: _Codec
        encode: Callable[[Any], Any]
        if literal_values(info.type) is not None:
            decode, encode = _identity, _same
        else:
            decode, encode = _decoder(info.type), _encoder(info.type)
        plans.append(
            _FieldPlan(
                attribute=info.attribute,
                json=info.json,
                decode=decode,
                encode=encode,
                required=info.required,
            )
        )
    return tuple(plans)


def _decode_object(cls: type[T], data: Any, path: str) -> T:
    if not isinstance(data, dict):
        raise ValueError(
            f"{path or cls.__name__}: expected an object for {cls.__name__}, "
            f"got {type(data).__name__}"
        )
    values: dict[str, Any] = {}
    for plan in _plan(typing.cast(type, cls)):
        raw = data.get(plan.json)
        where = f"{path}.{plan.json}" if path else plan.json
        if raw is None:
            if plan.required:
                raise ValueError(
                    f"{where}: required field missing while decoding {cls.__name__}; "
                    "is this object of the right kind?"
                )
            continue  # the dataclass default (a fresh one for mutable defaults)
        values[plan.attribute] = plan.decode(raw, where)
    return cls(**values)


def from_dict(cls: type[T], data: dict[str, Any], *, path: str = "") -> T:
    """Build a ``cls`` (a dataclass API type) from its JSON dict."""
    return _decode_object(cls, data, path)


def to_dict(obj: Any) -> dict[str, Any]:
    """The JSON dict of a dataclass API object; None fields are left out."""
    out: dict[str, Any] = {}
    for plan in _plan(typing.cast(type, type(obj))):
        value = getattr(obj, plan.attribute)
        if value is not None:
            out[plan.json] = plan.encode(value)
    return out
