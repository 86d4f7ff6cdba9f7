"""Finding a container's cgroup: hierarchy version, cgroup driver and runtime layouts.

The node's io controller is either cgroup v2's (``<root>/cgroup.controllers`` lists ``io``)
or cgroup v1's ``blkio`` hierarchy (``<root>/blkio``; on a hybrid node the io controller is
bound there, whatever ``<root>/unified`` holds). Under it the kubelet puts each pod in a
cgroup named by its QoS class and UID, in one of two drivers' layouts, and the runtime puts
each container below that:

=========  ==========================================================================
driver     container cgroup (BestEffort shown; Burstable alike; Guaranteed has no QoS level)
=========  ==========================================================================
cgroupfs   ``kubepods/besteffort/pod<uid>/<id>`` (containerd, docker); ``crio-<id>`` (CRI-O)
systemd    ``kubepods.slice/kubepods-besteffort.slice/kubepods-besteffort-pod<uid_>.slice/``
           ``cri-containerd-<id>.scope`` / ``crio-<id>.scope`` / ``docker-<id>.scope``
=========  ==========================================================================

(``<uid_>``: the pod UID with ``-`` replaced by ``_``, as systemd unit names need.) The
known paths are tried first (a few ``stat`` calls); a node with another parent slice (kind,
rootless) falls back to one bounded search below the hierarchy for a directory named after
the container ID, whose result is cached by the caller.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Literal

__all__ = [
    "CgroupError",
    "CgroupVersion",
    "container_dir_names",
    "detect_version",
    "find_container_cgroup",
    "hierarchy",
    "layout_paths",
    "split_container_id",
]

CgroupVersion = Literal["v1", "v2"]

_SEARCH_DEPTH = 6
"""Levels below the hierarchy the fallback search descends (kubepods.slice/qos/pod/ctr = 4)."""


class CgroupError(OSError):
    """The node's cgroup filesystem has no usable io controller, or a write was refused."""


def detect_version(root: Path) -> CgroupVersion:
    """Which hierarchy carries the io controller under ``root``."""
    controllers = root / "cgroup.controllers"
    try:
        if "io" in controllers.read_text().split():
            return "v2"
    except OSError:
        pass
    if (root / "blkio").is_dir():
        return "v1"
    raise CgroupError(
        f"no io controller under {root}: neither cgroup v2 (io in cgroup.controllers) nor "
        "cgroup v1 blkio is mounted there; pass --cgroup-root where the host's "
        "/sys/fs/cgroup is mounted"
    )


def hierarchy(root: Path, version: CgroupVersion) -> Path:
    """The directory containers' io cgroups live under."""
    return root if version == "v2" else root / "blkio"


def split_container_id(container_id: str) -> tuple[str, str]:
    """``containerd://abc`` -> (``containerd``, ``abc``)."""
    runtime, sep, raw = container_id.partition("://")
    return (runtime, raw) if sep else ("", container_id)


def container_dir_names(container_id: str) -> tuple[str, str]:
    """(cgroupfs name, systemd scope name) of a container's cgroup for its runtime."""
    runtime, raw = split_container_id(container_id)
    if runtime == "cri-o":
        return f"crio-{raw}", f"crio-{raw}.scope"
    if runtime == "docker":
        return raw, f"docker-{raw}.scope"
    return raw, f"cri-containerd-{raw}.scope"


def _qos_level(qos: str) -> str:
    lowered = qos.lower()
    return "" if lowered == "guaranteed" else lowered


def layout_paths(base: Path, pod_uid: str, qos: str, container_id: str) -> tuple[Path, Path]:
    """(cgroupfs path, systemd path) of the container's cgroup under ``base``."""
    cgroupfs_name, scope_name = container_dir_names(container_id)
    level = _qos_level(qos)
    cgroupfs = base / "kubepods"
    if level:
        cgroupfs = cgroupfs / level
    cgroupfs = cgroupfs / f"pod{pod_uid}" / cgroupfs_name
    underscored = pod_uid.replace("-", "_")
    systemd = base / "kubepods.slice"
    if level:
        systemd = systemd / f"kubepods-{level}.slice" / f"kubepods-{level}-pod{underscored}.slice"
    else:
        systemd = systemd / f"kubepods-pod{underscored}.slice"
    return cgroupfs, systemd / scope_name


def _walk(base: Path, names: set[str], depth: int) -> Iterator[Path]:
    try:
        entries = list(os.scandir(base))
    except OSError:
        return
    for entry in entries:
        if not entry.is_dir(follow_symlinks=False):
            continue
        if entry.name in names:
            yield Path(entry.path)
        elif depth > 1:
            yield from _walk(Path(entry.path), names, depth - 1)


def find_container_cgroup(
    base: Path, pod_uid: str, qos: str, container_id: str, *, search: bool = True
) -> Path | None:
    """The container's cgroup directory under ``base``, or None if it does not exist (yet)."""
    for path in layout_paths(base, pod_uid, qos, container_id):
        if path.is_dir():
            return path
    if not search:
        return None
    names = set(container_dir_names(container_id))
    return next(_walk(base, names, _SEARCH_DEPTH), None)
