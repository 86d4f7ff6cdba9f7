"""Which block devices back a container's storage, as MAJ:MIN of whole disks.

Limits are written per device, and the kernel accepts only whole disks (a partition's
MAJ:MIN is refused with ENODEV), so every device found is mapped to its disk through
``/sys/dev/block/MAJ:MIN`` (a partition has a ``partition`` file; its disk is the parent
directory). Sources, in order:

1. the operator's ``devices`` setting, when given: exactly those;
2. the node's container storage: block-device mounts the agent can see whose source lies
   under the kubelet's or a runtime's directory (inside a pod, the kubelet bind-mounts
   ``/etc/hosts`` and the termination log from ``/var/lib/kubelet``, the runtime
   ``/etc/resolv.conf`` from its state directory, so ``/proc/self/mountinfo`` names their
   devices without any extra host mount); outside a pod, the device of ``/``;
3. the devices the container itself did IO on (its io.stat / blkio lines), which covers
   volumes on other disks.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

__all__ = [
    "MAX_DEVICES",
    "STORAGE_ROOTS",
    "Mount",
    "device_of_path",
    "node_storage_devices",
    "parse_mountinfo",
    "whole_disk",
]

MAX_DEVICES = 4
"""Devices limited per container (the status records at most four)."""

STORAGE_ROOTS = (
    "/var/lib/kubelet",
    "/var/lib/containerd",
    "/var/lib/containers",
    "/var/lib/docker",
    "/run/containerd",
    "/var/run/containerd",
    "/var/lib/rancher",
)
"""Directories whose mounts reveal where pods' and containers' files live."""

SYS_BLOCK = Path("/sys/dev/block")


@dataclass(frozen=True, slots=True)
class Mount:
    """One line of /proc/self/mountinfo."""

    device: str
    """MAJ:MIN of the mounted filesystem (major 0: not a block device)."""
    root: str
    """The path inside the filesystem that is mounted (a bind mount's source)."""
    mount_point: str
    fstype: str
    super_options: str = ""

    @property
    def is_block(self) -> bool:
        return not self.device.startswith("0:")


def _unescape(field: str) -> str:
    """mountinfo escapes space, tab, newline and backslash as octal (``\\040``)."""
    return (field.replace("\\040", " ").replace("\\011", "\t").replace("\\012", "\n")).replace(
        "\\134", "\\"
    )


def parse_mountinfo(text: str) -> list[Mount]:
    mounts = []
    for line in text.splitlines():
        left, sep, right = line.partition(" - ")
        fields = left.split()
        if not sep or len(fields) < 5:
            continue
        tail = right.split()
        mounts.append(
            Mount(
                device=fields[2],
                root=_unescape(fields[3]),
                mount_point=_unescape(fields[4]),
                fstype=tail[0] if tail else "",
                super_options=tail[2] if len(tail) > 2 else "",
            )
        )
    return mounts


def whole_disk(device: str, sys_block: Path = SYS_BLOCK) -> str:
    """The disk a partition belongs to; any other device (or an unknown one) as given."""
    entry = sys_block / device
    try:
        if not (entry / "partition").exists():
            return device
        parent = (entry.resolve().parent / "dev").read_text().strip()
    except OSError:
        return device
    return parent or device


def _under(path: str, roots: Iterable[str]) -> bool:
    return any(path == root or path.startswith(root.rstrip("/") + "/") for root in roots)


def node_storage_devices(
    mountinfo: str, sys_block: Path = SYS_BLOCK, roots: Sequence[str] = STORAGE_ROOTS
) -> list[str]:
    """Disks holding the kubelet's and the runtimes' files, as far as this process sees."""
    mounts = [m for m in parse_mountinfo(mountinfo) if m.is_block]
    found = [m.device for m in mounts if _under(m.root, roots) or _under(m.mount_point, roots)]
    if not found:
        found = [m.device for m in mounts if m.mount_point == "/"]
    return list(dict.fromkeys(whole_disk(d, sys_block) for d in found))


def device_of_path(
    path: Path, mountinfo: str | None = None, sys_block: Path = SYS_BLOCK
) -> str | None:
    """The disk a file lives on, or None on a filesystem without one (tmpfs, overlay whose
    upper directory is out of sight)."""
    st_dev = os.stat(path).st_dev
    major, minor = os.major(st_dev), os.minor(st_dev)
    if major != 0:
        return whole_disk(f"{major}:{minor}", sys_block)
    if mountinfo is None:
        try:
            mountinfo = Path("/proc/self/mountinfo").read_text()
        except OSError:
            return None
    resolved = str(Path(path).resolve())
    candidates = [m for m in parse_mountinfo(mountinfo) if _under(resolved, [m.mount_point])]
    if not candidates:
        return None
    mount = max(candidates, key=lambda m: len(m.mount_point))
    if mount.fstype != "overlay":
        return None
    for option in mount.super_options.split(","):
        key, _, value = option.partition("=")
        if key == "upperdir" and value and os.path.exists(value):
            return device_of_path(Path(value), mountinfo, sys_block)
    return None
