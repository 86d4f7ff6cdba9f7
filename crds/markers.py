"""Validation markers for the API types: kubebuilder's ``// +kubebuilder:validation`` in Python.

A field carries its markers in ``Annotated``::

    slots_per_agent: Annotated[int, Minimum(1), Maximum(16)] = 3
    \"\"\"Slots each agent pod offers.\"\"\"

Each marker knows the OpenAPI keywords it stands for (``apply``), so the schema generator
(``crds/schema.py``) stays a walk over types and never grows a case per keyword. The field's
docstring becomes its description; a ``Literal`` type becomes an ``enum``; a field without a
Python default is required. Markers only describe: converting objects never looks at them.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

__all__ = [
    "Format",
    "JsonName",
    "ListMap",
    "ListSet",
    "MaxItems",
    "MaxLength",
    "MaxProperties",
    "Maximum",
    "MinItems",
    "MinLength",
    "Minimum",
    "Pattern",
    "PreserveUnknownFields",
    "Rule",
    "SchemaMarker",
]


class SchemaMarker:
    """Base of every marker: adds its keywords to the schema node of the field it annotates."""

    def apply(self, schema: dict[str, Any]) -> None:
        raise NotImplementedError


@dataclass(frozen=True, slots=True)
class Minimum(SchemaMarker):
    """Smallest allowed number (``exclusive``: the value itself is not allowed)."""

    value: float
    exclusive: bool = False

    def apply(self, schema: dict[str, Any]) -> None:
        schema["minimum"] = self.value
        if self.exclusive:
            schema["exclusiveMinimum"] = True


@dataclass(frozen=True, slots=True)
class Maximum(SchemaMarker):
    """Largest allowed number."""

    value: float

    def apply(self, schema: dict[str, Any]) -> None:
        schema["maximum"] = self.value


@dataclass(frozen=True, slots=True)
class MinLength(SchemaMarker):
    value: int

    def apply(self, schema: dict[str, Any]) -> None:
        schema["minLength"] = self.value


@dataclass(frozen=True, slots=True)
class MaxLength(SchemaMarker):
    """Longest allowed string: every string in status has one, so status size is bounded."""

    value: int

    def apply(self, schema: dict[str, Any]) -> None:
        schema["maxLength"] = self.value


@dataclass(frozen=True, slots=True)
class Pattern(SchemaMarker):
    """A regular expression (RE2 syntax, as kube-apiserver evaluates it) the string must match."""

    regex: str

    def apply(self, schema: dict[str, Any]) -> None:
        schema["pattern"] = self.regex


@dataclass(frozen=True, slots=True)
class Format(SchemaMarker):
    """An OpenAPI string format, e.g. ``date-time`` (RFC 3339)."""

    name: str

    def apply(self, schema: dict[str, Any]) -> None:
        schema["format"] = self.name


@dataclass(frozen=True, slots=True)
class MinItems(SchemaMarker):
    value: int

    def apply(self, schema: dict[str, Any]) -> None:
        schema["minItems"] = self.value


@dataclass(frozen=True, slots=True)
class MaxItems(SchemaMarker):
    """Longest allowed list: bounds the object size (etcd refuses objects over ~1.5 MiB)."""

    value: int

    def apply(self, schema: dict[str, Any]) -> None:
        schema["maxItems"] = self.value


@dataclass(frozen=True, slots=True)
class MaxProperties(SchemaMarker):
    value: int

    def apply(self, schema: dict[str, Any]) -> None:
        schema["maxProperties"] = self.value


@dataclass(frozen=True, slots=True)
class ListMap(SchemaMarker):
    """``x-kubernetes-list-type: map``: items are merged by these keys.

    Server-side apply then tracks ownership per item, so several writers (one agent per
    node, one claimer per pod) can each own their own entry without overwriting the others.
    The keys must be required (or defaulted) fields of the item type.
    """

    keys: tuple[str, ...]

    def apply(self, schema: dict[str, Any]) -> None:
        schema["x-kubernetes-list-type"] = "map"
        schema["x-kubernetes-list-map-keys"] = list(self.keys)


@dataclass(frozen=True, slots=True)
class ListSet(SchemaMarker):
    """``x-kubernetes-list-type: set``: scalar items, each at most once."""

    def apply(self, schema: dict[str, Any]) -> None:
        schema["x-kubernetes-list-type"] = "set"


@dataclass(frozen=True, slots=True)
class PreserveUnknownFields(SchemaMarker):
    """Keep fields the schema does not declare (a pod spec is validated when the pod is made)."""

    def apply(self, schema: dict[str, Any]) -> None:
        schema["x-kubernetes-preserve-unknown-fields"] = True


@dataclass(frozen=True, slots=True)
class Rule(SchemaMarker):
    """A CEL rule (``x-kubernetes-validations``), for constraints that span fields.

    ``field_path`` (e.g. ``.minReplicas``) names the field the error is reported on, so the
    422 cause points where the user has to look.
    """

    rule: str
    message: str
    field_path: str | None = None
    reason: str | None = None

    def apply(self, schema: dict[str, Any]) -> None:
        entry: dict[str, Any] = {"rule": self.rule, "message": self.message}
        if self.field_path:
            entry["fieldPath"] = self.field_path
        if self.reason:
            entry["reason"] = self.reason
        schema.setdefault("x-kubernetes-validations", []).append(entry)


@dataclass(frozen=True, slots=True)
class JsonName(SchemaMarker):
    """The field's JSON name when the automatic camelCase one is wrong."""

    name: str

    def apply(self, schema: dict[str, Any]) -> None:
        """Names are not schema keywords; the generator and the converter read ``name``."""
