"""The node agent of IOLimitPolicy: enforce the throttles of its node, sample, report.

One reconciler per agent, keyed by the node: every event on a pod of the node or on a
policy, and every sample, reconciles the node as a whole.

A pass (``reconcile``):

1. build the plan from the cache (``plan.build_plan``): the containers to watch and the
   limits each must carry;
2. enforce: write the limits into each throttled container's cgroup on the devices backing
   its storage (only what differs from what the cgroup holds, so a restart re-verifies and
   writes nothing); lift limits this agent applied (per memory, or per its reports in
   status after a restart) that are no longer wanted;
3. report: this node's entry in each policy's status, by server-side apply under a field
   manager of its own (``iolimit-agent-<node>``), which never touches the controller's
   decisions nor other nodes' entries; written when it changes, else every
   ``reportInterval`` as a heartbeat.

The first pass runs once the caches have synced, before any sample: every active throttle
of the node is re-applied (or verified) from status before anything else happens. The
``Sampler`` starts only after it, reads every watched container's counters each
``samplingInterval``, updates their windows, evaluates the rules and triggers a pass.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from controllers.iolimit.agent import cgroups, devices, limiter
from controllers.iolimit.agent.iostat import IOCounters, read_counters
from controllers.iolimit.agent.plan import Plan, build_plan
from controllers.iolimit.agent.report import Evaluator, build_report, content_of
from controllers.iolimit.agent.windows import WindowSeries
from controllers.iolimit.compiler import PolicyCompiler
from controllers.iolimit.metrics import AgentMetrics
from controllers.iolimit.options import IOLimitConfig
from controllers.iolimit.rules import Limits
from controllers.iolimit.selection import ContainerRef
from crds import IOLimitPolicy
from reconcile.cache import InformerCache
from reconcile.client.interfaces import StatusWriterLike
from reconcile.client.patch import APPLY_PATCH
from reconcile.errors import ApiError, NotFound
from reconcile.gvk import GroupVersionKind
from reconcile.reconciler import Request, Result

__all__ = ["POD", "NodeAgent", "Sampler", "field_manager"]

log = logging.getLogger(__name__)

POD = GroupVersionKind("", "v1", "Pod")
_SEARCH_EVERY = 30.0
"""Seconds between searches of the cgroup tree for a container not at a known path."""
_RETRY_AFTER = 5.0
"""Seconds until a pass that failed somewhere (a cgroup write, a report) runs again."""


def field_manager(node: str) -> str:
    """The agent's server-side apply manager: one per node, so entries stay separate."""
    return f"iolimit-agent-{node}"[:128]


@dataclass
class _Applied:
    cgroup: Path
    devices: list[str]
    limits: Limits


class NodeAgent:
    """Reconciles one node: ``reconcile`` enforces and reports, ``sample`` measures."""

    def __init__(
        self,
        *,
        reader: InformerCache,
        status_writer: Callable[[], StatusWriterLike],
        node: str,
        cgroup_root: Path,
        config: Callable[[], IOLimitConfig],
        metrics: AgentMetrics,
        watch_namespaces: tuple[str, ...] = (),
        now: Callable[[], float] = time.time,
        mountinfo: Callable[[], str] | None = None,
        sys_block: Path = devices.SYS_BLOCK,
    ) -> None:
        """``now``: wall-clock seconds (windows and reports); tests pass a fake."""
        self._reader = reader
        self._status_writer = status_writer
        self.node = node
        self.cgroup_root = cgroup_root
        self._config = config
        self.metrics = metrics
        self._now = now
        self._mountinfo = mountinfo or (lambda: Path("/proc/self/mountinfo").read_text())
        self._sys_block = sys_block
        self._compiler = PolicyCompiler(watch_namespaces)
        self._lock = threading.Lock()
        self._plan = Plan()
        self._series: dict[str, WindowSeries] = {}
        self._counters: dict[str, IOCounters] = {}
        self._evaluator = Evaluator()
        self._applied: dict[str, _Applied] = {}
        self._cgroups: dict[str, Path] = {}
        self._searched: dict[str, float] = {}
        self._written: dict[str, tuple[dict[str, Any] | None, float]] = {}
        self._node_devices: list[str] | None = None
        self._version: cgroups.CgroupVersion | None = None
        self.first_pass = threading.Event()
        """Set after the first pass: every throttle of the node re-applied or verified."""

    # the pass

    def reconcile(self, request: Request) -> Result:
        policies = self._reader.list(IOLimitPolicy, copy=False)["items"]
        pods = self._reader.list(POD, copy=False)["items"]
        plan = build_plan(self.node, policies, pods, self._compiler)
        with self._lock:
            self._plan = plan
            if not self.first_pass.is_set():
                self._evaluator.carry_over(plan)
            errors = self._enforce(plan)
            reports = self._reports(plan, "; ".join(errors))
        failed = self._write_reports(reports)
        self.first_pass.set()
        return Result(requeue_after=_RETRY_AFTER) if errors or failed else Result()

    def _detect(self) -> cgroups.CgroupVersion:
        if self._version is None:
            self._version = cgroups.detect_version(self.cgroup_root)
        return self._version

    def _cgroup(self, ref: ContainerRef) -> Path | None:
        found = self._cgroups.get(ref.container_id)
        if found is not None:
            return found
        base = cgroups.hierarchy(self.cgroup_root, self._detect())
        now = time.monotonic()
        search = now - self._searched.get(ref.container_id, -_SEARCH_EVERY) >= _SEARCH_EVERY
        if search:
            self._searched[ref.container_id] = now
        found = cgroups.find_container_cgroup(
            base, ref.pod_uid, ref.qos, ref.container_id, search=search
        )
        if found is not None:
            self._cgroups[ref.container_id] = found
        return found

    def _devices(self, cid: str) -> list[str]:
        configured = self._config().devices
        if configured:
            return list(configured)
        if self._node_devices is None:
            try:
                self._node_devices = devices.node_storage_devices(
                    self._mountinfo(), self._sys_block
                )
            except OSError:
                self._node_devices = []
        seen = self._counters.get(cid)
        own = [devices.whole_disk(d, self._sys_block) for d in (seen.devices if seen else ())]
        return list(dict.fromkeys([*self._node_devices, *own]))[: devices.MAX_DEVICES]

    def _enforce(self, plan: Plan) -> list[str]:
        try:
            version = self._detect()
        except cgroups.CgroupError as error:
            return [str(error)]
        write = limiter.limiter_for(version)
        errors = []
        for cid, limits in plan.desired.items():
            ref = plan.refs[cid]
            try:
                self._apply_one(write, ref, limits)
            except OSError as error:
                self._cgroups.pop(cid, None)  # found again next pass, if it still exists
                self.metrics.apply_total.labels(result="failed").inc()
                log.warning("cgroup write failed", extra={"container": cid, "error": str(error)})
                errors.append(f"{ref.namespace}/{ref.pod}/{ref.container}: {error}")
        self._lift_unwanted(write, plan)
        self._forget(plan)
        return errors

    def _apply_one(self, write: limiter.Limiter, ref: ContainerRef, limits: Limits) -> None:
        cgroup = self._cgroup(ref)
        if cgroup is None:
            raise cgroups.CgroupError(f"no cgroup found for container {ref.container_id}")
        targets = self._devices(ref.container_id)
        if not targets:
            raise cgroups.CgroupError(
                "no block device found to limit: set devices in the iolimit config"
            )
        outcome = limiter.apply(write, cgroup, targets, limits)
        self.metrics.apply_total.labels(result=outcome).inc()
        if outcome == "applied":
            log.info(
                "limits written",
                extra={
                    "container": ref.container_id,
                    "pod": f"{ref.namespace}/{ref.pod}",
                    "limits": limits.describe(),
                    "devices": ",".join(targets),
                },
            )
        self._applied[ref.container_id] = _Applied(cgroup, targets, limits)

    def _lift_unwanted(self, write: limiter.Limiter, plan: Plan) -> None:
        lift = {cid for cid in self._applied if cid not in plan.desired}
        lift |= {cid for cid in plan.reported_applied if cid in plan.refs} - set(plan.desired)
        for cid in lift:
            known = self._applied.pop(cid, None)
            ref = plan.refs.get(cid)
            cgroup = known.cgroup if known else (self._cgroup(ref) if ref else None)
            if cgroup is None:
                continue
            try:
                outcome = limiter.remove(write, cgroup, known.devices if known else None)
            except OSError:
                continue  # the container's cgroup is gone, and its limits with it
            if outcome == "removed":
                self.metrics.apply_total.labels(result="removed").inc()
                log.info("limits lifted", extra={"container": cid})

    def _forget(self, plan: Plan) -> None:
        """Drop what belongs to containers no longer on the node (bounded memory)."""
        for table in (self._cgroups, self._searched, self._series, self._counters):
            for cid in [c for c in table if c not in plan.refs]:
                del table[cid]

    # reports

    def _reports(self, plan: Plan, error: str) -> dict[str, dict[str, Any] | None]:
        now = self._now()
        heartbeat = self._config().report_interval
        applied = {cid: a.devices for cid, a in self._applied.items() if cid in plan.desired}
        wanted: dict[str, dict[str, Any] | None] = {}
        for name, view in plan.views.items():
            entry = build_report(
                node=self.node,
                view=view,
                plan=plan,
                applied=applied,
                candidates=self._evaluator.candidates,
                version=self._version,
                error=error,
                now=now,
            )
            last, written_at = self._written.get(name, (content_of(view.report), 0.0))
            if view.report is None and entry is None:
                continue
            if content_of(entry) == last and (entry is None or now - written_at < heartbeat):
                continue
            wanted[name] = entry
        for name in [n for n in self._written if n not in plan.views]:
            del self._written[name]
        return wanted

    def _write_reports(self, reports: dict[str, dict[str, Any] | None]) -> bool:
        failed = False
        for name, entry in reports.items():
            body = {
                "apiVersion": IOLimitPolicy.GVK.api_version,
                "kind": IOLimitPolicy.GVK.kind,
                "metadata": {"name": name},
                "status": {"nodes": [entry]} if entry is not None else {},
            }
            try:
                self._status_writer().patch(
                    body,
                    body,
                    patch_type=APPLY_PATCH,
                    field_manager=field_manager(self.node),
                    force=True,
                )
            except NotFound:
                continue
            except ApiError as error:
                failed = True
                log.warning("node report not written", extra={"policy": name, "error": str(error)})
                continue
            with self._lock:
                self._written[name] = (content_of(entry), self._now())
        return failed

    # sampling

    def sample(self) -> None:
        """Read every watched container's counters, extend its windows, evaluate the rules."""
        with self._lock:
            plan = self._plan
            try:
                version = self._detect()
            except cgroups.CgroupError:
                return
            now = self._now()
            for cid, ref in plan.refs.items():
                if not plan.selecting.get(cid):
                    continue
                cgroup = self._cgroup(ref)
                if cgroup is None:
                    continue
                try:
                    counters = read_counters(cgroup, version)
                except OSError:
                    self._cgroups.pop(cid, None)
                    continue
                self._counters[cid] = counters
                series = self._series.get(cid)
                if series is None:
                    series = self._series[cid] = WindowSeries(started_at=ref.started_at)
                series.add(now, counters.as_tuple())
            before = self._evaluator.candidates
            self._evaluator.evaluate(plan, self._series)
            self._log_new(before)

    def _log_new(self, before: dict[tuple[str, str], Any]) -> None:
        for (policy, cid), candidate in self._evaluator.candidates.items():
            if before.get((policy, cid)) == candidate:
                continue
            log.info(
                "threshold crossed" if candidate.action == "Throttle" else "recovery due",
                extra={
                    "policy": policy,
                    "container": cid,
                    "rule": candidate.rule,
                    "reason": candidate.reason,
                    "observed_at": f"{candidate.observed_at:.3f}",
                },
            )

    def counters(self) -> list[tuple[ContainerRef, IOCounters]]:
        """Latest counters of the containers of selected pods (for metrics)."""
        with self._lock:
            plan = self._plan
            return [
                (plan.refs[cid], c)
                for cid, c in self._counters.items()
                if cid in plan.refs and plan.selecting.get(cid)
            ]


class Sampler:
    """Runs ``NodeAgent.sample`` every ``samplingInterval`` after the first pass, and
    triggers a pass after each sample (a manager runnable, on every replica)."""

    def __init__(
        self, agent: NodeAgent, trigger: Callable[[], None], interval: Callable[[], float]
    ) -> None:
        self._agent = agent
        self._trigger = trigger
        self._interval = interval

    def need_leader_election(self) -> bool:
        return False

    def start(self, stop: threading.Event) -> None:
        while not self._agent.first_pass.wait(0.1):
            if stop.is_set():
                return
        while not stop.is_set():
            started = time.monotonic()
            try:
                self._agent.sample()
            except Exception:
                log.exception("sampling failed")
            self._trigger()
            stop.wait(max(0.0, self._interval() - (time.monotonic() - started)))
