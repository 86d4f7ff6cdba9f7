"""Finding containers' cgroups: version, drivers, runtimes and QoS classes."""

from __future__ import annotations

from pathlib import Path

import pytest

from controllers.iolimit.agent.cgroups import (
    CgroupError,
    detect_version,
    find_container_cgroup,
    hierarchy,
)

UID = "1b2c3d4e-0000-1111-2222-333344445555"
ID = "f" * 64


@pytest.mark.parametrize(
    ("runtime", "qos", "relative"),
    [
        pytest.param("containerd", "BestEffort", f"kubepods/besteffort/pod{UID}/{ID}",
                     id="cgroupfs-containerd"),
        pytest.param("cri-o", "Burstable", f"kubepods/burstable/pod{UID}/crio-{ID}",
                     id="cgroupfs-crio"),
        pytest.param("docker", "Guaranteed", f"kubepods/pod{UID}/{ID}", id="cgroupfs-docker"),
        pytest.param("containerd", "Burstable",
                     "kubepods.slice/kubepods-burstable.slice/"
                     f"kubepods-burstable-pod{UID.replace('-', '_')}.slice/"
                     f"cri-containerd-{ID}.scope", id="systemd-containerd"),
        pytest.param("cri-o", "Guaranteed",
                     f"kubepods.slice/kubepods-pod{UID.replace('-', '_')}.slice/crio-{ID}.scope",
                     id="systemd-crio-guaranteed"),
        pytest.param("docker", "BestEffort",
                     "kubepods.slice/kubepods-besteffort.slice/"
                     f"kubepods-besteffort-pod{UID.replace('-', '_')}.slice/docker-{ID}.scope",
                     id="systemd-docker"),
        pytest.param("containerd", "BestEffort",
                     f"kubelet.slice/kubelet-kubepods.slice/x/y/cri-containerd-{ID}.scope",
                     id="other-parent-found-by-search"),
    ],
)  # fmt: skip
def test_layouts(tmp_path: Path, runtime: str, qos: str, relative: str) -> None:
    (tmp_path / relative).mkdir(parents=True)
    (tmp_path / "decoy" / "crio-conmon-x").mkdir(parents=True)
    found = find_container_cgroup(tmp_path, UID, qos, f"{runtime}://{ID}")
    assert found == tmp_path / relative


def test_missing_container_is_none_and_search_can_be_skipped(tmp_path: Path) -> None:
    (tmp_path / "elsewhere" / ID).mkdir(parents=True)
    assert find_container_cgroup(tmp_path, UID, "BestEffort", f"containerd://{'0' * 64}") is None
    assert (
        find_container_cgroup(tmp_path, UID, "BestEffort", f"containerd://{ID}", search=False)
        is None
    )


def test_version_detection(tmp_path: Path) -> None:
    (tmp_path / "cgroup.controllers").write_text("cpuset cpu io memory pids\n")
    assert detect_version(tmp_path) == "v2"
    assert hierarchy(tmp_path, "v2") == tmp_path
    hybrid = tmp_path / "hybrid"
    (hybrid / "blkio").mkdir(parents=True)
    (hybrid / "unified").mkdir()
    (hybrid / "unified" / "cgroup.controllers").write_text("")
    assert detect_version(hybrid) == "v1"
    assert hierarchy(hybrid, "v1") == hybrid / "blkio"
    with pytest.raises(CgroupError, match="pass --cgroup-root"):
        detect_version(tmp_path / "empty")
