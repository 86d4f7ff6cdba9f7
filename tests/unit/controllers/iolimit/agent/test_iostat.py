"""Parsing the counters of cgroup v2 io.stat and cgroup v1 blkio.throttle.*."""

from __future__ import annotations

from pathlib import Path

from controllers.iolimit.agent.iostat import (
    IOCounters,
    parse_io_stat,
    parse_v1_counters,
    read_counters,
)

IO_STAT = """\
254:0 rbytes=1486848 wbytes=4194304 rios=117 wios=16 dbytes=0 dios=0
8:16 rbytes=100 wbytes=200 rios=3 wios=4 dbytes=0 dios=0 cost.usage=5
garbage line
"""
SERVICE_BYTES = """\
254:0 Read 8192
254:0 Write 4194304
254:0 Sync 4202496
254:0 Async 0
254:0 Discard 0
254:0 Total 4202496
Total 4202496
"""
SERVICED = """\
254:0 Read 2
254:0 Write 16
254:0 Total 18
Total 18
"""


def test_v2_sums_devices_and_skips_unknown_keys() -> None:
    assert parse_io_stat(IO_STAT) == IOCounters(
        rios=120, wios=20, rbytes=1486948, wbytes=4194504, devices=("254:0", "8:16")
    )
    assert parse_io_stat("") == IOCounters()


def test_v1_reads_both_files() -> None:
    counters = parse_v1_counters(SERVICE_BYTES, SERVICED)
    assert counters == IOCounters(rios=2, wios=16, rbytes=8192, wbytes=4194304, devices=("254:0",))
    assert counters.as_tuple() == (2, 16, 8192, 4194304)


def test_read_counters_by_version(tmp_path: Path) -> None:
    (tmp_path / "io.stat").write_text(IO_STAT)
    (tmp_path / "blkio.throttle.io_service_bytes").write_text(SERVICE_BYTES)
    (tmp_path / "blkio.throttle.io_serviced").write_text(SERVICED)
    assert read_counters(tmp_path, "v2").wios == 20
    assert read_counters(tmp_path, "v1").wios == 16
