"""The IOLimitPolicy validating webhook: two policies may not claim the same pods at the
same precedence.

When several policies select one container, the one of highest precedence decides its
limits; two policies of equal precedence selecting the same pods would leave the outcome
to chance. A policy defines no precedence field of its own, so its **precedence is the
highest ``priority`` among its rules** (``spec.rules[].priority``, 0 when unset): the
number that already decides between rules of one policy decides between policies too.

Two policies overlap when some pod could be selected by both:

- their namespaces intersect: ``namespaces`` (empty means every namespace) minus
  ``excludedNamespaces`` (``kube-system`` unless set), so two policies that both name no
  namespace always intersect;
- their label selectors can hold at once: per label key, the values both allow
  (``matchLabels``, ``In``) minus those either refuses (``NotIn``) are not empty, and
  neither requires the key to be absent (``DoesNotExist``) while the other needs it.

A create, or an update that makes a policy overlap one it did not overlap before (a
policy that already overlapped when this webhook was installed can still be edited), of a
policy overlapping another with equal precedence is refused with a 422 on
``spec.selector`` naming the other policy and the precedence; give one of them a higher
rule priority, or narrow a selector. The functions work on raw dicts; ``setup_webhook``
serves the validator, which reads the other policies from the manager's cache.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from crds import IOLimitPolicy
from reconcile.client.interfaces import Reader
from reconcile.webhook import FieldError, WebhookBuilder, invalid

if TYPE_CHECKING:
    from reconcile.manager import Manager

__all__ = [
    "IOLimitPolicyValidator",
    "conflicting_policies",
    "namespaces_overlap",
    "precedence",
    "selectors_overlap",
    "setup_webhook",
]

_DEFAULT_EXCLUDED = ("kube-system",)


def precedence(policy: Mapping[str, Any]) -> int:
    """The policy's precedence: the highest priority among its rules (0 when unset)."""
    rules = (policy.get("spec") or {}).get("rules") or []
    return max((int(rule.get("priority") or 0) for rule in rules), default=0)


def _namespaces(spec: Mapping[str, Any]) -> tuple[frozenset[str] | None, frozenset[str]]:
    """(named namespaces or None for all, excluded namespaces)."""
    named = spec.get("namespaces") or []
    excluded = spec.get("excludedNamespaces", _DEFAULT_EXCLUDED) or ()
    return (frozenset(named) if named else None), frozenset(excluded)


def namespaces_overlap(a: Mapping[str, Any], b: Mapping[str, Any]) -> bool:
    """Whether some namespace is selected by both specs."""
    named_a, excluded_a = _namespaces(a)
    named_b, excluded_b = _namespaces(b)
    excluded = excluded_a | excluded_b
    if named_a is None and named_b is None:
        return True  # every namespace but finitely many
    if named_a is None or named_b is None:
        named = named_b if named_a is None else named_a
        assert named is not None
        return bool(named - excluded)
    return bool((named_a & named_b) - excluded)


@dataclass
class _Key:
    """Everything two selectors say about one label key."""

    allowed: set[str] | None = None
    """Values the label may take (None: any)."""
    refused: set[str] = field(default_factory=set)
    present: bool = False
    absent: bool = False

    def allow(self, values: Iterable[str]) -> None:
        values = set(values)
        self.allowed = values if self.allowed is None else self.allowed & values
        self.present = True

    def satisfiable(self) -> bool:
        if self.present and self.absent:
            return False
        return self.allowed is None or bool(self.allowed - self.refused)


def _requirements(selector: Mapping[str, Any], keys: dict[str, _Key]) -> None:
    for key, value in (selector.get("matchLabels") or {}).items():
        keys.setdefault(str(key), _Key()).allow([str(value)])
    for expression in selector.get("matchExpressions") or []:
        key = keys.setdefault(str(expression.get("key")), _Key())
        operator = expression.get("operator")
        values = [str(v) for v in expression.get("values") or []]
        if operator == "In":
            key.allow(values)
        elif operator == "NotIn":
            key.refused.update(values)
        elif operator == "Exists":
            key.present = True
        elif operator == "DoesNotExist":
            key.absent = True


def selectors_overlap(a: Mapping[str, Any], b: Mapping[str, Any]) -> bool:
    """Whether some set of labels matches both label selectors."""
    keys: dict[str, _Key] = {}
    _requirements(a, keys)
    _requirements(b, keys)
    return all(key.satisfiable() for key in keys.values())


def _overlap(a: Mapping[str, Any], b: Mapping[str, Any]) -> bool:
    spec_a, spec_b = a.get("spec") or {}, b.get("spec") or {}
    return namespaces_overlap(spec_a, spec_b) and selectors_overlap(
        spec_a.get("selector") or {}, spec_b.get("selector") or {}
    )


def conflicting_policies(
    policy: Mapping[str, Any], others: Iterable[Mapping[str, Any]]
) -> list[str]:
    """Names of the other policies overlapping ``policy`` with its precedence, sorted."""
    name = (policy.get("metadata") or {}).get("name")
    level = precedence(policy)
    return sorted(
        str(other["metadata"]["name"])
        for other in others
        if other["metadata"]["name"] != name
        and precedence(other) == level
        and _overlap(policy, other)
    )


class IOLimitPolicyValidator:
    """A ``CustomValidator`` refusing policies that overlap another of equal precedence."""

    def __init__(self, reader: Reader) -> None:
        self._reader = reader

    def _others(self) -> list[dict[str, Any]]:
        return list(self._reader.list(IOLimitPolicy.GVK).get("items") or [])

    def _refuse(self, policy: dict[str, Any], names: list[str]) -> None:
        level = precedence(policy)
        listed = ", ".join(f'"{n}"' for n in names)
        noun = "policy" if len(names) == 1 else "policies"
        raise invalid(
            IOLimitPolicy.GVK,
            str(policy["metadata"]["name"]),
            FieldError(
                "Forbidden",
                "spec.selector",
                f"selects pods that IOLimitPolicy {listed} also selects with the same "
                f"precedence ({level}, the highest rule priority of each); which {noun} "
                "would throttle them is undefined: give one a higher rule priority or narrow "
                "a selector",
            ),
        )

    def validate_create(self, obj: dict[str, Any]) -> None:
        names = conflicting_policies(obj, self._others())
        if names:
            self._refuse(obj, names)

    def validate_update(self, old: dict[str, Any], new: dict[str, Any]) -> None:
        others = self._others()
        before = set(conflicting_policies(old, others))
        names = [n for n in conflicting_policies(new, others) if n not in before]
        if names:
            self._refuse(new, names)

    def validate_delete(self, obj: dict[str, Any]) -> None:
        return None


def setup_webhook(manager: Manager) -> None:
    """Serve the validator on the manager's webhook server (reads go to the cache)."""
    validator = IOLimitPolicyValidator(manager.client)
    WebhookBuilder(manager).for_(IOLimitPolicy).with_validator(validator).complete()
