"""Types every kind shares: conditions, label selectors, times, and the object base class."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Annotated, Any, ClassVar, Literal, Self

from crds.convert import from_dict, to_dict
from crds.markers import (
    Format,
    ListMap,
    MaxItems,
    MaxLength,
    MaxProperties,
    Minimum,
    MinLength,
    Pattern,
)
from reconcile.gvk import GroupVersionKind

__all__ = [
    "DNS_LABEL",
    "DNS_SUBDOMAIN",
    "Condition",
    "Conditions",
    "LabelSelector",
    "LabelSelectorRequirement",
    "Name",
    "Resource",
    "Time",
]

Time = Annotated[str, Format("date-time"), MaxLength(40)]
"""An RFC 3339 timestamp, as Kubernetes writes them (``2026-11-24T02:45:54Z``).

Kept as a string: parsing every timestamp on every read would cost more than the few
comparisons a controller makes, and string order equals time order in UTC.
"""

DNS_LABEL = r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$"
DNS_SUBDOMAIN = r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$"

Name = Annotated[str, MinLength(1), MaxLength(253)]
"""An object name (DNS subdomain, at most 253 characters)."""

_REASON = r"^[A-Za-z]([A-Za-z0-9_,:]*[A-Za-z0-9_])?$"
_CONDITION_TYPE = (
    r"^([a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*/)?"
    r"(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])$"
)


@dataclass(kw_only=True, slots=True)
class Condition:
    """One aspect of the object's state (metav1.Condition; messages capped at 1 KiB here)."""

    type: Annotated[str, MaxLength(316), Pattern(_CONDITION_TYPE)]
    """Type of condition in CamelCase, e.g. Ready."""
    status: Literal["True", "False", "Unknown"]
    """Status of the condition: True, False or Unknown."""
    last_transition_time: Time
    """When the condition last changed status."""
    reason: Annotated[str, MinLength(1), MaxLength(1024), Pattern(_REASON)]
    """Programmatic identifier of the last transition's cause, in CamelCase."""
    message: Annotated[str, MaxLength(1024)] = ""
    """Human-readable details about the transition."""
    observed_generation: Annotated[int, Minimum(0)] | None = None
    """The .metadata.generation this condition was set for."""


Conditions = Annotated[list[Condition], ListMap(("type",)), MaxItems(8)]
"""Conditions keyed by type (several writers may own one each under server-side apply)."""


@dataclass(kw_only=True, slots=True)
class LabelSelectorRequirement:
    """A selector requirement: a key, an operator and values."""

    key: Annotated[str, MinLength(1), MaxLength(317)]
    """The label key the requirement applies to."""
    operator: Literal["In", "NotIn", "Exists", "DoesNotExist"]
    """How the key relates to the values."""
    values: Annotated[list[Annotated[str, MaxLength(63)]], MaxItems(64)] = field(
        default_factory=list
    )
    """Values for In and NotIn (non-empty); empty for Exists and DoesNotExist."""


@dataclass(kw_only=True, slots=True)
class LabelSelector:
    """Selects pods by labels (metav1.LabelSelector); requirements are ANDed."""

    match_labels: Annotated[dict[str, Annotated[str, MaxLength(63)]], MaxProperties(64)] | None = (
        None
    )
    """Labels a pod must have, each with exactly this value."""
    match_expressions: Annotated[list[LabelSelectorRequirement], MaxItems(32)] | None = None
    """Label requirements a pod must meet."""

    def is_empty(self) -> bool:
        """An empty selector matches every pod."""
        return not self.match_labels and not self.match_expressions


class Resource:
    """Base of the top-level kinds: ``from_dict``/``to_dict`` with apiVersion and kind.

    Subclasses are dataclasses with ``metadata`` (kept raw: controllers read names, labels
    and resourceVersion straight from it), ``spec`` and ``status``.
    """

    __slots__ = ()
    GVK: ClassVar[GroupVersionKind]

    @classmethod
    def from_dict(cls, obj: dict[str, Any]) -> Self:
        """The typed view of a raw object from the client or the cache (shares ``metadata``)."""
        return from_dict(cls, obj)

    def to_dict(self) -> dict[str, Any]:
        """The raw object, ready for ``client.create``/``update``."""
        return {"apiVersion": self.GVK.api_version, "kind": self.GVK.kind, **to_dict(self)}
