"""client-go's leader election loop over a Lease, in threads.

Safety rests on three rules, all from client-go:

- Expiry is judged by *our own clock*: a standby notes when it first saw the current record
  (``observed_at``) and only takes over ``leaseDurationSeconds`` after that, whatever the
  timestamps inside the record say. Clocks of different machines never get compared.
- Every write is an update of the exact resourceVersion read, so when two standbys race for
  an expired lease the API server lets exactly one of them win.
- The leader must renew within ``renew_deadline`` (< ``lease_duration``), or it steps down:
  it stops all leader-only work *before* any standby may consider the lease expired.

Each attempt runs on a helper thread and is abandoned when the deadline passes, so a hung
connection to the API server cannot keep a stale leader acting past its deadline; ``close``
then waits for that thread, so the elector leaves no thread behind.
"""

from __future__ import annotations

import datetime as dt
import logging
import random
import socket
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass

from prometheus_client import CollectorRegistry, Gauge

from reconcile.errors import AlreadyExists, Conflict, LeaderElectionLost, NotFound
from reconcile.leaderelection.lease import LeaderElectionRecord, LeaseLock, format_micro_time
from reconcile.leaderelection.options import JITTER_FACTOR, LeaderElectionOptions
from reconcile.metrics.per_registry import PerRegistryMetrics

__all__ = ["LeaderCallbacks", "LeaderElectionMetrics", "LeaderElector", "default_identity"]

log = logging.getLogger(__name__)


def default_identity() -> str:
    """hostname + "_" + a fresh UUID: unique even for two replicas on one host."""
    return f"{socket.gethostname()}_{uuid.uuid4()}"


class LeaderElectionMetrics(PerRegistryMetrics):
    """``leader_election_master_status{name}``: 1 while this replica leads, else 0."""

    def __init__(self, registry: CollectorRegistry) -> None:
        self.master_status = Gauge(
            "leader_election_master_status",
            "Gauge of if the reporting system is master of the relevant lease, "
            "0 indicates backup, 1 indicates master. 'name' is the string used to "
            "identify the lease.",
            ["name"],
            registry=registry,
        )


@dataclass(frozen=True, kw_only=True, slots=True)
class LeaderCallbacks:
    """Hooks called on the elector's thread; they must return quickly."""

    on_started_leading: Callable[[], None] = lambda: None
    """Called once the lease is acquired: start leader-only work (in other threads)."""
    on_stopped_leading: Callable[[], None] = lambda: None
    """Called the moment renewal fails, before ``run`` raises: stop leader-only work now."""
    on_new_leader: Callable[[str], None] = lambda identity: None
    """Called when the observed holder changes (including to ourselves)."""


class LeaderElector:
    """Acquires, renews and releases one Lease on behalf of this replica."""

    def __init__(
        self,
        lock: LeaseLock,
        options: LeaderElectionOptions,
        *,
        callbacks: LeaderCallbacks | None = None,
        metrics: LeaderElectionMetrics | None = None,
        clock: Callable[[], float] = time.monotonic,
        wall_clock: Callable[[], dt.datetime] = lambda: dt.datetime.now(dt.UTC),
        jitter: Callable[[], float] = random.random,
    ) -> None:
        self._lock = lock
        self._options = options
        self.identity = options.identity or default_identity()
        self._callbacks = callbacks or LeaderCallbacks()
        self._metrics = metrics
        self._clock = clock
        self._wall_clock = wall_clock
        self._jitter = jitter
        self._observed: LeaderElectionRecord | None = None
        self._observed_at = 0.0
        self._reported_leader = ""
        self._leading = threading.Event()
        self._attempt_lock = threading.Lock()
        self._attempts: list[threading.Thread] = []
        self._closed = False
        self._set_status(0)

    @property
    def leader(self) -> str:
        """Identity of the holder as last observed ("" if none)."""
        return self._observed.holder_identity if self._observed else ""

    def is_leader(self) -> bool:
        """Whether the last record we observed names us as the holder."""
        return self._observed is not None and self._observed.holder_identity == self.identity

    def wait_leading(self, timeout: float | None = None) -> bool:
        """Block until this replica leads (or ``timeout`` seconds pass)."""
        return self._leading.wait(timeout)

    def run(self, stop: threading.Event) -> None:
        """Compete until ``stop`` is set; raise LeaderElectionLost if a renewal fails.

        Returns normally only when ``stop`` is set. Releasing the lease is a separate step
        (``release``) so the caller can first stop its leader-only work.
        """
        if not self._acquire(stop):
            return
        self._leading.set()
        self._set_status(1)
        log.info(
            "leader election won",
            extra={"lease": self._lock.describe(), "identity": self.identity},
        )
        self._callbacks.on_started_leading()
        self._renew(stop)

    def release(self) -> bool:
        """Give the lease up now so a standby takes over at once; True if released."""
        if not self.is_leader() or self._observed is None:
            return False
        now = format_micro_time(self._wall_clock())
        record = LeaderElectionRecord(
            holder_identity="",
            lease_duration_seconds=1,
            acquire_time=now,
            renew_time=now,
            leader_transitions=self._observed.leader_transitions,
        )
        try:
            self._lock.update(record)
        except Exception as exc:
            log.warning(
                "failed to release the lease; a standby takes over once it expires",
                extra={"lease": self._lock.describe(), "error": str(exc)},
            )
            return False
        finally:
            self._leading.clear()
            self._set_status(0)
        self._observe(record)
        log.info("leader lease released", extra={"lease": self._lock.describe()})
        return True

    def close(self, timeout: float = 10.0) -> bool:
        """Start no more attempts and wait up to ``timeout`` seconds for one in flight (its
        request is bounded by the client's timeout); True if no attempt thread is left."""
        self._closed = True
        deadline = time.monotonic() + timeout
        for thread in list(self._attempts):
            thread.join(max(0.0, deadline - time.monotonic()))
        self._attempts = [t for t in self._attempts if t.is_alive()]
        if self._attempts:
            log.warning(
                "a lease request is still in flight after close",
                extra={"lease": self._lock.describe()},
            )
        return not self._attempts

    def _acquire(self, stop: threading.Event) -> bool:
        log.info("attempting to acquire leader lease", extra={"lease": self._lock.describe()})
        retry = self._options.retry_period
        while not stop.is_set():
            if self._attempt(timeout=self._options.renew_deadline):
                return True
            if stop.wait(retry * (1.0 + self._jitter() * JITTER_FACTOR)):
                return False
        return False

    def _renew(self, stop: threading.Event) -> None:
        while not stop.wait(self._options.retry_period):
            if not self._renew_before_deadline(stop):
                if stop.is_set():
                    return
                self._lose()

    def _renew_before_deadline(self, stop: threading.Event) -> bool:
        """Retry every retry_period until a renewal succeeds or renew_deadline passes."""
        deadline = self._clock() + self._options.renew_deadline
        while not stop.is_set():
            if self._attempt(timeout=deadline - self._clock()):
                return True
            remaining = deadline - self._clock()
            if remaining <= 0 or stop.wait(min(self._options.retry_period, remaining)):
                return False
        return False

    def _lose(self) -> None:
        self._leading.clear()
        self._set_status(0)
        self._callbacks.on_stopped_leading()
        message = (
            f"leader election lost: could not renew Lease {self._lock.describe()} within "
            f"{self._options.renew_deadline:g}s; this replica stopped all leader-only work "
            "and must exit (check the API server's health and this replica's network)"
        )
        log.error("leader election lost", extra={"lease": self._lock.describe()})
        raise LeaderElectionLost(message)

    def _attempt(self, *, timeout: float) -> bool:
        """One try_acquire_or_renew bounded by ``timeout`` seconds.

        It runs on a daemon thread so that a hung request can be abandoned at the deadline
        and can never keep the process from exiting after leadership is lost.
        """
        if timeout <= 0 or self._closed:
            return False
        outcome: list[bool | BaseException] = []
        done = threading.Event()

        def attempt() -> None:
            try:
                with self._attempt_lock:
                    outcome.append(self._try_acquire_or_renew())
            except BaseException as exc:
                outcome.append(exc)
            finally:
                done.set()

        thread = threading.Thread(target=attempt, name="leaderelection-attempt", daemon=True)
        self._attempts = [t for t in self._attempts if t.is_alive()]
        self._attempts.append(thread)
        thread.start()
        if not done.wait(timeout):
            log.warning("lease request timed out", extra={"lease": self._lock.describe()})
            return False
        result = outcome[0]
        if isinstance(result, BaseException):
            log.warning(
                "failed to acquire or renew the lease",
                extra={"lease": self._lock.describe(), "error": str(result)},
            )
            return False
        return result

    def _try_acquire_or_renew(self) -> bool:
        now = format_micro_time(self._wall_clock())
        desired = LeaderElectionRecord(
            holder_identity=self.identity,
            lease_duration_seconds=max(1, round(self._options.lease_duration)),
            acquire_time=now,
            renew_time=now,
            leader_transitions=0,
        )
        try:
            current = self._lock.get()
        except NotFound:
            try:
                self._lock.create(desired)
            except AlreadyExists:
                return False
            self._observe(desired)
            return True

        if current != self._observed:
            self._observe(current)
        if (
            current.holder_identity
            and current.holder_identity != self.identity
            and self._observed_at + current.lease_duration_seconds > self._clock()
        ):
            return False

        if current.holder_identity == self.identity:
            desired = _replace_times(desired, current.acquire_time, current.leader_transitions)
        else:
            desired = _replace_times(desired, now, current.leader_transitions + 1)
        try:
            self._lock.update(desired)
        except (Conflict, NotFound):
            return False
        self._observe(desired)
        return True

    def _observe(self, record: LeaderElectionRecord) -> None:
        self._observed = record
        self._observed_at = self._clock()
        if record.holder_identity != self._reported_leader:
            self._reported_leader = record.holder_identity
            if record.holder_identity:
                log.info(
                    "new leader observed",
                    extra={"lease": self._lock.describe(), "leader": record.holder_identity},
                )
                self._callbacks.on_new_leader(record.holder_identity)

    def _set_status(self, value: int) -> None:
        if self._metrics is not None:
            self._metrics.master_status.labels(self._lock.name).set(value)


def _replace_times(
    record: LeaderElectionRecord, acquire_time: str, transitions: int
) -> LeaderElectionRecord:
    return LeaderElectionRecord(
        holder_identity=record.holder_identity,
        lease_duration_seconds=record.lease_duration_seconds,
        acquire_time=acquire_time,
        renew_time=record.renew_time,
        leader_transitions=transitions,
    )
