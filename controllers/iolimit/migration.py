"""Importing the throttles the replaced service recorded in pod annotations.

That service kept its decisions on the pod (prefix configurable, ``kubediskguard.io`` by
default)::

    <prefix>/triggered-by: "15m"                         the window
    <prefix>/trigger-reason: "15m window [ReadIOPS:0.65]"
    <prefix>/read-iops-limit: "300"                      also write-iops, read-bps, write-bps;
                                                         0 or absent: not limited
    <prefix>/limit-removed: "true"                       once lifted, with
    <prefix>/removed-at: "2024-01-15T10:30:00Z"          and
    <prefix>/removed-reason: "..."

The controller imports them into the status of the policy that selects the pod (the oldest
such policy, then by name), once: after the status write it marks the pod with
``MARKER_ANNOTATION`` set to a fingerprint of those annotations, and skips pods whose mark
matches. A crash between the two steps is harmless, because an import never adds a second
throttle for a container that has one; annotations that change afterwards (the old service
still running during the switch-over) are imported again. Malformed annotations are skipped
with the reason in the log and a Warning Event, and marked too, so they are reported once
per content, never retried in a loop, never a crash.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass

from controllers.iolimit.rules import WINDOWS, Limits
from reconcile.timestamps import parse_time

__all__ = [
    "LIMIT_KEYS",
    "MARKER_ANNOTATION",
    "MalformedAnnotations",
    "OldThrottle",
    "fingerprint",
    "has_old_annotations",
    "is_imported",
    "read_old_throttle",
]

MARKER_ANNOTATION = "iolimit.kreconcile.io/imported"
"""Set on a pod once its old annotations are imported; the value is their fingerprint."""

LIMIT_KEYS = ("read-iops-limit", "write-iops-limit", "read-bps-limit", "write-bps-limit")
_KEYS = (
    "triggered-by",
    "trigger-reason",
    *LIMIT_KEYS,
    "limit-removed",
    "removed-at",
    "removed-reason",
)
_MAX_REASON = 256


class MalformedAnnotations(ValueError):
    """The pod's annotations cannot be read as a throttle; the message says which and why."""


@dataclass(frozen=True, slots=True)
class OldThrottle:
    """One pod's throttle as the replaced service recorded it."""

    window: str
    reason: str
    limits: Limits
    removed: bool = False
    removed_at: str | None = None
    removed_reason: str = ""


def _old(annotations: Mapping[str, str], prefix: str) -> dict[str, str]:
    found = {key: annotations.get(f"{prefix}/{key}") for key in _KEYS}
    return {key: value for key, value in found.items() if value is not None}


def has_old_annotations(annotations: Mapping[str, str], prefix: str) -> bool:
    return any(f"{prefix}/{key}" in annotations for key in _KEYS)


def fingerprint(annotations: Mapping[str, str], prefix: str) -> str:
    """A short digest of the old annotations: the import mark's value."""
    text = "\n".join(f"{k}={v}" for k, v in sorted(_old(annotations, prefix).items()))
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def is_imported(annotations: Mapping[str, str], prefix: str) -> bool:
    return annotations.get(MARKER_ANNOTATION) == fingerprint(annotations, prefix)


def _limit(values: Mapping[str, str], key: str, prefix: str) -> int | None:
    raw = values.get(key)
    if raw is None:
        return None
    text = raw.strip()
    if not text.isdigit():
        raise MalformedAnnotations(
            f"{prefix}/{key}: {raw!r} is not a non-negative integer (0 means not limited)"
        )
    return int(text) or None


def read_old_throttle(annotations: Mapping[str, str], prefix: str) -> OldThrottle:
    """The throttle the annotations describe; MalformedAnnotations says what is wrong."""
    values = _old(annotations, prefix)
    window = values.get("triggered-by", "").strip()
    if window not in WINDOWS:
        raise MalformedAnnotations(
            f"{prefix}/triggered-by: {values.get('triggered-by')!r} is not a window "
            f"({', '.join(WINDOWS)})"
        )
    limits = Limits(*(_limit(values, key, prefix) for key in LIMIT_KEYS))
    removed_flag = values.get("limit-removed", "false").strip().lower()
    if removed_flag not in ("true", "false"):
        raise MalformedAnnotations(
            f"{prefix}/limit-removed: {values['limit-removed']!r} is not true or false"
        )
    removed = removed_flag == "true"
    removed_at = values.get("removed-at")
    if removed and removed_at is not None and parse_time(removed_at) is None:
        raise MalformedAnnotations(
            f"{prefix}/removed-at: {removed_at!r} is not an RFC 3339 time like 2024-01-15T10:30:00Z"
        )
    if limits.is_empty() and not removed:
        raise MalformedAnnotations(
            f"no limit: none of {', '.join(f'{prefix}/{k}' for k in LIMIT_KEYS)} is above 0"
        )
    return OldThrottle(
        window=window,
        reason=values.get("trigger-reason", "")[:_MAX_REASON],
        limits=limits,
        removed=removed,
        removed_at=removed_at if removed else None,
        removed_reason=values.get("removed-reason", "")[:_MAX_REASON] if removed else "",
    )
