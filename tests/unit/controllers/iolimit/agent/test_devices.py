"""Which disks back a container's storage: mountinfo, partitions, overlay."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest

from controllers.iolimit.agent.devices import (
    device_of_path,
    node_storage_devices,
    parse_mountinfo,
    whole_disk,
)

IN_A_POD = """\
1420 1300 0:190 / / rw,relatime master:1 - overlay overlay rw,lowerdir=/l,upperdir=/u,workdir=/w
1421 1420 0:193 / /proc rw,nosuid - proc proc rw
1433 1420 8:1 /var/lib/kubelet/pods/1b2c/etc-hosts /etc/hosts rw,relatime - ext4 /dev/sda1 rw
1434 1420 259:2 /var/lib/containerd/io.containerd.grpc.v1.cri/sandboxes/9f/resolv.conf /etc/resolv.conf rw - xfs /dev/nvme0n1p2 rw
1435 1420 0:45 / /host/sys/fs/cgroup rw - cgroup2 cgroup2 rw
1436 1420 8:1 /data/with\\040space /mnt/x rw - ext4 /dev/sda1 rw
"""
ON_A_HOST = "27 1 254:0 / / rw,relatime - ext4 /dev/vda rw\n31 27 0:28 / /sys/fs/cgroup rw - tmpfs tmpfs rw\n"


@pytest.fixture
def sys_block(tmp_path: Path) -> Path:
    """A /sys/dev/block look-alike: sda with partition sda1 (8:1), nvme0n1p2 (259:2)."""
    devices = tmp_path / "devices"
    for disk, dev, parts in (
        ("sda", "8:0", {"sda1": "8:1"}),
        ("nvme0n1", "259:0", {"nvme0n1p2": "259:2"}),
    ):
        (devices / disk).mkdir(parents=True)
        (devices / disk / "dev").write_text(dev + "\n")
        os.symlink(devices / disk, tmp_path / dev)
        for part, part_dev in parts.items():
            (devices / disk / part).mkdir()
            (devices / disk / part / "dev").write_text(part_dev + "\n")
            (devices / disk / part / "partition").write_text("1\n")
            os.symlink(devices / disk / part, tmp_path / part_dev)
    return tmp_path


def test_mountinfo_fields_and_escapes() -> None:
    mounts = parse_mountinfo(IN_A_POD)
    assert [(m.device, m.mount_point, m.fstype, m.is_block) for m in mounts[:3]] == [
        ("0:190", "/", "overlay", False),
        ("0:193", "/proc", "proc", False),
        ("8:1", "/etc/hosts", "ext4", True),
    ]
    assert mounts[-1].root == "/data/with space"


def test_partitions_map_to_their_disk(sys_block: Path) -> None:
    assert whole_disk("8:1", sys_block) == "8:0"
    assert whole_disk("8:0", sys_block) == "8:0"
    assert whole_disk("253:7", sys_block) == "253:7", "unknown devices are kept as given"


def test_inside_a_pod_the_kubelet_and_runtime_mounts_name_the_disks(sys_block: Path) -> None:
    assert node_storage_devices(IN_A_POD, sys_block) == ["8:0", "259:0"]


def test_on_a_host_the_root_filesystem_is_the_disk(sys_block: Path) -> None:
    assert node_storage_devices(ON_A_HOST, sys_block) == ["254:0"]


def test_device_of_a_file_on_a_block_device(tmp_path: Path) -> None:
    st_dev = os.stat(tmp_path).st_dev
    if os.major(st_dev) == 0:
        pytest.skip(f"{tmp_path} is not on a block device (tmpfs or overlay)")
    found = device_of_path(tmp_path)
    assert found is not None and found.split(":")[0] == str(os.major(st_dev))


def test_overlay_resolves_through_its_upper_directory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    if os.major(os.stat(tmp_path).st_dev) == 0:
        pytest.skip(f"{tmp_path} is not on a block device")
    merged, upper = tmp_path / "merged", tmp_path / "upper"
    merged.mkdir()
    upper.mkdir()
    (merged / "file").touch()
    mountinfo = f"1 0 0:99 / {merged} rw - overlay overlay rw,upperdir={upper}\n"
    real_stat = os.stat

    def overlay_stat(path: Any, *args: Any, **kwargs: Any) -> os.stat_result:
        result = real_stat(path, *args, **kwargs)
        if str(path).startswith(str(merged)):
            return os.stat_result((*result[:2], os.makedev(0, 99), *result[3:]))
        return result

    monkeypatch.setattr(os, "stat", overlay_stat)
    assert device_of_path(merged / "file", mountinfo=mountinfo) == device_of_path(upper)
    assert device_of_path(merged / "file", mountinfo="") is None
