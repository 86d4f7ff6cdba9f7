"""Retrying API calls: on write conflicts (re-read and retry) and on transient failures.

``retry_on_conflict`` is client-go's ``RetryOnConflict``: the function must re-read the
object each attempt, apply its change and write; a 409 runs it again after a short backoff.
``transient`` decides which failures a *read* may retry: throttling (429, honouring
Retry-After), server errors (500/503/504) and an unreachable API server.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

from tenacity import (
    RetryCallState,
    Retrying,
    retry_if_exception,
    retry_if_exception_type,
    stop_after_attempt,
    stop_after_delay,
    wait_exponential,
    wait_random,
)

from reconcile.errors import (
    Conflict,
    InternalError,
    ServerTimeout,
    ServiceUnavailable,
    TooManyRequests,
)

__all__ = ["DEFAULT_CONFLICT_ATTEMPTS", "is_transient", "retry_on_conflict", "with_read_retries"]

T = TypeVar("T")

DEFAULT_CONFLICT_ATTEMPTS = 5
"""client-go's DefaultRetry: 5 steps, 10 ms doubling with jitter."""


def retry_on_conflict(fn: Callable[[], T], *, attempts: int = DEFAULT_CONFLICT_ATTEMPTS) -> T:
    """Run ``fn`` until it does not raise Conflict (at most ``attempts`` times)."""
    for attempt in Retrying(
        retry=retry_if_exception_type(Conflict),
        stop=stop_after_attempt(attempts),
        wait=wait_exponential(multiplier=0.01, max=1.0) + wait_random(0, 0.01),
        reraise=True,
    ):
        with attempt:
            return fn()
    raise AssertionError("unreachable: tenacity either returns or reraises")


def is_transient(error: BaseException) -> bool:
    """Failures worth retrying: the request may succeed unchanged later."""
    return isinstance(error, TooManyRequests | InternalError | ServiceUnavailable | ServerTimeout)


_READ_BACKOFF = wait_exponential(multiplier=0.05, max=5.0) + wait_random(0, 0.05)


def _wait(state: RetryCallState) -> float:
    error = state.outcome.exception() if state.outcome is not None else None
    if isinstance(error, TooManyRequests) and error.retry_after:
        return min(error.retry_after, 30.0)
    return float(_READ_BACKOFF(state))


def with_read_retries(fn: Callable[[], T], *, deadline: float = 30.0) -> T:
    """Run a read, retrying transient failures with backoff for up to ``deadline`` seconds."""
    for attempt in Retrying(
        retry=retry_if_exception(is_transient),
        stop=stop_after_delay(deadline),
        wait=_wait,
        reraise=True,
    ):
        with attempt:
            return fn()
    raise AssertionError("unreachable: tenacity either returns or reraises")
