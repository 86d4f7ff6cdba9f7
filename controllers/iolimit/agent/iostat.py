"""Reading a container's cumulative IO counters from its cgroup.

cgroup v2 ``io.stat`` has one line per device::

    254:0 rbytes=1486848 wbytes=4194304 rios=117 wios=16 dbytes=0 dios=0

cgroup v1 splits bytes and operations into two files, one line per device and operation,
plus a grand total::

    blkio.throttle.io_service_bytes      blkio.throttle.io_serviced
    254:0 Read 8192                      254:0 Read 2
    254:0 Write 4194304                  254:0 Write 16
    ...                                  ...
    Total 4202496                        Total 18

The counters only grow while the cgroup lives (a new container is a new cgroup), which is
what lets the agent rebuild its windows after a restart (``windows``). Both parsers skip
lines they do not understand rather than fail: kernels add keys.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from controllers.iolimit.agent.cgroups import CgroupVersion

__all__ = ["IOCounters", "parse_io_stat", "parse_v1_counters", "read_counters"]

V1_BYTES = "blkio.throttle.io_service_bytes"
V1_OPS = "blkio.throttle.io_serviced"


@dataclass(frozen=True, slots=True)
class IOCounters:
    """Cumulative read/write operations and bytes, summed over the devices listed."""

    rios: int = 0
    wios: int = 0
    rbytes: int = 0
    wbytes: int = 0
    devices: tuple[str, ...] = ()
    """MAJ:MIN of every device the container did IO on."""

    def as_tuple(self) -> tuple[int, int, int, int]:
        """(rios, wios, rbytes, wbytes): the order of ``rules.METRICS``."""
        return (self.rios, self.wios, self.rbytes, self.wbytes)


def _is_device(token: str) -> bool:
    major, sep, minor = token.partition(":")
    return bool(sep) and major.isdigit() and minor.isdigit()


def parse_io_stat(text: str) -> IOCounters:
    totals = {"rios": 0, "wios": 0, "rbytes": 0, "wbytes": 0}
    devices = []
    for line in text.splitlines():
        parts = line.split()
        if not parts or not _is_device(parts[0]):
            continue
        devices.append(parts[0])
        for item in parts[1:]:
            key, _, value = item.partition("=")
            if key in totals and value.isdigit():
                totals[key] += int(value)
    return IOCounters(devices=tuple(devices), **totals)


def _v1_pairs(text: str) -> tuple[dict[str, int], list[str]]:
    sums = {"Read": 0, "Write": 0}
    devices: list[str] = []
    for line in text.splitlines():
        parts = line.split()
        if len(parts) != 3 or not _is_device(parts[0]) or not parts[2].isdigit():
            continue
        if parts[0] not in devices:
            devices.append(parts[0])
        if parts[1] in sums:
            sums[parts[1]] += int(parts[2])
    return sums, devices


def parse_v1_counters(service_bytes: str, serviced: str) -> IOCounters:
    size, devices = _v1_pairs(service_bytes)
    ops, more = _v1_pairs(serviced)
    return IOCounters(
        rios=ops["Read"],
        wios=ops["Write"],
        rbytes=size["Read"],
        wbytes=size["Write"],
        devices=tuple(dict.fromkeys([*devices, *more])),
    )


def read_counters(cgroup: Path, version: CgroupVersion) -> IOCounters:
    """The container's counters now; raises OSError when its cgroup is gone."""
    if version == "v2":
        return parse_io_stat((cgroup / "io.stat").read_text())
    return parse_v1_counters((cgroup / V1_BYTES).read_text(), (cgroup / V1_OPS).read_text())
