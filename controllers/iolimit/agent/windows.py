"""A container's IO over the 15, 30 and 60 minute windows, from cumulative counters.

The cgroup counters only grow, so a window's average is a difference of two readings
divided by the window: ``(C(now) - C(now - W)) / W``. The series keeps the latest reading
plus checkpoints at least ``spacing`` seconds apart for the longest window (60 minutes
at a 30 s spacing is 121 points: four numbers each, in flat arrays of doubles, about
5 KB per container), and reads ``C(now - W)`` by interpolating between checkpoints.

After an agent restart the history is gone, but the counters are not: a container younger
than a window has done all its IO inside that window, so ``C(now - W)`` is 0 and the
average is exact at the first reading. For an older container the window is *not known*
until the agent's own readings cover it, and ``averages`` leaves it out, so no rule
triggers or recovers on a guess: throttles in force stay as they are meanwhile.

A counter that goes down (the cgroup was recreated under the same name, or stats were
reset) restarts the series.
"""

from __future__ import annotations

from array import array
from bisect import bisect_right

from controllers.iolimit.rules import WINDOWS

__all__ = ["DEFAULT_SPACING", "WindowSeries"]

DEFAULT_SPACING = 30.0
"""Seconds between kept checkpoints."""
_WIDTH = 4


class WindowSeries:
    """Readings of one container's (rios, wios, rbytes, wbytes) counters over time."""

    __slots__ = ("_times", "_values", "horizon", "spacing", "started_at")

    def __init__(
        self,
        *,
        started_at: float | None,
        spacing: float = DEFAULT_SPACING,
        horizon: float = max(WINDOWS.values()),
    ) -> None:
        """``started_at``: when the container (and so its counters) started, epoch seconds."""
        self.started_at = started_at
        self.spacing = spacing
        self.horizon = horizon
        self._times = array("d")
        self._values = array("d")

    def __len__(self) -> int:
        return len(self._times)

    @property
    def last_time(self) -> float | None:
        return self._times[-1] if self._times else None

    def last(self) -> tuple[float, float, float, float] | None:
        if not self._times:
            return None
        v = self._values
        return (v[-4], v[-3], v[-2], v[-1])

    def add(self, at: float, counters: tuple[int, int, int, int]) -> None:
        """Record a reading taken at ``at`` (epoch seconds, not earlier than the last)."""
        last = self.last()
        if last is not None and any(c < p for c, p in zip(counters, last, strict=True)):
            self._times = array("d")
            self._values = array("d")
            self.started_at = None
        times, values = self._times, self._values
        if len(times) >= 2 and times[-1] - times[-2] < self.spacing:
            times[-1] = at
            values[-_WIDTH:] = array("d", counters)
        else:
            times.append(at)
            values.extend(counters)
        self._prune(at)

    def _prune(self, now: float) -> None:
        """Drop checkpoints no window needs: keep one at or before ``now - horizon``."""
        cutoff = now - self.horizon
        drop = 0
        while drop + 1 < len(self._times) and self._times[drop + 1] <= cutoff:
            drop += 1
        if drop:
            del self._times[:drop]
            del self._values[: drop * _WIDTH]

    def _at(self, moment: float) -> tuple[float, ...] | None:
        """Counters at ``moment`` by interpolation; None before the first reading."""
        times, values = self._times, self._values
        if not times or moment < times[0]:
            return None
        index = bisect_right(times, moment) - 1
        base = values[index * _WIDTH : (index + 1) * _WIDTH]
        if index == len(times) - 1 or times[index] == moment:
            return tuple(base)
        after = values[(index + 1) * _WIDTH : (index + 2) * _WIDTH]
        share = (moment - times[index]) / (times[index + 1] - times[index])
        return tuple(b + (a - b) * share for b, a in zip(base, after, strict=True))

    def average(self, seconds: float) -> tuple[float, float, float, float] | None:
        """Average rates over the ``seconds`` before the latest reading, None if unknown."""
        last = self.last()
        if last is None:
            return None
        end = self._times[-1]
        start = end - seconds
        base = self._at(start)
        if base is None:
            if self.started_at is None or self.started_at < start:
                return None
            base = (0.0, 0.0, 0.0, 0.0)
        r = [(c - b) / seconds for c, b in zip(last, base, strict=True)]
        return (r[0], r[1], r[2], r[3])

    def averages(self) -> dict[str, tuple[float, float, float, float]]:
        """Window name -> average rates, for the windows known now."""
        found = {}
        for name, seconds in WINDOWS.items():
            rates = self.average(seconds)
            if rates is not None:
                found[name] = rates
        return found
