"""Field selectors, parsed once (apimachinery's ``fields`` package).

Syntax: ``field=value``, ``field==value`` or ``field!=value``, joined by commas. A value is
everything after the operator up to the next unescaped comma, so it may hold ``/`` or ``:``
(``involvedObject.apiVersion=apps/v1``, as ``kubectl events --for deployment/web`` sends);
``\\,``, ``\\=`` and ``\\\\`` escape a comma, an equals sign and a backslash. Which fields a
kind supports is for the reader to decide (the API server rejects unknown ones, the cache
needs an index); this module only parses. Bad syntax raises ``InvalidSelector``.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

from reconcile.errors import InvalidSelector

__all__ = ["FieldRequirement", "FieldSelector", "parse_field_selector"]

_FIELD_RE = re.compile(r"^[A-Za-z0-9_.-]+$")


@dataclass(frozen=True, slots=True)
class FieldRequirement:
    """``field`` equals (or, with ``negate``, differs from) ``value``."""

    field: str
    value: str
    negate: bool = False

    def matches(self, actual: str | None) -> bool:
        return ((actual or "") == self.value) != self.negate

    def __str__(self) -> str:
        escaped = self.value.replace("\\", "\\\\").replace(",", "\\,").replace("=", "\\=")
        return f"{self.field}{'!=' if self.negate else '='}{escaped}"


@dataclass(frozen=True, slots=True)
class FieldSelector:
    """A parsed field selector; the empty selector matches everything."""

    requirements: tuple[FieldRequirement, ...] = ()

    def __bool__(self) -> bool:
        return bool(self.requirements)

    def matches(self, get: Callable[[str], str | None]) -> bool:
        """Whether every requirement holds, reading field values through ``get(field)``."""
        return all(r.matches(get(r.field)) for r in self.requirements)

    def exact(self, field: str) -> str | None:
        """The value ``field`` must equal, if a ``field=value`` term pins it."""
        for requirement in self.requirements:
            if requirement.field == field and not requirement.negate:
                return requirement.value
        return None

    def __str__(self) -> str:
        return ",".join(str(r) for r in self.requirements)


def _split_terms(text: str) -> list[str]:
    """Split on unescaped commas, keeping escapes for the term parser."""
    terms: list[str] = []
    current: list[str] = []
    escaped = False
    for char in text:
        if escaped:
            current.append("\\" + char)
            escaped = False
        elif char == "\\":
            escaped = True
        elif char == ",":
            terms.append("".join(current))
            current = []
        else:
            current.append(char)
    if escaped:
        raise InvalidSelector(f"invalid field selector {text!r}: it ends with a lone backslash")
    terms.append("".join(current))
    return [t.strip() for t in terms if t.strip()]


def _unescape(value: str, text: str) -> str:
    out: list[str] = []
    chars = iter(value)
    for char in chars:
        if char != "\\":
            if char == "=":
                raise InvalidSelector(
                    f"invalid field selector {text!r}: a value holds an unescaped '='; "
                    "write it as \\="
                )
            out.append(char)
            continue
        escaped = next(chars, "")
        if escaped not in ("\\", ",", "="):
            raise InvalidSelector(
                f"invalid field selector {text!r}: unknown escape '\\{escaped}' "
                "(only \\\\, \\, and \\= are allowed)"
            )
        out.append(escaped)
    return "".join(out)


def _parse_term(term: str, text: str) -> FieldRequirement:
    for operator in ("!=", "==", "="):
        field, found, value = term.partition(operator)
        if not found:
            continue
        field = field.strip()
        if not _FIELD_RE.match(field):
            raise InvalidSelector(
                f"invalid field selector {text!r}: can't understand '{term}' "
                "(expected field=value, field==value or field!=value)"
            )
        return FieldRequirement(field, _unescape(value.strip(), text), operator == "!=")
    raise InvalidSelector(
        f"invalid field selector {text!r}: can't understand '{term}' "
        "(expected field=value, field==value or field!=value)"
    )


def parse_field_selector(text: str | None) -> FieldSelector:
    """Parse ``text`` (None or "" matches everything); raise InvalidSelector."""
    if not text:
        return FieldSelector()
    return FieldSelector(tuple(_parse_term(term, text) for term in _split_terms(text)))
