"""Label selectors, parsed once and matched per object (apimachinery's ``labels`` package).

Syntax, joined by commas (every requirement must hold)::

    app=web   app==web   tier!=db   env in (prod,staging)   env notin (dev)
    canary    !canary    replicas>2   priority<10

``key`` alone means the label exists, ``!key`` that it does not. ``>`` and ``<`` compare the
label's value as an integer (a label that is absent or not an integer does not match), and
take exactly one integer. A selector that cannot be parsed raises ``InvalidSelector``, whose
message names the offending requirement.

The framework's cache, the client and the embedded API server all use this one parser.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal

from reconcile.errors import InvalidSelector

__all__ = [
    "Operator",
    "Requirement",
    "Selector",
    "parse_selector",
    "selector_from_label_selector",
    "selector_from_set",
]

Operator = Literal["=", "!=", "in", "notin", "exists", "!", ">", "<"]

_KEY = r"[A-Za-z0-9_./-]+"
_VALUE = r"[A-Za-z0-9_.-]*"
_COMPARE_RE = re.compile(rf"^\s*({_KEY})\s*(==|=|!=|>|<)\s*(\S*)\s*$")
_SET_RE = re.compile(rf"^\s*(!?)\s*({_KEY})\s*(?:(notin|in)\s*\(([^)]*)\))?\s*$")
_VALUE_RE = re.compile(rf"^{_VALUE}$")
_INTEGER_RE = re.compile(r"^[+-]?\d+$")


@dataclass(frozen=True, slots=True)
class Requirement:
    """One clause of a selector: ``key``, an operator and its values."""

    key: str
    operator: Operator
    values: frozenset[str] = frozenset()

    def matches(self, labels: Mapping[str, str]) -> bool:
        value = labels.get(self.key)
        operator = self.operator
        if operator in ("=", "in"):
            return value is not None and value in self.values
        if operator in ("!=", "notin"):
            return value is None or value not in self.values
        if operator == "exists":
            return value is not None
        if operator == "!":
            return value is None
        if value is None or not _INTEGER_RE.match(value):
            return False
        (bound,) = self.values
        return int(value) > int(bound) if operator == ">" else int(value) < int(bound)

    def __str__(self) -> str:
        if self.operator == "exists":
            return self.key
        if self.operator == "!":
            return f"!{self.key}"
        if self.operator in ("in", "notin"):
            return f"{self.key} {self.operator} ({','.join(sorted(self.values))})"
        return f"{self.key}{self.operator}{next(iter(self.values))}"


@dataclass(frozen=True, slots=True)
class Selector:
    """A parsed label selector; the empty selector matches everything."""

    requirements: tuple[Requirement, ...] = ()

    def __bool__(self) -> bool:
        return bool(self.requirements)

    def matches(self, labels: Mapping[str, str]) -> bool:
        """Whether a label set satisfies every requirement."""
        return all(r.matches(labels) for r in self.requirements)

    def matches_object(self, obj: Mapping[str, Any]) -> bool:
        """Whether an object's ``metadata.labels`` satisfy every requirement."""
        if not self.requirements:
            return True
        labels = (obj.get("metadata") or {}).get("labels") or {}
        return self.matches(labels)

    def __str__(self) -> str:
        return ",".join(str(r) for r in self.requirements)


def _split_top_level(text: str) -> list[str]:
    """Split on commas outside parentheses (``a in (x,y),b`` is two requirements)."""
    parts: list[str] = []
    current: list[str] = []
    depth = 0
    for char in text:
        if char == "(":
            depth += 1
        elif char == ")":
            depth -= 1
        if char == "," and depth == 0:
            parts.append("".join(current))
            current = []
        else:
            current.append(char)
    parts.append("".join(current))
    return [p for p in (p.strip() for p in parts) if p]


def _values(part: str, raw: list[str]) -> frozenset[str]:
    for value in raw:
        if not _VALUE_RE.match(value):
            raise InvalidSelector(
                f"unable to parse requirement: invalid label value: {value!r} in '{part}': "
                "a label value has only alphanumerics, '-', '_' or '.'"
            )
    return frozenset(raw)


def _parse_requirement(part: str) -> Requirement:
    compare = _COMPARE_RE.match(part)
    if compare:
        key, op, value = compare.groups()
        if op in (">", "<"):
            if not _INTEGER_RE.match(value):
                raise InvalidSelector(
                    f"unable to parse requirement: for '{op}' the value must be one integer, "
                    f"got '{value}' in '{part}'"
                )
            return Requirement(key, ">" if op == ">" else "<", frozenset([value]))
        return Requirement(key, "!=" if op == "!=" else "=", _values(part, [value]))
    match = _SET_RE.match(part)
    if not match:
        raise InvalidSelector(f"unable to parse requirement: found '{part}', expected: selector")
    negate, key, op, values = match.groups()
    if op:
        if negate:
            raise InvalidSelector(
                f"unable to parse requirement: found '{part}': '!' only negates a bare key"
            )
        items = [v.strip() for v in values.split(",") if v.strip()]
        if not items:
            raise InvalidSelector(
                f"unable to parse requirement: '{part}': for 'in', 'notin' operators, "
                "values set can't be empty"
            )
        return Requirement(key, "in" if op == "in" else "notin", _values(part, items))
    return Requirement(key, "!" if negate else "exists")


def parse_selector(text: str | None) -> Selector:
    """Parse ``text`` (None or "" is the match-everything selector); raise InvalidSelector."""
    if not text:
        return Selector()
    return Selector(tuple(_parse_requirement(part) for part in _split_top_level(text)))


def selector_from_set(labels: Mapping[str, str]) -> Selector:
    """``{"app": "web"}`` -> the selector ``app=web`` (every pair must match)."""
    return Selector(
        tuple(
            Requirement(key, "=", _values(f"{key}={value}", [value]))
            for key, value in sorted(labels.items())
        )
    )


_EXPRESSION_OPERATORS: dict[str, Operator] = {
    "In": "in",
    "NotIn": "notin",
    "Exists": "exists",
    "DoesNotExist": "!",
}


def selector_from_label_selector(selector: Mapping[str, Any]) -> Selector:
    """A ``metav1.LabelSelector`` (``matchLabels`` + ``matchExpressions``) as a Selector.

    As apimachinery's ``LabelSelectorAsSelector``: an empty selector matches everything;
    an unknown operator, or In/NotIn without values, raises InvalidSelector.
    """
    requirements = list(selector_from_set(selector.get("matchLabels") or {}).requirements)
    for expression in selector.get("matchExpressions") or []:
        key = str(expression.get("key", ""))
        operator = _EXPRESSION_OPERATORS.get(str(expression.get("operator", "")))
        values = [str(v) for v in expression.get("values") or []]
        if operator is None:
            raise InvalidSelector(
                f"matchExpressions operator {expression.get('operator')!r} for key {key!r} is "
                "not one of In, NotIn, Exists, DoesNotExist"
            )
        if operator in ("in", "notin") and not values:
            raise InvalidSelector(
                f"matchExpressions {expression.get('operator')} for key {key!r} needs values"
            )
        if operator in ("exists", "!") and values:
            raise InvalidSelector(
                f"matchExpressions {expression.get('operator')} for key {key!r} takes no values"
            )
        requirements.append(Requirement(key, operator, frozenset(values)))
    return Selector(tuple(requirements))
