"""Writing, verifying and removing IO limits in a container's cgroup.

cgroup v2: ``io.max`` takes one device per write, ``MAJ:MIN rbps=N wbps=N riops=N wiops=N``,
where ``max`` means unlimited; reading it lists the devices that have a limit. Every write
here names all four keys, so the device's limits become exactly the wanted ones whatever
was there before; removal writes ``max`` for all four.

cgroup v1: four files, ``blkio.throttle.{read,write}_{bps,iops}_device``, each taking
``MAJ:MIN N`` per write, where 0 removes the device's limit; reading lists ``MAJ:MIN N``.

Each line is one ``write(2)`` on a descriptor opened ``O_WRONLY | O_APPEND`` (cgroup files
ignore the offset). A file the kernel did not create is never created (a missing file means
the cgroup is gone). On a directory that mimics cgroupfs, appending keeps every line written,
which the readers below interpret as the kernel would: the last line per device wins.

``apply`` reads first and writes only the devices whose limits differ, so re-applying what
is in force (after an agent restart) writes nothing and is reported as ``verified``.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path
from typing import Literal, Protocol

from controllers.iolimit.agent.cgroups import CgroupError, CgroupVersion
from controllers.iolimit.rules import Limits

__all__ = [
    "Limiter",
    "Outcome",
    "V1Limiter",
    "V2Limiter",
    "apply",
    "limiter_for",
    "parse_io_max",
    "remove",
]

Outcome = Literal["applied", "verified", "removed", "absent"]
"""applied: something was written; verified: the limits were already in force; removed:
limits were taken off; absent: there was nothing to remove."""

_V2_KEYS = ("riops", "wiops", "rbps", "wbps")
"""io.max keys in the order of ``Limits.values()`` (read/write IOPS, then read/write BPS)."""
_V1_FILES = (
    "blkio.throttle.read_iops_device",
    "blkio.throttle.write_iops_device",
    "blkio.throttle.read_bps_device",
    "blkio.throttle.write_bps_device",
)


def _write_line(path: Path, line: str) -> None:
    try:
        fd = os.open(path, os.O_WRONLY | os.O_APPEND)
    except FileNotFoundError as error:
        raise CgroupError(f"{path} does not exist: the container's cgroup is gone") from error
    try:
        os.write(fd, line.encode())
    except OSError as error:
        raise CgroupError(f"writing {line.strip()!r} to {path}: {error.strerror}") from error
    finally:
        os.close(fd)


def _as_limits(values: Sequence[int | None]) -> Limits:
    return Limits(*values)


def parse_io_max(text: str) -> dict[str, Limits]:
    """Device -> limits in force; the last line of a device wins, all-``max`` drops it."""
    found: dict[str, Limits] = {}
    for line in text.splitlines():
        parts = line.split()
        if not parts or ":" not in parts[0]:
            continue
        values: dict[str, int | None] = dict.fromkeys(_V2_KEYS)
        for item in parts[1:]:
            key, _, value = item.partition("=")
            if key in values and value.isdigit():
                values[key] = int(value)
        limits = _as_limits([values[k] for k in _V2_KEYS])
        if limits.is_empty():
            found.pop(parts[0], None)
        else:
            found[parts[0]] = limits
    return found


class Limiter(Protocol):
    """Reads and writes one cgroup version's limit files."""

    def current(self, cgroup: Path) -> dict[str, Limits]:
        """Device -> the limits in force on it (devices without limits are absent)."""
        ...

    def write(self, cgroup: Path, device: str, limits: Limits) -> None:
        """Make ``limits`` the device's limits (empty limits remove them)."""
        ...


class V2Limiter:
    """cgroup v2: ``io.max``."""

    def current(self, cgroup: Path) -> dict[str, Limits]:
        return parse_io_max((cgroup / "io.max").read_text())

    def write(self, cgroup: Path, device: str, limits: Limits) -> None:
        keys = ("rbps", "wbps", "riops", "wiops")
        fields = " ".join(
            f"{key}={'max' if value is None else value}"
            for key, value in zip(keys, _v2_order(limits), strict=True)
        )
        _write_line(cgroup / "io.max", f"{device} {fields}\n")


def _v2_order(limits: Limits) -> tuple[int | None, ...]:
    """Values in io.max's documented key order: rbps wbps riops wiops."""
    return (limits.read_bps, limits.write_bps, limits.read_iops, limits.write_iops)


class V1Limiter:
    """cgroup v1: the four ``blkio.throttle.*_device`` files."""

    def current(self, cgroup: Path) -> dict[str, Limits]:
        per_device: dict[str, list[int | None]] = {}
        for index, name in enumerate(_V1_FILES):
            for line in (cgroup / name).read_text().splitlines():
                parts = line.split()
                if len(parts) != 2 or ":" not in parts[0] or not parts[1].isdigit():
                    continue
                values = per_device.setdefault(parts[0], [None, None, None, None])
                values[index] = int(parts[1]) or None
        found = {device: _as_limits(values) for device, values in per_device.items()}
        return {device: limits for device, limits in found.items() if not limits.is_empty()}

    def write(self, cgroup: Path, device: str, limits: Limits) -> None:
        current = self.current(cgroup).get(device, Limits())
        for name, value, old in zip(_V1_FILES, limits.values(), current.values(), strict=True):
            if value != old:
                _write_line(cgroup / name, f"{device} {value or 0}\n")


def limiter_for(version: CgroupVersion) -> Limiter:
    return V2Limiter() if version == "v2" else V1Limiter()


def apply(limiter: Limiter, cgroup: Path, devices: Sequence[str], limits: Limits) -> Outcome:
    """Make ``limits`` the limits of each of ``devices``; write only what differs."""
    current = limiter.current(cgroup)
    outcome: Outcome = "verified"
    for device in devices:
        if current.get(device, Limits()) != limits:
            limiter.write(cgroup, device, limits)
            outcome = "applied"
    return outcome


def remove(limiter: Limiter, cgroup: Path, devices: Sequence[str] | None = None) -> Outcome:
    """Lift the limits of ``devices`` (None: every limited device)."""
    current = limiter.current(cgroup)
    targets = list(current) if devices is None else [d for d in devices if d in current]
    for device in targets:
        limiter.write(cgroup, device, Limits())
    return "removed" if targets else "absent"
