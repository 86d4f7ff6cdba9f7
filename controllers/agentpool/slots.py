"""Claim, start and release slots of an AgentPool: the library behind ``kreconcile slots``.

Usage::

    slots = Slots(Client(RestConfig.load(None)))
    placement = slots.claim("ci", "ci-agents", "task-42")     # SlotRef or Pending(position)
    placement = slots.wait_for_slot("ci", "ci-agents", "task-42", timeout=600)
    slots.start("ci", "ci-agents", "task-42")                  # reserved -> running
    slots.release("ci", "ci-agents", "task-42")                # slot idle (or claim dropped)

Every operation reads the pool from the API server, changes the ledger (``ledger.py``)
and writes the status back with the resourceVersion it read. If anyone wrote in between
(another claimer, the operator), the write fails with a conflict and the operation runs
again on a fresh read, after a random exponential backoff, at most ``attempts`` times
(tenacity). So two claimers never get the same slot, and none is lost.

Each operation is idempotent per task id: a claim retried after a timeout finds the task
where the first one put it and returns that; a second start or release changes nothing.
An agent inside a pod reports its own slots with ``start``/``release`` and ``pod=`` its
name: the ledger stays the one source of truth, and a report for a slot of another pod is
refused (``WrongPod``).
"""

from __future__ import annotations

import copy
import datetime as dt
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

from tenacity import Retrying, retry_if_exception_type, stop_after_attempt, wait_random_exponential

from controllers.agentpool import ledger
from controllers.agentpool.ledger import LedgerError, Pending, Placement, SlotRef
from controllers.agentpool.status import summarize
from crds import AgentPool
from reconcile.client import Client
from reconcile.errors import Conflict

__all__ = ["SlotContention", "Slots", "SlotsOptions", "validate_task"]

T = TypeVar("T")
Obj = dict[str, Any]
MAX_TASK_ID = 64


class SlotContention(LedgerError):
    """Every attempt to write the ledger conflicted with another writer."""


@dataclass(frozen=True, kw_only=True, slots=True)
class SlotsOptions:
    """How hard a slot operation tries. Usage: ``SlotsOptions(attempts=10)``."""

    attempts: int = 60
    """Ledger writes tried before ``SlotContention``. Each conflict means another writer
    succeeded, so with N claimers racing on one pool the last one needs about N attempts;
    the default covers 50 concurrent claimers with room to spare."""
    max_backoff: float = 0.5
    """Longest random wait between two attempts, in seconds (it starts at a few ms)."""
    field_manager: str = "kreconcile-slots"
    """The field manager recorded for ledger writes."""

    def __post_init__(self) -> None:
        if self.attempts < 1:
            raise ValueError(f"attempts must be >= 1, got {self.attempts}")


def validate_task(task: str) -> str:
    """The task id, or ValueError saying what a task id may be."""
    if not 1 <= len(task) <= MAX_TASK_ID:
        raise ValueError(f"a task id has 1 to {MAX_TASK_ID} characters, got {len(task)}")
    return task


def _utc_now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


class Slots:
    """Slot operations on the pools of one API server."""

    def __init__(
        self,
        client: Client,
        *,
        options: SlotsOptions | None = None,
        clock: Callable[[], dt.datetime] = _utc_now,
    ) -> None:
        """``client`` must read from the API server (a cache could be stale, which would
        only cost conflicts, but a direct read makes the first attempt usually succeed)."""
        self.client = client
        self.options = options or SlotsOptions()
        self.clock = clock

    def get(self, namespace: str, pool: str) -> Obj:
        """The pool as the API server has it now."""
        return self.client.get(AgentPool, pool, namespace)

    def _change(self, namespace: str, pool: str, change: Callable[[Obj, Obj], T]) -> T:
        """Run ``change(status, spec)`` on a fresh copy and store it, retrying conflicts."""

        def attempt() -> T:
            obj = self.get(namespace, pool)
            before = obj.get("status") or {}
            status = copy.deepcopy(before)
            result = change(status, obj["spec"])
            summarize(status, obj["spec"])
            if status != before:
                self.client.status().update(
                    {**obj, "status": status}, field_manager=self.options.field_manager
                )
            return result

        retrying = Retrying(
            retry=retry_if_exception_type(Conflict),
            stop=stop_after_attempt(self.options.attempts),
            wait=wait_random_exponential(multiplier=0.005, max=self.options.max_backoff),
            reraise=True,
        )
        try:
            return retrying(attempt)
        except Conflict as error:
            raise SlotContention(
                f"pool {namespace}/{pool}: the ledger changed under each of "
                f"{self.options.attempts} attempts; retry (the operation is idempotent) or "
                "raise SlotsOptions.attempts"
            ) from error

    def claim(self, namespace: str, pool: str, task: str) -> Placement:
        """A slot for ``task`` (Reserved), or its position among pending claims."""
        validate_task(task)

        def change(status: Obj, spec: Obj) -> Placement:
            ttl = spec.get("reservationTTLSeconds")
            return ledger.claim(status, task, now=self.clock(), ttl=ttl)

        return self._change(namespace, pool, change)

    def wait_for_slot(self, namespace: str, pool: str, task: str, *, timeout: float) -> Placement:
        """Claim, then follow the pool until the task has a slot or ``timeout`` seconds pass.

        Returns the slot, or the pending position at the deadline. Raises ``UnknownTask``
        if the claim is released (by someone else) while waiting.
        """
        placement = self.claim(namespace, pool, task)
        deadline = time.monotonic() + timeout
        while isinstance(placement, Pending):
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                break
            placement = self._follow(namespace, pool, task, remaining)
        return placement

    def _follow(self, namespace: str, pool: str, task: str, seconds: float) -> Placement:
        """Where ``task`` is once it leaves pending, or when the watch ends."""
        current = self.get(namespace, pool)
        where = _where(current, task)
        if not isinstance(where, Pending):
            return where
        stream = self.client.watch(
            AgentPool,
            namespace=namespace,
            field_selector=f"metadata.name={pool}",
            resource_version=current["metadata"].get("resourceVersion", ""),
            timeout_seconds=max(1, int(seconds + 0.999)),
            bookmarks=False,
        )
        try:
            for event in stream:
                if event.get("type") not in ("ADDED", "MODIFIED"):
                    break  # deleted, or an ERROR (too old): read again
                where = _where(event.get("object") or {}, task)
                if not isinstance(where, Pending):
                    return where
        finally:
            stream.close()
        return where

    def start(self, namespace: str, pool: str, task: str, *, pod: str | None = None) -> SlotRef:
        """Mark ``task``'s reserved slot running. ``pod``: the reporting agent's pod."""
        validate_task(task)
        return self._change(
            namespace, pool, lambda status, _: ledger.start(status, task, now=self.clock(), pod=pod)
        )

    def release(
        self, namespace: str, pool: str, task: str, *, pod: str | None = None
    ) -> Placement | None:
        """Free ``task``'s slot or drop its pending claim; where it was (None: nowhere)."""
        validate_task(task)

        def change(status: Obj, spec: Obj) -> Placement | None:
            ttl = spec.get("reservationTTLSeconds")
            return ledger.release(status, task, now=self.clock(), ttl=ttl, pod=pod)

        return self._change(namespace, pool, change)


def _where(pool: Obj, task: str) -> Placement:
    where = ledger.find(pool.get("status") or {}, task)
    if where is None:
        raise ledger.UnknownTask(f"task {task!r} was released while waiting for a slot")
    return where
