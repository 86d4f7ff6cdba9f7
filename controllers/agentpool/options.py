"""The ``agentpool:`` section of the operators' config file.

    agentpool:
      maxConcurrentReconciles: 2
      resyncSeconds: 60

Keys are camelCase, as in Kubernetes objects; an unknown key or a bad value is refused with
its name, so a typo never leaves the operator silently on a default.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

__all__ = ["AgentPoolOptions", "parse_config"]


@dataclass(frozen=True, kw_only=True, slots=True)
class AgentPoolOptions:
    """How the AgentPool controller runs. Usage: ``AgentPoolOptions(resync_seconds=30)``."""

    max_concurrent_reconciles: int = 2
    """Pools reconciled at once (one pool is never reconciled by two workers). Read when the
    manager starts: a change takes effect at the next start."""
    resync_seconds: float = 60.0
    """Longest wait between two reconciles of a pool when nothing happens to it: a backstop
    for anything an event could miss. Reservation expiries and scale-down windows schedule
    their own reconcile at the right moment regardless. Hot-reloaded."""

    def __post_init__(self) -> None:
        if self.max_concurrent_reconciles < 1:
            raise ValueError(
                f"maxConcurrentReconciles must be >= 1, got {self.max_concurrent_reconciles}"
            )
        if not self.resync_seconds > 0:
            raise ValueError(f"resyncSeconds must be > 0, got {self.resync_seconds}")


_KEYS: dict[str, tuple[str, type[int] | type[float]]] = {
    "maxConcurrentReconciles": ("max_concurrent_reconciles", int),
    "resyncSeconds": ("resync_seconds", float),
}
"""config key -> (option attribute, the type its value must have)."""


def parse_config(section: Mapping[str, Any]) -> AgentPoolOptions:
    """Validate the ``agentpool:`` section; raise ValueError naming the offending key."""
    unknown = sorted(str(key) for key in section if key not in _KEYS)
    if unknown:
        raise ValueError(f"unknown key(s) {', '.join(unknown)}; known: {', '.join(sorted(_KEYS))}")
    values: dict[str, Any] = {}
    for key, (attribute, kind) in _KEYS.items():
        if key not in section:
            continue
        value = section[key]
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise ValueError(f"{key}: must be a number, got {value!r}")
        if kind is int and not isinstance(value, int):
            raise ValueError(f"{key}: must be a whole number, got {value!r}")
        values[attribute] = kind(value)
    return AgentPoolOptions(**values)
