"""Real cgroup v1 blkio throttling, applied by the node agent from a throttle in status.

A child cgroup of the machine's blkio hierarchy stands in for the node's: the agent's
``--cgroup-root`` holds a ``blkio`` link to it, and the container's cgroup is created where
a cgroupfs-driver containerd would create it. A process in that cgroup writes with
``dd oflag=direct`` (so the writes reach the disk inside the cgroup) before, while and after
the agent enforces a 2 MiB/s write limit. Needs root, a writable blkio hierarchy and a
directory on a block device that takes O_DIRECT; skipped, saying which is missing, otherwise.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from controllers.iolimit.agent.devices import device_of_path
from controllers.iolimit.agent.limiter import V1Limiter
from controllers.iolimit.rules import Limits
from reconcile.client import Client
from tests.integration.controllers.iolimit.harness import (
    apply_status,
    container_dir,
    container_id,
    create_namespace,
    create_policy,
    install,
    node_report,
    running_pod,
    start_agent,
    write_config,
)
from tests.waiting import wait_for

BLKIO = Path("/sys/fs/cgroup/blkio")
LIMIT = 2 * 1024 * 1024
"""The write limit: 2 MiB/s."""
BLOCK = 256 * 1024
REPO = Path(__file__).resolve().parents[4]


def _missing() -> str | None:
    if os.geteuid() != 0:
        return "not root: cgroup files are writable by root only"
    if not (BLKIO / "blkio.throttle.write_bps_device").exists():
        return f"no cgroup v1 blkio hierarchy at {BLKIO}"
    if not os.access(BLKIO, os.W_OK):
        return f"{BLKIO} is not writable"
    if shutil.which("dd") is None:
        return "no dd on PATH"
    return None


def _direct_io_dir() -> tuple[Path, str] | None:
    """A directory on a block device where O_DIRECT writes work, and its disk."""
    for base in (REPO, Path("/var/tmp"), Path.home()):
        try:
            device = device_of_path(base)
            probe = base / f".kreconcile-odirect-{uuid.uuid4().hex[:8]}"
            fd = os.open(probe, os.O_CREAT | os.O_WRONLY | os.O_DIRECT, 0o600)
        except OSError:
            continue
        os.close(fd)
        probe.unlink()
        if device is not None:
            return base, device
    return None


@pytest.fixture
def blkio_root(tmp_path: Path) -> Iterator[Path]:
    """An agent cgroup root whose blkio hierarchy is a fresh child cgroup; removed after."""
    missing = _missing()
    if missing:
        pytest.skip(missing)
    child = BLKIO / f"kreconcile-test-{uuid.uuid4().hex[:8]}"
    child.mkdir()
    root = tmp_path / "cgroup"
    root.mkdir()
    (root / "blkio").symlink_to(child)
    try:
        yield root
    finally:
        for path in sorted(
            (p for p in child.rglob("*") if p.is_dir()), key=lambda p: -len(p.parts)
        ):
            path.rmdir()
        child.rmdir()


@pytest.fixture
def data_dir() -> Iterator[tuple[Path, str]]:
    found = _direct_io_dir()
    if found is None:
        pytest.skip("no directory on a block device that accepts O_DIRECT writes")
    base, device = found
    directory = base / f".kreconcile-io-{uuid.uuid4().hex[:8]}"
    directory.mkdir()
    try:
        yield directory, device
    finally:
        shutil.rmtree(directory, ignore_errors=True)


def _write_rate(cgroup: Path, target: Path, mib: int) -> float:
    """Bytes per second of ``dd oflag=direct`` writing ``mib`` MiB from inside ``cgroup``."""
    script = (
        f'echo $$ > "{cgroup}/cgroup.procs" && exec dd if=/dev/zero of="{target}" '
        f"bs={BLOCK} count={mib * 4} oflag=direct"
    )
    result = subprocess.run(
        ["sh", "-c", script], capture_output=True, text=True, timeout=60, check=True
    )
    match = re.search(r"(\d+) bytes .* copied, ([\d.e-]+) s", result.stderr)
    assert match, result.stderr
    return int(match.group(1)) / float(match.group(2))


def test_agent_throttles_a_real_cgroup_and_lifts_it(
    client: Client, kubeconfig: Path, blkio_root: Path, data_dir: tuple[Path, str], tmp_path: Path
) -> None:
    directory, device = data_dir
    install(client)
    create_namespace(client, "batch")
    create_policy(client, "writers", "batch", {"writeBPS": LIMIT}, metric="WriteBPS", above=1)
    cid = container_id("d")
    pod = running_pod(client, "writer", namespace="batch", node="node-1", containers={"app": cid})
    cgroup = container_dir(blkio_root / "blkio", pod, cid)
    cgroup.mkdir(parents=True)
    target = directory / "data"
    config = write_config(
        tmp_path / "operators.yaml",
        samplingInterval=0.2,
        reportInterval=5,
        staleAfter=10,
        devices=[device],
    )
    agent = start_agent(kubeconfig, "node-1", blkio_root, config)
    try:
        before = _write_rate(cgroup, target, 8)
        if before < 3 * LIMIT:
            pytest.skip(
                f"the disk writes only {before / 2**20:.1f} MiB/s: too slow to show a 2 MiB/s limit"
            )
        apply_status(
            client,
            "writers",
            {
                "throttles": [
                    {
                        "namespace": "batch",
                        "pod": "writer",
                        "container": "app",
                        "containerID": cid,
                        "podUID": pod["metadata"]["uid"],
                        "node": "node-1",
                        "rule": "heavy",
                        "window": "15m",
                        "limits": {"writeBPS": LIMIT},
                        "reason": "test",
                    }
                ]
            },
            "kreconcile-iolimit",
        )
        wait_for(
            lambda: V1Limiter().current(cgroup) == {device: Limits(write_bps=LIMIT)},
            timeout=20,
            what="the agent to write the limit",
        )
        assert (cgroup / "blkio.throttle.write_bps_device").read_text() == f"{device} {LIMIT}\n"
        throttled = _write_rate(cgroup, target, 4)
        wait_for(
            lambda: node_report(client, "writers", "node-1").get("applied"),
            timeout=20,
            what="the node report to list the throttle",
        )
        apply_status(client, "writers", {"throttles": []}, "kreconcile-iolimit")
        wait_for(lambda: V1Limiter().current(cgroup) == {}, timeout=20, what="the limit lifted")
        after = _write_rate(cgroup, target, 8)
        written = int(
            next(
                line.split()[2]
                for line in (cgroup / "blkio.throttle.io_service_bytes").read_text().splitlines()
                if line.startswith(f"{device} Write")
            )
        )
    finally:
        agent.shutdown()
    print(
        f"direct writes on {device}: {before / 2**20:.1f} MiB/s free, "
        f"{throttled / 2**20:.2f} MiB/s limited to 2 MiB/s, {after / 2**20:.1f} MiB/s lifted"
    )
    assert abs(throttled - LIMIT) <= 0.25 * LIMIT, f"{throttled / 2**20:.2f} MiB/s"
    assert after > 3 * LIMIT
    assert written >= 20 * 2**20, "the cgroup counted the writes of its process"
