"""Controller options with controller-runtime's defaults."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from reconcile.clock import REAL_CLOCK, Clock
from reconcile.gvk import GroupVersionKind
from reconcile.log import LogConstructor
from reconcile.workqueue import RateLimiter

__all__ = ["ControllerDefaults", "ControllerOptions"]


@dataclass(frozen=True, kw_only=True)
class ControllerOptions:
    """How one controller runs. Usage: ``ControllerOptions(max_concurrent_reconciles=4)``."""

    max_concurrent_reconciles: int = 1
    """Worker threads. A key is never reconciled by two workers at once, whatever this is;
    raise it when many objects wait on slow reconciles (I/O bound)."""
    rate_limiter: RateLimiter | None = None
    """Retry backoff; None is the controller default (5 ms..1000 s per item, 10 qps overall)."""
    reconcile_timeout: float | None = None
    """Seconds a reconcile may take (None: no limit), enforced. An ``async def`` reconcile
    is cancelled at the deadline and requeued with backoff. A sync one cannot be
    interrupted: it is counted in ``controller_runtime_reconcile_timeouts_total``, and its
    worker is replaced so the other keys keep flowing; its key stays in processing until
    the call returns (one worker per key still holds). Sync reconcilers should check
    ``reconcile_deadline()`` and give up on their own."""
    cache_sync_timeout: float = 120.0
    """Seconds to wait for the watched kinds' caches before failing to start."""
    need_leader_election: bool = True
    """Run only on the elected leader (the default for anything that writes)."""
    recover_panic: bool = True
    """Count reconciler bugs (TypeError, KeyError, ...) as panics and keep the worker alive.

    False makes a bug fatal, as an unrecovered Go panic is: the worker dies, the controller
    stops and raises, and the manager fails (logged, exit code 1) instead of running on
    with fewer workers."""
    use_priority_queue: bool = True
    """Hand out keys by priority (controller-runtime's default since 0.23): the initial
    list and resyncs that changed nothing are enqueued at ``LOW_PRIORITY``, so a change
    made after a restart does not wait behind the whole list. False: client-go's FIFO."""
    enable_warmup: bool = False
    """Start this controller's sources before it is elected (on every replica), so a
    failover finds the cache filled and the queue primed instead of listing everything
    first. Costs the watch and the cache memory on standby replicas."""
    log_constructor: LogConstructor | None = None
    """Builds the logger of each reconcile (and, with None, of the controller itself);
    reconcilers get it from ``reconcile.log.from_context()``. None: the module loggers."""
    clock: Clock = REAL_CLOCK
    """Time for the work queue, reconcile deadlines and durations (tests pass a FakeClock).
    ``async def`` reconcilers are timed out by their event loop's clock."""

    def __post_init__(self) -> None:
        if self.max_concurrent_reconciles < 1:
            raise ValueError(
                f"max_concurrent_reconciles must be >= 1, got {self.max_concurrent_reconciles}"
            )
        if self.cache_sync_timeout <= 0:
            raise ValueError(
                f"cache_sync_timeout must be > 0 seconds, got {self.cache_sync_timeout}"
            )
        if self.reconcile_timeout is not None and not self.reconcile_timeout > 0:
            raise ValueError(
                f"reconcile_timeout must be > 0 seconds (or None for no limit), got "
                f"{self.reconcile_timeout}"
            )


@dataclass(frozen=True, kw_only=True)
class ControllerDefaults:
    """Manager-wide defaults for every controller it builds (controller-runtime's
    ``config.Controller``); None leaves ``ControllerOptions``' own default.

    What a builder's ``with_options`` sets wins over these. Usage::

        ManagerOptions(controller=ControllerDefaults(
            group_kind_concurrency={"ReplicaSet.apps": 4, "Pod": 2},
            reconcile_timeout=60.0, recover_panic=True))
    """

    group_kind_concurrency: Mapping[str, int] = field(default_factory=dict)
    """Workers per reconciled kind, keyed ``Kind.group`` (``"Pod"`` for the core group):
    the kind's ``max_concurrent_reconciles`` unless the builder sets one."""
    max_concurrent_reconciles: int | None = None
    cache_sync_timeout: float | None = None
    recover_panic: bool | None = None
    need_leader_election: bool | None = None
    reconcile_timeout: float | None = None
    use_priority_queue: bool | None = None
    enable_warmup: bool | None = None

    def __post_init__(self) -> None:
        for key, workers in self.group_kind_concurrency.items():
            if workers < 1:
                raise ValueError(f"group_kind_concurrency[{key!r}] must be >= 1, got {workers}")

    def for_kind(self, kind: GroupVersionKind | None) -> dict[str, Any]:
        """The ControllerOptions fields these defaults set for a controller of ``kind``."""
        values: dict[str, Any] = {
            name: getattr(self, name)
            for name in (
                "max_concurrent_reconciles",
                "cache_sync_timeout",
                "recover_panic",
                "need_leader_election",
                "reconcile_timeout",
                "use_priority_queue",
                "enable_warmup",
            )
            if getattr(self, name) is not None
        }
        if kind is not None:
            group_kind = f"{kind.kind}.{kind.group}" if kind.group else kind.kind
            workers = self.group_kind_concurrency.get(group_kind)
            if workers is not None:
                values["max_concurrent_reconciles"] = workers
        return values
