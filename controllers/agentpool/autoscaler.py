"""How many agent pods a pool wants, and which idle ones may go: pure functions of the ledger.

Desired replicas: enough pods for every running, reserved and pending slot, at least
``max(minReplicas, spec.replicas)`` and at most ``maxReplicas``. Pods that are NotReady or
Unknown keep the tasks they hold but take no new ones, so the pods needed for the remaining
work come on top of them: a pool never waits on a sick pod to place pending work.

Scaling up is immediate. Scaling down removes only pods that are Ready, hold no reserved or
running slot, and have been idle (``idleSince``) for the stabilization window; the longest
idle go first, then the highest ordinal. A pod that is starting, NotReady, Unknown, or busy
is never chosen, whatever the counts say.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from controllers.agentpool.ledger import busy_in, parse_time
from controllers.agentpool.pods import ordinal

__all__ = ["ACTIVE", "ScaleDecision", "Scaling", "decide", "desired_replicas"]

Obj = dict[str, Any]

ACTIVE = ("Starting", "Ready", "NotReady", "Unknown")
"""Pod states that count as pool members; Failed, Terminating and Removing pods are leaving."""
_HELD = ("NotReady", "Unknown")


@dataclass(frozen=True, kw_only=True, slots=True)
class Scaling:
    """The scaling fields of an AgentPool spec (with the CRD's defaults)."""

    min_replicas: int = 1
    max_replicas: int = 1
    replicas: int | None = None
    slots_per_agent: int = 3
    stabilization_seconds: int = 300

    @classmethod
    def from_spec(cls, spec: Obj) -> Scaling:
        return cls(
            min_replicas=int(spec.get("minReplicas", 1)),
            max_replicas=int(spec["maxReplicas"]),
            replicas=spec.get("replicas"),
            slots_per_agent=max(1, int(spec.get("slotsPerAgent", 3))),
            stabilization_seconds=int(spec.get("scaleDownStabilizationSeconds", 300)),
        )

    @property
    def floor(self) -> int:
        """The fewest pods: minReplicas, or spec.replicas when larger (kubectl scale)."""
        return max(self.min_replicas, self.replicas or 0)


def desired_replicas(scaling: Scaling, pods: list[Obj], pending: int) -> tuple[int, int]:
    """(desired replicas within maxReplicas, replicas the work wants without the cap)."""
    held = [p for p in pods if p.get("state") in _HELD]
    busy = sum(busy_in(p) for p in pods)
    work = busy + pending - sum(busy_in(p) for p in held)
    per_pod = scaling.slots_per_agent
    wanted = max(scaling.floor, len(held) + (max(0, work) + per_pod - 1) // per_pod)
    return min(wanted, scaling.max_replicas), wanted


@dataclass(frozen=True, slots=True)
class ScaleDecision:
    create: int = 0
    """Pods to add now."""
    remove: tuple[str, ...] = ()
    """Names of idle pods to remove now."""
    next_check: dt.datetime | None = None
    """When an idle pod that is not yet removable will have waited out the window."""


def decide(
    scaling: Scaling, pods: list[Obj], desired: int, now: dt.datetime, pool_name: str
) -> ScaleDecision:
    """What to do to bring the active pods to ``desired``."""
    active = [p for p in pods if p.get("state") in ACTIVE]
    if len(active) < desired:
        return ScaleDecision(create=desired - len(active))
    excess = len(active) - desired
    if excess == 0:
        return ScaleDecision()
    # +1 s: idleSince has whole seconds, rounded down, so this never cuts the window short
    window = dt.timedelta(seconds=scaling.stabilization_seconds + 1)
    idle = [
        (parse_time(p["idleSince"]) + window, p)
        for p in active
        if p.get("state") == "Ready" and not busy_in(p) and p.get("idleSince")
    ]
    eligible = sorted(
        ((at, p) for at, p in idle if at <= now),
        key=lambda item: (item[0], -ordinal(pool_name, item[1]["name"])),
    )
    remove = tuple(p["name"] for _, p in eligible[:excess])
    waiting = [at for at, _ in idle if at > now]
    next_check = min(waiting) if waiting and len(remove) < excess else None
    return ScaleDecision(remove=remove, next_check=next_check)
