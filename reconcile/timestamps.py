"""The Kubernetes API's two timestamp formats, written and read one way everywhere.

``metav1.Time`` is RFC 3339 in UTC at whole seconds (``2026-11-26T01:04:05Z``): creation
and deletion timestamps, condition transitions, managedFields, most status times.
``metav1.MicroTime`` keeps six fractional digits (``2026-11-26T01:04:05.000060Z``): Lease
renewals, ``events.k8s.io`` eventTime, audit events. Both writers take seconds since the
epoch or an aware datetime, and default to now.
"""

from __future__ import annotations

import datetime as dt
import functools

__all__ = ["micro_time", "parse_time", "rfc3339"]

_TIME = "%Y-%m-%dT%H:%M:%SZ"
_MICRO_TIME = "%Y-%m-%dT%H:%M:%S.%fZ"


def _moment(when: float | dt.datetime | None) -> dt.datetime:
    if when is None:
        return dt.datetime.now(dt.UTC)
    if isinstance(when, dt.datetime):
        return when.astimezone(dt.UTC)
    return dt.datetime.fromtimestamp(when, dt.UTC)


def rfc3339(when: float | dt.datetime | None = None) -> str:
    """A metav1.Time: UTC, whole seconds (a fraction is cut, not rounded)."""
    return _moment(when).strftime(_TIME)


def micro_time(when: float | dt.datetime | None = None) -> str:
    """A metav1.MicroTime: UTC with exactly six fractional digits."""
    return _moment(when).strftime(_MICRO_TIME)


@functools.lru_cache(maxsize=8192)
def parse_time(text: str | None) -> float | None:
    """Seconds since the epoch of an RFC 3339 time (one without an offset is UTC); None
    for a missing or unreadable one. Cached: status times are read again and again."""
    if not text:
        return None
    try:
        moment = dt.datetime.fromisoformat(text)
    except ValueError:
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=dt.UTC)
    return moment.timestamp()
