"""Limits written to cgroup files that mimic cgroupfs: exact lines, verify, remove."""

from __future__ import annotations

from pathlib import Path

import pytest

from controllers.iolimit.agent.cgroups import CgroupError
from controllers.iolimit.agent.limiter import (
    V1Limiter,
    V2Limiter,
    apply,
    parse_io_max,
    remove,
)
from controllers.iolimit.rules import Limits

V1_FILES = (
    "blkio.throttle.read_iops_device",
    "blkio.throttle.write_iops_device",
    "blkio.throttle.read_bps_device",
    "blkio.throttle.write_bps_device",
)


@pytest.fixture
def v2(tmp_path: Path) -> Path:
    (tmp_path / "io.max").touch()
    return tmp_path


@pytest.fixture
def v1(tmp_path: Path) -> Path:
    for name in V1_FILES:
        (tmp_path / name).touch()
    return tmp_path


def test_v2_io_max_lines_are_exactly_right_and_max_removes(v2: Path) -> None:
    limits = Limits(read_iops=300, write_bps=2097152)
    assert apply(V2Limiter(), v2, ["8:0", "259:0"], limits) == "applied"
    assert (v2 / "io.max").read_text().splitlines() == [
        "8:0 rbps=max wbps=2097152 riops=300 wiops=max",
        "259:0 rbps=max wbps=2097152 riops=300 wiops=max",
    ]
    assert V2Limiter().current(v2) == {"8:0": limits, "259:0": limits}
    assert remove(V2Limiter(), v2, ["8:0", "259:0"]) == "removed"
    assert (v2 / "io.max").read_text().splitlines()[2:] == [
        "8:0 rbps=max wbps=max riops=max wiops=max",
        "259:0 rbps=max wbps=max riops=max wiops=max",
    ]
    assert V2Limiter().current(v2) == {}
    assert remove(V2Limiter(), v2) == "absent"


def test_reapplying_what_is_in_force_writes_nothing(v2: Path) -> None:
    limits = Limits(write_iops=50)
    apply(V2Limiter(), v2, ["8:0"], limits)
    before = (v2 / "io.max").stat().st_mtime_ns, (v2 / "io.max").read_text()
    assert apply(V2Limiter(), v2, ["8:0"], limits) == "verified"
    assert ((v2 / "io.max").stat().st_mtime_ns, (v2 / "io.max").read_text()) == before
    assert apply(V2Limiter(), v2, ["8:0", "8:16"], limits) == "applied"
    assert (v2 / "io.max").read_text().splitlines()[
        -1
    ] == "8:16 rbps=max wbps=max riops=max wiops=50"


def test_kernel_style_io_max_is_read() -> None:
    text = "8:16 rbps=2097152 wbps=max riops=max wiops=120\n254:0 rbps=max wbps=max riops=max wiops=max\n"
    assert parse_io_max(text) == {"8:16": Limits(read_bps=2097152, write_iops=120)}


def test_v1_files_get_one_line_per_changed_limit_and_zero_removes(v1: Path) -> None:
    assert apply(V1Limiter(), v1, ["254:0"], Limits(write_bps=2097152, read_iops=10)) == "applied"
    contents = {name: (v1 / name).read_text() for name in V1_FILES}
    assert contents == {
        "blkio.throttle.read_iops_device": "254:0 10\n",
        "blkio.throttle.write_iops_device": "",
        "blkio.throttle.read_bps_device": "",
        "blkio.throttle.write_bps_device": "254:0 2097152\n",
    }
    assert apply(V1Limiter(), v1, ["254:0"], Limits(write_bps=2097152)) == "applied"
    assert (v1 / "blkio.throttle.read_iops_device").read_text() == "254:0 10\n254:0 0\n"
    assert V1Limiter().current(v1) == {"254:0": Limits(write_bps=2097152)}
    assert remove(V1Limiter(), v1) == "removed"
    assert V1Limiter().current(v1) == {}


def test_a_vanished_cgroup_is_an_error_naming_it(tmp_path: Path) -> None:
    with pytest.raises(CgroupError, match="does not exist: the container's cgroup is gone"):
        V2Limiter().write(tmp_path / "gone", "8:0", Limits(read_iops=1))
