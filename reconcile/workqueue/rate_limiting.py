"""client-go's rate-limiting queue: retries wait as long as the rate limiter says."""

from __future__ import annotations

from collections.abc import Hashable
from typing import TypeVar

from reconcile.clock import REAL_CLOCK, Clock
from reconcile.workqueue.delaying import DelayingQueue
from reconcile.workqueue.metrics import WorkqueueMetrics
from reconcile.workqueue.rate_limiters import RateLimiter, default_controller_rate_limiter

__all__ = ["RateLimitingQueue"]

T = TypeVar("T", bound=Hashable)


class RateLimitingQueue(DelayingQueue[T]):
    """A DelayingQueue plus ``add_rate_limited``, ``forget`` and ``num_requeues``.

    Usage::

        queue: RateLimitingQueue[Request] = RateLimitingQueue(name="agentpool")
        ...
        except Exception:
            queue.add_rate_limited(request)   # back off: 5 ms, 10 ms, 20 ms ... 1000 s
        else:
            queue.forget(request)             # success: next failure starts at 5 ms again
        finally:
            queue.done(request)
    """

    def __init__(
        self,
        *,
        rate_limiter: RateLimiter | None = None,
        name: str = "",
        controller: str | None = None,
        metrics: WorkqueueMetrics | None = None,
        clock: Clock = REAL_CLOCK,
    ) -> None:
        """``rate_limiter`` defaults to ``default_controller_rate_limiter(clock)``."""
        super().__init__(name=name, controller=controller, metrics=metrics, clock=clock)
        self.rate_limiter = (
            rate_limiter if rate_limiter is not None else default_controller_rate_limiter(clock)
        )

    def add_rate_limited(self, item: T) -> None:
        """Add ``item`` after the delay the rate limiter assigns it (counted as a retry)."""
        self._note_retry()
        self._add_after(item, self.rate_limiter.when(item), 0)

    def forget(self, item: T) -> None:
        """Stop tracking ``item``'s retries; call it when processing succeeded."""
        self.rate_limiter.forget(item)

    def num_requeues(self, item: T) -> int:
        """How many times ``item`` was rate-limited since it was last forgotten."""
        return self.rate_limiter.num_requeues(item)
