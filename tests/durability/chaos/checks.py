"""The checks, run once everything is quiet: the operators' status against the ground truth.

Sources: what the driver's actors recorded (``workload``), what the schedule did
(``schedule``), the API server's audit log (every write, by whom, when) and the operators'
own status and /metrics. Each check adds to ``Findings``; a finding that is not a count is
a ``problem``, described in words.

When may a restart be missed (counted in ``missed``, without its details)? Only when the
operator could not see the pod between that restart and the next one of the same
container: the Lease holder was down (killed or exited) until another replica took over,
the API server was down, or failing requests (500, 429, held or silent). Each of those
``outages`` counts until ``RECOVERY`` seconds after it ended, the time a new leader needs
to sync and catch up. A dropped watch is no outage: the informer resumes from its last
resourceVersion and misses nothing.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from prometheus_client.parser import text_string_to_metric_families

from controllers.agentpool import ledger
from controllers.iolimit.selection import running_containers
from controllers.restarts.status import classify
from tests.durability.chaos.cluster import Stop
from tests.durability.chaos.schedule import Tally, Window
from tests.durability.chaos.workload import DEVICE, IOTree, Restart, Task, busy_by_pod
from tests.integration.controllers.processes import get

RECOVERY = 3.0
LEASE = "kreconcile-manager"
LIMIT_LINE = f"{DEVICE} rbps=max wbps=max riops=max wiops=50"
"""The io.max line of the chaos policy's limit (writeIOPS 50)."""

Key = tuple[str, str, str]
"""(namespace, pod, container)"""


@dataclass
class Findings:
    restarts: int = 0
    detailed: int = 0
    missed: int = 0
    missed_justified: int = 0
    lost: int = 0
    duplicated: int = 0
    deletes: int = 0
    busy_deletes: int = 0
    throttles: int = 0
    wrong_throttles: int = 0
    leader_writes: int = 0
    foreign_writes: int = 0
    missed_during: Counter[str] = field(default_factory=Counter)
    outage_seconds: float = 0.0
    problems: list[str] = field(default_factory=list)

    def problem(self, text: str) -> None:
        self.problems.append(text)


def seconds(stamp: str) -> float:
    """An audit timestamp (RFC 3339, microseconds) -> seconds since the epoch."""
    return dt.datetime.strptime(stamp, "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=dt.UTC).timestamp()


def _succeeded(event: dict[str, Any]) -> bool:
    return int(event["responseStatus"]["code"]) < 300


def _is_lease(event: dict[str, Any]) -> bool:
    ref = event["objectRef"]
    return bool(ref["resource"] == "leases" and ref.get("name") == LEASE)


# leadership


def lease_writes(
    events: Iterable[dict[str, Any]], replicas: Sequence[str]
) -> list[tuple[float, str]]:
    """(time, replica) of every successful write of the Lease, in order."""
    return [
        (seconds(e["stageTimestamp"]), e["user"]["username"])
        for e in events
        if _is_lease(e) and _succeeded(e) and e["user"]["username"] in replicas
    ]


def check_leaders(
    events: Iterable[dict[str, Any]], replicas: Sequence[str], findings: Findings
) -> None:
    """Every write a replica made came after its own Lease write, and before any other
    replica's: no two leaders wrote in the same moment."""
    holder = ""
    for event in events:
        user = event["user"]["username"]
        if user not in replicas or not _succeeded(event):
            continue
        if _is_lease(event):
            holder = user
            continue
        findings.leader_writes += 1
        if user != holder:
            findings.foreign_writes += 1
            ref = event["objectRef"]
            findings.problem(
                f"{user} wrote {event['verb']} {ref['resource']} {ref.get('namespace', '')}/"
                f"{ref.get('name', '')} at {event['stageTimestamp']} while {holder or 'nobody'} "
                "held the Lease"
            )


@dataclass(frozen=True)
class Outage:
    kind: str
    start: float
    end: float
    """``RECOVERY`` seconds after the cause ended."""


def outages(
    stops: Sequence[Stop],
    windows: Sequence[Window],
    leases: Sequence[tuple[float, str]],
    starts: Mapping[str, Sequence[float]],
) -> list[Outage]:
    """When the leading manager could not see pods: the API server's bad times, and each
    stop of the Lease holder until a replica (another, or it started again) took the Lease
    over. Leader outages come first: a miss inside several outages is put down to it."""
    found = []
    for stop in stops:
        before = [who for at, who in leases if at <= stop.at]
        if not before or before[-1] != stop.name:
            continue  # a standby or an agent: the leader went on
        back = min((at for at in starts.get(stop.name, ()) if at > stop.at), default=stop.at)
        taken = [at for at, who in leases if at > stop.at and (who != stop.name or at > back)]
        end = taken[0] if taken else float("inf")
        found.append(Outage(f"leader {stop.how}", stop.at, end + RECOVERY))
    return found + [
        Outage(w.kind, w.start, w.end + RECOVERY) for w in windows if w.kind != "watch-cut"
    ]


def covered(down: Sequence[Outage], start: float, end: float) -> float:
    """Seconds of [start, end] within at least one outage."""
    total, reach = 0.0, start
    for outage in sorted(down, key=lambda o: o.start):
        lo, hi = max(outage.start, reach), min(outage.end, end)
        if hi > lo:
            total += hi - lo
            reach = hi
    return total


# restarts


def check_restarts(
    truth: Sequence[Restart],
    records: dict[tuple[str, str], dict[str, Any]],
    seen: dict[Key, set[tuple[str, int]]],
    repeated: Sequence[tuple[Key, tuple[str, int]]],
    down: Sequence[Outage],
    findings: Findings,
) -> None:
    """Each restart the kubelet made is in its RestartRecord exactly once: in the history
    with its reason and exit code, or counted as missed during an outage."""
    by_key: dict[Key, list[Restart]] = defaultdict(list)
    for restart in truth:
        by_key[(restart.namespace, restart.pod, restart.container)].append(restart)
    for key, restarts in sorted(by_key.items()):
        restarts.sort(key=lambda r: r.count)
        entry = _container(records.get(key[:2]), key[2])
        counted = int(entry.get("restarts", 0))
        findings.restarts += len(restarts)
        if counted != len(restarts):
            findings.problem(f"{key}: {len(restarts)} restarts made, {counted} recorded")
            findings.duplicated += max(0, counted - len(restarts))
        undetailed = 0
        for index, restart in enumerate(restarts):
            if (restart.uid, restart.count) in seen.get(key, set()):
                findings.detailed += 1
                continue
            undetailed += 1
            findings.missed += 1
            following = restarts[index + 1].at if index + 1 < len(restarts) else None
            why = next(
                (o.kind for o in down if following and o.start < following and restart.at < o.end),
                None,
            )
            if why is not None:
                findings.missed_justified += 1
                findings.missed_during[why] += 1
            else:
                findings.lost += 1
                findings.problem(f"{key}: restart {restart.count} at {restart.at:.1f} not recorded")
        if entry and int(entry.get("missed", 0)) != undetailed:
            findings.problem(f"{key}: missed={entry.get('missed')}, history lacks {undetailed}")
        if entry and sum(entry.get("reasons", {}).values()) != counted:
            findings.problem(f"{key}: reasons {entry.get('reasons')} do not add up to {counted}")
        _check_details(key, entry, {r.count: r for r in restarts}, findings)
    findings.duplicated += len(repeated)
    for key, history_entry in repeated:
        findings.problem(f"{key}: history entry {history_entry} appears twice")


def _container(record: dict[str, Any] | None, name: str) -> dict[str, Any]:
    containers = ((record or {}).get("status") or {}).get("containers") or []
    return next((c for c in containers if c["name"] == name), {})


def _check_details(
    key: Key, entry: dict[str, Any], made: dict[int, Restart], findings: Findings
) -> None:
    for history in entry.get("history") or []:
        restart = made.get(history["restartCount"])
        if restart is None:
            continue
        if (history.get("reason"), history.get("exitCode")) != (
            classify(restart.reason),
            restart.exit_code,
        ):
            findings.problem(f"{key}: restart {restart.count} recorded as {history}")


# throttles


def check_throttles(
    pods: Sequence[dict[str, Any]],
    policy: dict[str, Any],
    io: IOTree,
    hot: set[str],
    findings: Findings,
) -> None:
    """Each running container of a hot pod carries its throttle (status naming its current
    container, io.max holding the limit written once); a cold pod has neither; no cgroup
    ever had its limit written twice."""
    throttles = {
        (t["namespace"], t["pod"], t["container"]): t
        for t in (policy.get("status") or {}).get("throttles") or []
    }
    for pod in pods:
        if not running_containers(pod):
            findings.problem(f"pod {pod['metadata']['name']} runs no container")
        for ref in running_containers(pod):
            key = (ref.namespace, ref.pod, ref.container)
            findings.throttles += 1
            cgroup = io.cgroup(pod, ref.container)
            path = cgroup / "io.max" if cgroup is not None else None
            lines = path.read_text().splitlines() if path is not None and path.exists() else None
            throttle = throttles.get(key)
            if ref.pod in hot:
                right = throttle is not None and throttle.get("containerID") == ref.container_id
                right = right and lines == [LIMIT_LINE]
            else:
                right = throttle is None and lines == []
            if not right:
                findings.wrong_throttles += 1
                findings.problem(f"{key}: throttle {throttle}, io.max {lines}")
    for path, written in sorted(io.io_max.items()):
        if written.count(LIMIT_LINE) > 1:  # lifting it from a replaced container is fine
            findings.wrong_throttles += 1
            findings.problem(f"{path.name}: limit written {written.count(LIMIT_LINE)} times")


# slots


def check_deletes(
    events: Iterable[dict[str, Any]], namespace: str, tasks: Sequence[Task], findings: Findings
) -> None:
    """No pod was deleted while one of the driver's tasks held a slot on it."""
    held = busy_by_pod(tasks)
    for event in events:
        ref = event["objectRef"]
        if not (
            event["verb"] == "delete"
            and ref["resource"] == "pods"
            and ref.get("namespace") == namespace
            and _succeeded(event)
        ):
            continue
        findings.deletes += 1
        at = seconds(event["stageTimestamp"])
        if any(start <= at <= end for start, end in held.get(ref["name"], [])):
            findings.busy_deletes += 1
            findings.problem(
                f"pod {ref['name']} deleted at {event['stageTimestamp']} holding a task"
            )


def check_ledger(pool: dict[str, Any], tasks: Sequence[Task], findings: Findings) -> None:
    """Every task still held is where the driver left it."""
    status = pool.get("status") or {}
    for task in tasks:
        if task.released is not None:
            continue
        where = ledger.find(status, task.name)
        if task.pod is None:
            if not isinstance(where, ledger.Pending | ledger.SlotRef):
                findings.problem(f"claim {task.name} lost from the ledger")
        elif not isinstance(where, ledger.SlotRef) or (where.pod, where.state) != (
            task.pod,
            task.state,
        ):
            findings.problem(f"task {task.name} held {task.pod} ({task.state}), ledger: {where}")


# metrics


def scrape(address: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    status, body = get(address, "/metrics")
    if status != 200:
        return {}
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(body)
        for sample in family.samples
    }


Samples = dict[tuple[str, tuple[tuple[str, str], ...]], float]


def _family(samples: Samples, name: str, **match: str) -> dict[tuple[tuple[str, str], ...], float]:
    return {
        labels: value
        for (sample, labels), value in samples.items()
        if sample == name and all(dict(labels).get(k) == v for k, v in match.items())
    }


def restart_series(records: Iterable[dict[str, Any]]) -> dict[tuple[tuple[str, str], ...], float]:
    """What pod_monitor_container_restart_total must show for ``records``."""
    series = {}
    for record in records:
        meta = record["metadata"]
        for container in (record.get("status") or {}).get("containers") or []:
            for reason, count in (container.get("reasons") or {}).items():
                labels = {"namespace": meta["namespace"], "pod": meta["name"],
                          "container": container["name"], "reason": reason}  # fmt: skip
                series[tuple(sorted(labels.items()))] = float(count)
    return series


def throttle_series(policies: Iterable[dict[str, Any]]) -> dict[tuple[tuple[str, str], ...], float]:
    series = {}
    for policy in policies:
        for throttle in (policy.get("status") or {}).get("throttles") or []:
            labels = {"namespace": throttle["namespace"], "pod": throttle["pod"],
                      "container": throttle["container"], "policy": policy["metadata"]["name"]}  # fmt: skip
            series[tuple(sorted(labels.items()))] = 1.0
    return series


def slot_series(pool: dict[str, Any]) -> dict[tuple[tuple[str, str], ...], float]:
    meta, status = pool["metadata"], pool.get("status") or {}
    counts = Counter(
        slot.get("state", "Idle")
        for entry in status.get("pods") or []
        for slot in entry.get("slots") or []
    )
    return {
        tuple(
            sorted({"namespace": meta["namespace"], "pool": meta["name"], "state": s}.items())
        ): float(counts[s])
        for s in ("Idle", "Reserved", "Running")
    }


def _diff(found: dict[Any, float], wanted: dict[Any, float]) -> str:
    extra = {k: v for k, v in found.items() if wanted.get(k) != v}
    missing = {k: v for k, v in wanted.items() if found.get(k) != v}
    return f"exported {extra} where the status says {missing}"


def metric_mismatches(
    addresses: dict[str, str],
    records: Sequence[dict[str, Any]],
    policies: Sequence[dict[str, Any]],
    pool: dict[str, Any],
    namespaces: Sequence[str],
) -> list[str]:
    """Where a replica's /metrics differs from the status it is computed from. Every
    replica exports the restart series (read from the records it caches); the throttles and
    the pool's slots are exported by the leading replica, whose controllers run, so a
    standby exporting none of them is no mismatch, but one replica must export them."""
    wanted = {
        "kreconcile_io_throttle_active": throttle_series(policies),
        "kreconcile_agentpool_slots": slot_series(pool),
    }
    found: list[str] = []
    exported = dict.fromkeys(wanted, False)
    for name, address in addresses.items():
        samples = scrape(address)
        restarts = {
            labels: value
            for labels, value in _family(samples, "pod_monitor_container_restart_total").items()
            if dict(labels)["namespace"] in namespaces and value
        }
        if restarts != restart_series(records):
            found.append(f"{name}: restart_total {_diff(restarts, restart_series(records))}")
        for family, series in wanted.items():
            got = _family(samples, family)
            if got:
                exported[family] = True
            if got and got != series:
                found.append(f"{name}: {family} {_diff(got, series)}")
    found.extend(f"no replica exports {family}" for family, seen in exported.items() if not seen)
    return found


# the table


def summary(tally: Tally, findings: Findings, kills: int, seconds: float) -> str:
    faults = ", ".join(f"{k} {v}" for k, v in sorted(tally.faults.items()))
    during = ", ".join(f"{k} {v}" for k, v in sorted(findings.missed_during.items()))
    rows = [
        ("kills", f"{tally.kills} ({tally.kills - tally.sigterms} SIGKILL, "
                  f"{tally.sigterms} SIGTERM); exits on their own: {tally.exits}"),
        ("faults", faults),
        ("chaos", f"{seconds:.0f} s, of which the leader could not see pods "
                  f"{findings.outage_seconds:.0f} s"),
        ("restarts checked", f"{findings.restarts} (in history {findings.detailed}, missed "
                             f"{findings.missed}: during an outage {findings.missed_justified}"
                             f"{' - ' + during if during else ''})"),
        ("lost", str(findings.lost)),
        ("duplicated", str(findings.duplicated)),
        ("pod deletions", f"{findings.deletes} (of pods holding a slot: {findings.busy_deletes})"),
        ("throttles checked", f"{findings.throttles} (wrong or applied twice: "
                              f"{findings.wrong_throttles})"),
        ("replica writes", f"{findings.leader_writes} (not holding the Lease: "
                           f"{findings.foreign_writes})"),
        ("problems", str(len(findings.problems))),
    ]  # fmt: skip
    width = max(len(k) for k, _ in rows)
    lines = [f"chaos run: {kills} kills planned"] + [f"  {k:<{width}}  {v}" for k, v in rows]
    return "\n".join(lines + [f"  - {p}" for p in findings.problems[:40]])
