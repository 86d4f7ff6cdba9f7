"""Where ready keys wait inside a queue: in arrival order, or by priority then arrival.

The queue (``queue.py``) keeps the client-go invariants (dirty and processing sets, one
worker per key); this structure only decides which ready key is handed out next.

- ``note(key, priority)`` records the priority a caller asked for. The highest request
  since the key was last handed out wins, and a key already waiting moves up at once, so
  a change event is never stuck behind the low-priority entry an initial list left.
- ``push(key)`` makes the key ready at the priority noted for it (0 if none).
- ``take()`` hands out the next key and the priority it had.

Callers hold the queue's lock; nothing here locks.
"""

from __future__ import annotations

import heapq
import itertools
from collections import deque
from collections.abc import Hashable
from typing import Generic, Protocol, TypeVar

__all__ = ["FifoKeys", "PriorityKeys", "ReadyKeys"]

T = TypeVar("T", bound=Hashable)


class ReadyKeys(Protocol[T]):
    """The ready-key structure a queue delegates ordering to."""

    def note(self, item: T, priority: int) -> None: ...

    def push(self, item: T) -> None: ...

    def take(self) -> tuple[T, int]: ...

    def __len__(self) -> int: ...


class FifoKeys(Generic[T]):
    """client-go's order: first ready, first out; priorities are ignored (all 0)."""

    __slots__ = ("_items",)

    def __init__(self) -> None:
        self._items: deque[T] = deque()

    def note(self, item: T, priority: int) -> None:
        """Nothing to record: every key has the same priority."""

    def push(self, item: T) -> None:
        self._items.append(item)

    def take(self) -> tuple[T, int]:
        return self._items.popleft(), 0

    def __len__(self) -> int:
        return len(self._items)


class PriorityKeys(Generic[T]):
    """Highest priority first; among equals, the key that became ready first.

    A heap of ``(-priority, arrival, key)``. Raising a waiting key's priority pushes a
    second entry with the same arrival number and marks the old one stale (it is skipped
    when it surfaces), so every operation stays O(log n).
    """

    __slots__ = ("_arrivals", "_heap", "_live", "_wanted")

    def __init__(self) -> None:
        self._heap: list[tuple[int, int, T]] = []
        self._live: dict[T, tuple[int, int]] = {}
        """Waiting key -> (priority, arrival) of its one valid heap entry."""
        self._wanted: dict[T, int] = {}
        """Highest priority asked for since the key was last handed out."""
        self._arrivals = itertools.count()

    def note(self, item: T, priority: int) -> None:
        wanted = self._wanted.get(item)
        if wanted is not None and wanted >= priority:
            return
        self._wanted[item] = priority
        live = self._live.get(item)
        if live is not None and live[0] < priority:
            arrival = live[1]
            self._live[item] = (priority, arrival)
            heapq.heappush(self._heap, (-priority, arrival, item))

    def push(self, item: T) -> None:
        priority = self._wanted.get(item, 0)
        arrival = next(self._arrivals)
        self._live[item] = (priority, arrival)
        heapq.heappush(self._heap, (-priority, arrival, item))

    def take(self) -> tuple[T, int]:
        while True:
            negative, arrival, item = heapq.heappop(self._heap)
            if self._live.get(item) == (-negative, arrival):
                del self._live[item]
                self._wanted.pop(item, None)
                return item, -negative

    def __len__(self) -> int:
        return len(self._live)
