"""Controller options with controller-runtime's defaults."""

from __future__ import annotations

from dataclasses import dataclass

from reconcile.clock import REAL_CLOCK, Clock
from reconcile.workqueue import RateLimiter

__all__ = ["ControllerOptions"]


@dataclass(frozen=True, kw_only=True)
class ControllerOptions:
    """How one controller runs. Usage: ``ControllerOptions(max_concurrent_reconciles=4)``."""

    max_concurrent_reconciles: int = 1
    """Worker threads. A key is never reconciled by two workers at once, whatever this is;
    raise it when many objects wait on slow reconciles (I/O bound)."""
    rate_limiter: RateLimiter | None = None
    """Retry backoff; None is the controller default (5 ms..1000 s per item, 10 qps overall)."""
    reconcile_timeout: float | None = None
    """Seconds a reconcile may take; reconcilers see the deadline via ``reconcile_deadline()``."""
    cache_sync_timeout: float = 120.0
    """Seconds to wait for the watched kinds' caches before failing to start."""
    need_leader_election: bool = True
    """Run only on the elected leader (the default for anything that writes)."""
    recover_panic: bool = True
    """Count reconciler bugs (TypeError, KeyError, ...) as panics and keep the worker alive.

    False makes a bug fatal, as an unrecovered Go panic is: the worker dies, the controller
    stops and raises, and the manager fails (logged, exit code 1) instead of running on
    with fewer workers."""
    clock: Clock = REAL_CLOCK
    """Time for the work queue, reconcile deadlines and durations (tests pass a FakeClock)."""

    def __post_init__(self) -> None:
        if self.max_concurrent_reconciles < 1:
            raise ValueError(
                f"max_concurrent_reconciles must be >= 1, got {self.max_concurrent_reconciles}"
            )
        if self.cache_sync_timeout <= 0:
            raise ValueError(
                f"cache_sync_timeout must be > 0 seconds, got {self.cache_sync_timeout}"
            )
