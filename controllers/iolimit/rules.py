"""Policy semantics: window averages against thresholds, the most severe rule, recovery.

Pure functions over a policy's spec, compiled once per generation (``compile_policy``), so
the node agent (which evaluates every sample) and the controller (which checks what the
agents propose) apply the same rules.

- A threshold is crossed when the window's average of its metric is *above* its level: an
  absolute rate (``above``), or ``fractionOfCapacity`` x the declared device capacity.
- A rule triggers when any of its thresholds is crossed; its reason names every crossed
  threshold with the measured value, as the replaced service wrote it:
  ``15m window [ReadIOPS:0.65,WriteIOPS:0.58]`` (a fraction of capacity for fraction
  thresholds, the rate itself for absolute ones).
- Severity orders the rules of a policy: the higher ``priority`` wins; on a tie the rule
  with the lower limits, compared field by field in the order readIOPS, writeIOPS, readBPS,
  writeBPS (an unset limit is unlimited); then the rule name. The most severe triggered
  rule is the one applied, and a throttle is replaced only by a more severe rule.
- Recovery is hysteresis: a throttle may be lifted once every threshold of its rule has
  stayed below ``recovery.belowRatio`` x its level for ``recovery.delaySeconds``; the
  timing is kept by the caller, ``below_recovery`` answers for one sample.

Several policies can select one pod. Each decides on its own (its status lists its own
throttle, with its own rule and reason) and the node agent writes, per limit, the lowest
value among the throttles in force: the most restrictive policy wins field by field
(``Limits.strictest``).
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

__all__ = [
    "METRICS",
    "WINDOWS",
    "Averages",
    "CompiledPolicy",
    "CompiledRule",
    "CompiledThreshold",
    "Limits",
    "Trigger",
    "compile_policy",
    "format_rate",
]

WINDOWS: dict[str, float] = {"15m": 900.0, "30m": 1800.0, "60m": 3600.0}
"""Window name -> its length in seconds."""
METRICS: tuple[str, ...] = ("ReadIOPS", "WriteIOPS", "ReadBPS", "WriteBPS")
"""The measured rates, in the order of every 4-tuple of rates or counters here."""
_LIMIT_KEYS: tuple[str, ...] = ("readIOPS", "writeIOPS", "readBPS", "writeBPS")

Averages = Mapping[str, tuple[float, float, float, float]]
"""Window name -> average (ReadIOPS, WriteIOPS, ReadBPS, WriteBPS) over it; a window whose
average is not known (not enough history) is absent."""


@dataclass(frozen=True, slots=True)
class Limits:
    """Read/write IOPS and bytes-per-second limits; None is unlimited."""

    read_iops: int | None = None
    write_iops: int | None = None
    read_bps: int | None = None
    write_bps: int | None = None

    @classmethod
    def from_raw(cls, raw: Mapping[str, Any] | None) -> Limits:
        raw = raw or {}
        values = [raw.get(key) for key in _LIMIT_KEYS]
        return cls(*(int(v) if v is not None else None for v in values))

    def to_raw(self) -> dict[str, int]:
        return {k: v for k, v in zip(_LIMIT_KEYS, self.values(), strict=True) if v is not None}

    def values(self) -> tuple[int | None, int | None, int | None, int | None]:
        return (self.read_iops, self.write_iops, self.read_bps, self.write_bps)

    def is_empty(self) -> bool:
        return all(v is None for v in self.values())

    def severity_key(self) -> tuple[float, ...]:
        """Lower sorts first: lower limits are more severe."""
        return tuple(math.inf if v is None else float(v) for v in self.values())

    @classmethod
    def strictest(cls, limits: Iterable[Limits]) -> Limits:
        """Per field, the lowest limit set by any of ``limits``."""
        merged: list[int | None] = [None, None, None, None]
        for item in limits:
            for index, value in enumerate(item.values()):
                if value is not None and (merged[index] is None or value < merged[index]):  # type: ignore[operator]
                    merged[index] = value
        return cls(*merged)

    def describe(self) -> str:
        """``readIOPS=4000,writeBPS=20971520``."""
        return ",".join(f"{k}={v}" for k, v in self.to_raw().items()) or "none"


def format_rate(value: float) -> str:
    """A rate as reasons show it: integers from 10 up, two decimals below."""
    return str(round(value)) if value >= 10 else f"{value:.2f}"


@dataclass(frozen=True, slots=True)
class CompiledThreshold:
    """One threshold with its level resolved to a rate."""

    metric: str
    index: int
    """Position of ``metric`` in ``METRICS``."""
    level: float
    """The rate above which the threshold is crossed."""
    capacity: float | None = None
    """Set for fractionOfCapacity thresholds: reasons show the average over it."""

    def crossed(self, rates: tuple[float, float, float, float]) -> bool:
        return rates[self.index] > self.level

    def below(self, rates: tuple[float, float, float, float], ratio: float) -> bool:
        return rates[self.index] < ratio * self.level

    def describe(self, rates: tuple[float, float, float, float]) -> str:
        value = rates[self.index]
        if self.capacity:
            return f"{self.metric}:{value / self.capacity:.2f}"
        return f"{self.metric}:{format_rate(value)}"


@dataclass(frozen=True, slots=True)
class CompiledRule:
    name: str
    window: str
    thresholds: tuple[CompiledThreshold, ...]
    limits: Limits
    priority: int = 0

    def severity_key(self) -> tuple[Any, ...]:
        """Lower sorts first: the most severe rule has the smallest key."""
        return (-self.priority, self.limits.severity_key(), self.name)

    def more_severe_than(self, other: CompiledRule) -> bool:
        return self.severity_key() < other.severity_key()

    def reason(self, rates: tuple[float, float, float, float]) -> str | None:
        """The reason the rule triggers on these window rates, or None if it does not."""
        crossed = [t.describe(rates) for t in self.thresholds if t.crossed(rates)]
        if not crossed:
            return None
        return f"{self.window} window [{','.join(crossed)}]"


@dataclass(frozen=True, slots=True)
class Trigger:
    """A rule that triggers, and why."""

    rule: CompiledRule
    reason: str


@dataclass(frozen=True, slots=True)
class CompiledPolicy:
    """A policy's rules, most severe first, with its recovery and dry-run settings."""

    rules: tuple[CompiledRule, ...]
    below_ratio: float = 0.8
    delay_seconds: float = 600.0
    dry_run: bool = False
    errors: tuple[str, ...] = field(default=())
    """Rules that cannot be evaluated (a fraction threshold without that capacity)."""

    def rule(self, name: str) -> CompiledRule | None:
        return next((r for r in self.rules if r.name == name), None)

    def most_severe_trigger(self, averages: Averages) -> Trigger | None:
        """The most severe rule that triggers on ``averages`` (windows absent: not judged)."""
        for rule in self.rules:
            rates = averages.get(rule.window)
            if rates is None:
                continue
            reason = rule.reason(rates)
            if reason is not None:
                return Trigger(rule, reason)
        return None

    def below_recovery(self, rule: CompiledRule, averages: Averages) -> str | None:
        """The recovery reason if every threshold of ``rule`` is below the recovery ratio
        of its level over the rule's window, else None (also when the window is unknown)."""
        rates = averages.get(rule.window)
        if rates is None or not all(t.below(rates, self.below_ratio) for t in rule.thresholds):
            return None
        measured = ",".join(t.describe(rates) for t in rule.thresholds)
        return (
            f"recovered: {rule.window} window below {self.below_ratio:.0%} of the threshold "
            f"for {self.delay_seconds:.0f}s [{measured}]"
        )


def _threshold(
    raw: Mapping[str, Any], capacity: Mapping[str, Any], where: str
) -> CompiledThreshold | str:
    metric = str(raw.get("metric", ""))
    if metric not in METRICS:
        return f"{where}.metric: unknown metric {metric!r}; use one of {', '.join(METRICS)}"
    index = METRICS.index(metric)
    if raw.get("above") is not None:
        return CompiledThreshold(metric, index, float(raw["above"]))
    fraction = raw.get("fractionOfCapacity")
    declared = capacity.get(_LIMIT_KEYS[index])
    if fraction is None:
        return f"{where}: set above or fractionOfCapacity"
    if not declared:
        return (
            f"{where}.fractionOfCapacity: spec.deviceCapacity.{_LIMIT_KEYS[index]} is not "
            "declared; declare it or use an absolute threshold (above)"
        )
    return CompiledThreshold(metric, index, float(fraction) * float(declared), float(declared))


def _rule(raw: Mapping[str, Any], capacity: Mapping[str, Any], where: str) -> CompiledRule | str:
    window = str(raw.get("window", ""))
    if window not in WINDOWS:
        return f"{where}.window: unknown window {window!r}; use one of {', '.join(WINDOWS)}"
    thresholds = []
    for index, item in enumerate(raw.get("thresholds") or []):
        compiled = _threshold(item, capacity, f"{where}.thresholds[{index}]")
        if isinstance(compiled, str):
            return compiled
        thresholds.append(compiled)
    if not thresholds:
        return f"{where}.thresholds: a rule needs at least one threshold"
    limits = Limits.from_raw(raw.get("limits"))
    if limits.is_empty():
        return f"{where}.limits: set at least one of {', '.join(_LIMIT_KEYS)}"
    return CompiledRule(
        name=str(raw.get("name", "")),
        window=window,
        thresholds=tuple(thresholds),
        limits=limits,
        priority=int(raw.get("priority") or 0),
    )


def compile_policy(spec: Mapping[str, Any]) -> CompiledPolicy:
    """Compile a raw IOLimitPolicy spec; rules that cannot be evaluated are left out and
    named in ``errors`` (the API server's validation makes that rare)."""
    capacity = spec.get("deviceCapacity") or {}
    rules: list[CompiledRule] = []
    errors: list[str] = []
    for index, raw in enumerate(spec.get("rules") or []):
        compiled = _rule(raw, capacity, f"spec.rules[{index}]")
        if isinstance(compiled, str):
            errors.append(compiled)
        else:
            rules.append(compiled)
    recovery = spec.get("recovery") or {}
    return CompiledPolicy(
        rules=tuple(sorted(rules, key=CompiledRule.severity_key)),
        below_ratio=float(recovery.get("belowRatio", 0.8)),
        delay_seconds=float(recovery.get("delaySeconds", 600)),
        dry_run=bool(spec.get("dryRun", False)),
        errors=tuple(errors),
    )
