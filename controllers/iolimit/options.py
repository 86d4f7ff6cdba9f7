"""The ``iolimit:`` section of the operators' config file, validated.

Example (every key optional; durations are seconds or Go-style strings like ``90s``, ``5m``)::

    iolimit:
      samplingInterval: 10s      # agent: how often each container's counters are read
      reportInterval: 60s        # agent: heartbeat of its node report when nothing changed
      staleAfter: 3m             # controller: a node report older than this is Degraded
      devices: ["8:0"]           # agent: limit exactly these disks (default: discovered)
      migration:
        enabled: true            # controller: import the replaced service's pod annotations
        annotationPrefix: kubediskguard.io

The manager and the agents both read the file and both hot-reload it; each uses its keys.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

__all__ = ["DEFAULT_ANNOTATION_PREFIX", "IOLimitConfig", "MigrationConfig", "parse_config"]

DEFAULT_ANNOTATION_PREFIX = "kubediskguard.io"
"""The annotation prefix of the service IOLimitPolicy replaces."""

_DURATION = re.compile(r"^(?:(\d+(?:\.\d+)?)h)?(?:(\d+(?:\.\d+)?)m)?(?:(\d+(?:\.\d+)?)s)?$")
_DEVICE = re.compile(r"^\d+:\d+$")
_PREFIX = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$")


@dataclass(frozen=True, kw_only=True)
class MigrationConfig:
    enabled: bool = True
    """Import throttles recorded in pod annotations by the replaced service."""
    annotation_prefix: str = DEFAULT_ANNOTATION_PREFIX
    """Their prefix: ``<prefix>/triggered-by``, ``<prefix>/read-iops-limit``, ..."""


@dataclass(frozen=True, kw_only=True)
class IOLimitConfig:
    sampling_interval: float = 10.0
    """Seconds between two readings of every container's counters. Shorter reacts faster
    to a crossed threshold and costs the agent CPU in proportion."""
    report_interval: float = 60.0
    """Seconds between node reports when nothing changed (the controller's liveness
    signal); a change is reported at once."""
    stale_after: float = 180.0
    """Seconds after which the controller calls a node report stale (Degraded)."""
    devices: tuple[str, ...] = ()
    """MAJ:MIN of the disks to limit; empty: discovered per container (see agent.devices)."""
    migration: MigrationConfig = field(default_factory=MigrationConfig)

    def __post_init__(self) -> None:
        if self.sampling_interval <= 0:
            raise ValueError(f"samplingInterval must be > 0, got {self.sampling_interval}")
        if self.report_interval < self.sampling_interval:
            raise ValueError(
                f"reportInterval ({self.report_interval:g}s) must not be shorter than "
                f"samplingInterval ({self.sampling_interval:g}s)"
            )
        if self.stale_after <= self.report_interval:
            raise ValueError(
                f"staleAfter ({self.stale_after:g}s) must be longer than reportInterval "
                f"({self.report_interval:g}s), or every report is stale before the next"
            )


def parse_duration(value: Any, key: str) -> float:
    """Seconds from a number or a string like ``1h30m``, ``90s``, ``2.5m``."""
    if isinstance(value, bool):
        raise ValueError(f"{key}: expected a duration like 10s or 5m, got {value!r}")
    if isinstance(value, int | float):
        seconds = float(value)
    else:
        match = _DURATION.match(str(value).strip())
        if not match or not any(match.groups()):
            raise ValueError(f"{key}: expected a duration like 10s or 5m, got {value!r}")
        hours, minutes, secs = (float(g) if g else 0.0 for g in match.groups())
        seconds = hours * 3600 + minutes * 60 + secs
    if seconds <= 0:
        raise ValueError(f"{key}: must be longer than 0s, got {value!r}")
    return seconds


def _devices(value: Any) -> tuple[str, ...]:
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise ValueError(f"devices: expected a list of MAJ:MIN strings, got {value!r}")
    bad = [v for v in value if not _DEVICE.match(v)]
    if bad:
        raise ValueError(f"devices: {bad[0]!r} is not MAJ:MIN (e.g. 8:0; see lsblk)")
    if len(value) > 4:
        raise ValueError(f"devices: at most 4 disks, got {len(value)}")
    return tuple(value)


def _migration(value: Any) -> MigrationConfig:
    if not isinstance(value, Mapping):
        raise ValueError("migration: must be a mapping with enabled and annotationPrefix")
    unknown = sorted(set(value) - {"enabled", "annotationPrefix"})
    if unknown:
        raise ValueError(f"migration: unknown key(s) {', '.join(unknown)}")
    enabled = value.get("enabled", True)
    if not isinstance(enabled, bool):
        raise ValueError(f"migration.enabled: expected true or false, got {enabled!r}")
    prefix = value.get("annotationPrefix", DEFAULT_ANNOTATION_PREFIX)
    if not isinstance(prefix, str) or len(prefix) > 200 or not _PREFIX.match(prefix):
        raise ValueError(
            f"migration.annotationPrefix: {prefix!r} is not a DNS subdomain like "
            f"{DEFAULT_ANNOTATION_PREFIX}"
        )
    return MigrationConfig(enabled=enabled, annotation_prefix=prefix)


_KEYS = {
    "samplingInterval": "sampling_interval",
    "reportInterval": "report_interval",
    "staleAfter": "stale_after",
}


def parse_config(section: Mapping[str, Any]) -> IOLimitConfig:
    """Validate the ``iolimit:`` section; ValueError names the key and what to write."""
    known = {*_KEYS, "devices", "migration"}
    unknown = sorted(str(k) for k in section if k not in known)
    if unknown:
        raise ValueError(f"unknown key(s) {', '.join(unknown)}; known: {', '.join(sorted(known))}")
    values: dict[str, Any] = {
        attr: parse_duration(section[key], key) for key, attr in _KEYS.items() if key in section
    }
    if "devices" in section:
        values["devices"] = _devices(section["devices"])
    if "migration" in section:
        values["migration"] = _migration(section["migration"])
    return IOLimitConfig(**values)
