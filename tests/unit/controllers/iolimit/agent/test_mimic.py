"""The cgroupfs look-alike of ``kreconcile dev``: directories per container, simulated IO."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from controllers.iolimit.agent.cgroups import detect_version, find_container_cgroup
from controllers.iolimit.agent.iostat import read_counters
from controllers.iolimit.agent.limiter import V2Limiter, apply
from controllers.iolimit.agent.mimic import IO_ANNOTATION, CgroupMimic, parse_io_rates
from controllers.iolimit.rules import Limits
from tests.unit.controllers.iolimit.builders import cid, pod


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def test_directories_follow_the_pods(tmp_path: Path) -> None:
    pods: list[dict[str, Any]] = [pod("w1"), pod("w2", containers={"a": cid("1"), "b": cid("2")})]
    mimic = CgroupMimic(lambda: pods, tmp_path, device="8:0")
    mimic.sync()
    assert detect_version(tmp_path) == "v2"
    first = find_container_cgroup(tmp_path, "uid-w1", "BestEffort", cid("w"))
    assert first is not None and (first / "io.stat").read_text() == ""
    assert find_container_cgroup(tmp_path, "uid-w2", "BestEffort", cid("2")) is not None
    pods[:] = [pod("w1", containers={"app": cid("n")})]
    mimic.sync()
    assert find_container_cgroup(tmp_path, "uid-w1", "BestEffort", cid("w")) is None
    assert find_container_cgroup(tmp_path, "uid-w1", "BestEffort", cid("n")) is not None
    assert not (tmp_path / "kubepods" / "besteffort" / "poduid-w2").exists()


def test_simulated_io_grows_and_obeys_io_max(tmp_path: Path) -> None:
    clock = Clock()
    target = pod("w1", annotations={IO_ANNOTATION: "writeIOPS=100,readBPS=4096"})
    mimic = CgroupMimic(lambda: [target], tmp_path, device="8:0", clock=clock)
    mimic.sync()
    clock.now = 10.0
    mimic.sync()
    path = find_container_cgroup(tmp_path, "uid-w1", "BestEffort", cid("w"))
    assert path is not None
    assert read_counters(path, "v2").as_tuple() == (0, 1000, 40960, 0)
    apply(V2Limiter(), path, ["8:0"], Limits(write_iops=10))
    clock.now = 20.0
    mimic.sync()
    assert read_counters(path, "v2").as_tuple() == (0, 1100, 81920, 0)


def test_rates_parse_leniently() -> None:
    assert parse_io_rates("readIOPS=5, writeBPS=2.5,bogus=1,writeIOPS=x") == (5.0, 0.0, 0.0, 2.5)
