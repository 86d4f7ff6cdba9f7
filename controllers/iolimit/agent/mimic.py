"""A directory that mimics a node's cgroup v2 filesystem, for ``kreconcile dev``.

The simulated kubelet runs no process, so nothing creates cgroups. ``CgroupMimic`` stands
in for the container runtime's side of it on one simulated node: it keeps, under the
node's cgroup root, the tree a cgroupfs-driver containerd node would have (``cgroup.controllers``
listing ``io``, then ``kubepods/<qos>/pod<uid>/<id>/`` with ``io.stat`` and ``io.max`` for
each running container), creates a container's directory when it starts, removes it when
the container is replaced or its pod goes.

It can also simulate IO, so a throttle can be seen happening: a pod annotated
``dev.kreconcile.io/io: "readIOPS=200,writeBPS=1048576"`` has every container's ``io.stat``
counters grow at those rates, capped by the limits in its ``io.max`` as the kernel would.
"""

from __future__ import annotations

import logging
import shutil
import threading
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from controllers.iolimit.agent.cgroups import layout_paths
from controllers.iolimit.agent.devices import node_storage_devices
from controllers.iolimit.agent.iostat import parse_io_stat
from controllers.iolimit.agent.limiter import parse_io_max
from controllers.iolimit.rules import Limits
from controllers.iolimit.selection import running_containers
from reconcile.errors import CacheSyncTimeout

__all__ = ["IO_ANNOTATION", "CgroupMimic", "parse_io_rates"]

log = logging.getLogger(__name__)

IO_ANNOTATION = "dev.kreconcile.io/io"
"""Simulated IO rates of a pod's containers: ``readIOPS=..,writeIOPS=..,readBPS=..,writeBPS=..``."""
_CONTROLLERS = "cpuset cpu io memory pids\n"


def parse_io_rates(text: str) -> tuple[float, float, float, float]:
    """``readIOPS=200,writeBPS=1048576`` -> rates in the order of ``rules.METRICS``."""
    keys = {"readIOPS": 0, "writeIOPS": 1, "readBPS": 2, "writeBPS": 3}
    rates = [0.0, 0.0, 0.0, 0.0]
    for item in text.split(","):
        key, _, value = item.strip().partition("=")
        if key in keys:
            try:
                rates[keys[key]] = max(0.0, float(value))
            except ValueError:
                continue
    return (rates[0], rates[1], rates[2], rates[3])


def _default_device() -> str:
    try:
        found = node_storage_devices(Path("/proc/self/mountinfo").read_text())
    except OSError:
        found = []
    return found[0] if found else "8:0"


class CgroupMimic:
    """Keeps one simulated node's mimic cgroup tree in step with its pods (a runnable).

    ``pods``: the node's pods (``kreconcile dev`` passes its agent's node-limited cache).
    """

    def __init__(
        self,
        pods: Callable[[], Sequence[dict[str, Any]]],
        root: Path,
        *,
        interval: float = 1.0,
        device: str | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._pods = pods
        self.root = root
        self._interval = interval
        self.device = device or _default_device()
        self._clock = clock
        self._last = clock()

    def start(self, stop: threading.Event) -> None:
        while not stop.is_set():
            try:
                self.sync()
            except (OSError, CacheSyncTimeout) as error:
                log.warning("cgroup mimic sync failed", extra={"error": str(error)})
            stop.wait(self._interval)

    def sync(self) -> None:
        """Create and remove container directories; advance simulated counters."""
        self.root.mkdir(parents=True, exist_ok=True)
        (self.root / "cgroup.controllers").write_text(_CONTROLLERS)
        now = self._clock()
        elapsed, self._last = now - self._last, now
        wanted: set[Path] = set()
        for pod in self._pods():
            rates = parse_io_rates(
                ((pod.get("metadata") or {}).get("annotations") or {}).get(IO_ANNOTATION, "")
            )
            for ref in running_containers(pod):
                path = layout_paths(self.root, ref.pod_uid, ref.qos, ref.container_id)[0]
                wanted.add(path)
                self._ensure(path)
                if any(rates):
                    self._advance(path, rates, elapsed)
        self._prune(wanted)

    def _ensure(self, path: Path) -> None:
        if path.is_dir():
            return
        path.mkdir(parents=True, exist_ok=True)
        for name in ("io.stat", "io.max"):
            (path / name).touch()

    def _advance(self, path: Path, rates: tuple[float, ...], elapsed: float) -> None:
        limits = parse_io_max((path / "io.max").read_text()).get(self.device, Limits())
        current = parse_io_stat((path / "io.stat").read_text()).as_tuple()
        grown = []
        for index, rate in enumerate(rates):
            cap = limits.values()[index]
            effective = rate if cap is None else min(rate, float(cap))
            grown.append(int(current[index] + effective * elapsed))
        rios, wios, rbytes, wbytes = grown
        (path / "io.stat").write_text(
            f"{self.device} rbytes={rbytes} wbytes={wbytes} rios={rios} wios={wios} "
            "dbytes=0 dios=0\n"
        )

    def _prune(self, wanted: set[Path]) -> None:
        keep = wanted | {p for path in wanted for p in path.parents}
        top = self.root / "kubepods"
        if not top.is_dir():
            return
        for path in sorted(top.rglob("*"), key=lambda p: len(p.parts), reverse=True):
            if path.is_dir() and path not in keep and (path / "io.stat").exists():
                shutil.rmtree(path, ignore_errors=True)
            elif path.is_dir() and path not in keep and not any(path.iterdir()):
                path.rmdir()
