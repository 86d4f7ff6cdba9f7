"""Retrying API calls: on write conflicts (re-read and retry) and on transient failures.

``retry_on_conflict`` is client-go's ``RetryOnConflict``: the function must re-read the
object each attempt, apply its change and write; a 409 runs it again after a short backoff.

Which failures may be retried depends on the verb:

- a *read* retries every transient failure (``is_transient``): throttling (429), server
  errors (500/503/504) and an unreachable API server; repeating a read changes nothing;
- a *write* retries only when the server guarantees it did nothing
  (``is_safe_to_repeat_write``): a 429, which the server (or its flow control) answers
  before handling the request, and a connection that could not be opened, so nothing was
  sent. After a 500, a 504 or a connection cut mid-request the write may have been applied:
  repeating a POST could create twice, so the error goes to the caller.

Both honour ``Retry-After`` on a 429 (at most 30 s) and report each throttled wait to
``on_throttled(error, seconds)``; the client logs those at most once per interval.
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
    ServerUnreachable,
    ServiceUnavailable,
    TooManyRequests,
)

__all__ = [
    "DEFAULT_CONFLICT_ATTEMPTS",
    "MAX_RETRY_AFTER",
    "OnThrottled",
    "is_safe_to_repeat_write",
    "is_transient",
    "retry_on_conflict",
    "with_read_retries",
    "with_write_retries",
]

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


def is_safe_to_repeat_write(error: BaseException) -> bool:
    """Failures after which the server certainly did not apply a write."""
    return isinstance(error, TooManyRequests | ServerUnreachable)


OnThrottled = Callable[[TooManyRequests, float], None]
"""Told the error and the seconds the caller will wait before retrying a throttled call."""

MAX_RETRY_AFTER = 30.0
"""Longest Retry-After honoured, in seconds, so a confused server cannot park a worker."""

_BACKOFF = wait_exponential(multiplier=0.05, max=5.0) + wait_random(0, 0.05)


def _wait(on_throttled: OnThrottled | None) -> Callable[[RetryCallState], float]:
    def wait(state: RetryCallState) -> float:
        error = state.outcome.exception() if state.outcome is not None else None
        delay = float(_BACKOFF(state))
        if isinstance(error, TooManyRequests):
            if error.retry_after is not None:
                delay = min(error.retry_after, MAX_RETRY_AFTER)
            if on_throttled is not None:
                on_throttled(error, delay)
        return delay

    return wait


def _retrying(
    fn: Callable[[], T],
    retryable: Callable[[BaseException], bool],
    deadline: float,
    on_throttled: OnThrottled | None,
) -> T:
    for attempt in Retrying(
        retry=retry_if_exception(retryable),
        stop=stop_after_delay(deadline),
        wait=_wait(on_throttled),
        reraise=True,
    ):
        with attempt:
            return fn()
    raise AssertionError("unreachable: tenacity either returns or reraises")


def with_read_retries(
    fn: Callable[[], T], *, deadline: float = 30.0, on_throttled: OnThrottled | None = None
) -> T:
    """Run a read, retrying transient failures with backoff for up to ``deadline`` seconds."""
    return _retrying(fn, is_transient, deadline, on_throttled)


def with_write_retries(
    fn: Callable[[], T], *, deadline: float = 30.0, on_throttled: OnThrottled | None = None
) -> T:
    """Run a write, retrying only failures that guarantee it was not applied."""
    return _retrying(fn, is_safe_to_repeat_write, deadline, on_throttled)
