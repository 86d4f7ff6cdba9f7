"""RFC 3339 timestamps as Kubernetes writes them, to and from Unix seconds.

Status keeps times as strings (``2026-11-24T02:45:54Z``); the operator computes with Unix
seconds. Parsing is cached because metrics and inspections read the same history entries
again and again.
"""

from __future__ import annotations

import datetime as dt
import functools

__all__ = ["format_time", "parse_time"]


def format_time(seconds: float) -> str:
    """Unix seconds -> ``YYYY-MM-DDTHH:MM:SSZ`` (whole seconds, as metav1.Time)."""
    return dt.datetime.fromtimestamp(int(seconds), dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


@functools.lru_cache(maxsize=8192)
def parse_time(text: str | None) -> float | None:
    """An RFC 3339 time -> Unix seconds; None for a missing or unreadable one."""
    if not text:
        return None
    try:
        moment = dt.datetime.fromisoformat(text)
    except ValueError:
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=dt.UTC)
    return moment.timestamp()
