"""The IOLimitPolicy validating webhook: a policy that selects pods another policy also
selects is admitted with a warning naming the other policies.

Several policies may select one container; each decides on its own and the node agent
writes, per limit, the lowest value among their throttles in force (``Limits.strictest``,
documented in ``controllers/iolimit/rules.py``). The outcome of an overlap is therefore
defined, but it is rarely what the author of the second policy meant, and no schema rule
can see another object: this webhook says it at write time, as kubectl warnings.

Two policies overlap when some pod could be selected by both:

- their namespaces intersect: ``namespaces`` (empty means every namespace) minus
  ``excludedNamespaces`` (``kube-system`` unless set), so two policies that both name no
  namespace always intersect;
- their label selectors can hold at once: per label key, the values both allow
  (``matchLabels``, ``In``) minus those either refuses (``NotIn``) are not empty, and
  neither requires the key to be absent (``DoesNotExist``) while the other needs it.

A create warns about every overlapping policy; an update warns only about overlaps it
introduces, so editing a policy that already overlapped stays quiet. The functions work on
raw dicts; ``setup_webhook`` serves the validator, which reads the other policies from the
manager's cache.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from crds import IOLimitPolicy
from reconcile.client.interfaces import Reader
from reconcile.webhook import WebhookBuilder
from reconcile.webhook.validator import Warnings

if TYPE_CHECKING:
    from reconcile.manager import Manager

__all__ = [
    "IOLimitPolicyValidator",
    "namespaces_overlap",
    "overlapping_policies",
    "selectors_overlap",
    "setup_webhook",
]

_DEFAULT_EXCLUDED = ("kube-system",)


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


def overlapping_policies(
    policy: Mapping[str, Any], others: Iterable[Mapping[str, Any]]
) -> list[str]:
    """Names of the other policies that could select a pod ``policy`` selects, sorted."""
    name = (policy.get("metadata") or {}).get("name")
    return sorted(
        str(other["metadata"]["name"])
        for other in others
        if other["metadata"]["name"] != name and _overlap(policy, other)
    )


def _warning(names: list[str]) -> list[str]:
    if not names:
        return []
    listed = ", ".join(f'"{n}"' for n in names)
    noun = "IOLimitPolicy" if len(names) == 1 else "IOLimitPolicies"
    return [
        f"spec.selector: {noun} {listed} also select some of these pods; each policy decides "
        "on its own and the node agent applies, per limit, the lowest value among their "
        "throttles in force"
    ]


class IOLimitPolicyValidator:
    """A ``CustomValidator`` warning when a policy selects pods another policy selects."""

    def __init__(self, reader: Reader) -> None:
        self._reader = reader

    def _others(self) -> list[dict[str, Any]]:
        return list(self._reader.list(IOLimitPolicy.GVK).get("items") or [])

    def validate_create(self, obj: dict[str, Any]) -> Warnings:
        return _warning(overlapping_policies(obj, self._others()))

    def validate_update(self, old: dict[str, Any], new: dict[str, Any]) -> Warnings:
        others = self._others()
        before = set(overlapping_policies(old, others))
        return _warning([n for n in overlapping_policies(new, others) if n not in before])

    def validate_delete(self, obj: dict[str, Any]) -> Warnings:
        return None


def setup_webhook(manager: Manager) -> None:
    """Serve the validator on the manager's webhook server (reads go to the cache)."""
    validator = IOLimitPolicyValidator(manager.client)
    WebhookBuilder(manager).for_(IOLimitPolicy).with_validator(validator).complete()
