"""Which failures reads and writes retry, and how long they wait."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from reconcile.client.retry import (
    is_safe_to_repeat_write,
    is_transient,
    retry_on_conflict,
    with_read_retries,
    with_write_retries,
)
from reconcile.errors import (
    ApiError,
    Conflict,
    InternalError,
    NotFound,
    ServerTimeout,
    ServerUnreachable,
    ServiceUnavailable,
    TooManyRequests,
)


def _throttled(seconds: int) -> TooManyRequests:
    return TooManyRequests("slow down", status={"details": {"retryAfterSeconds": seconds}})


@pytest.mark.parametrize(
    ("error", "read", "write"),
    [
        pytest.param(_throttled(0), True, True, id="429"),
        pytest.param(ServerUnreachable("refused"), True, True, id="not-connected"),
        pytest.param(InternalError("boom"), True, False, id="500"),
        pytest.param(ServiceUnavailable("cut mid-request"), True, False, id="503-or-broken"),
        pytest.param(ServerTimeout("gave up"), True, False, id="504"),
        pytest.param(NotFound("gone"), False, False, id="404"),
        pytest.param(Conflict("stale"), False, False, id="409"),
        pytest.param(ValueError("bug"), False, False, id="not-an-api-error"),
    ],
)
def test_what_each_verb_may_retry(error: Exception, read: bool, write: bool) -> None:
    assert is_transient(error) is read
    assert is_safe_to_repeat_write(error) is write


def _failing(errors: list[Exception]) -> Callable[[], str]:
    calls = iter(errors)

    def call() -> str:
        error = next(calls, None)
        if error is not None:
            raise error
        return "ok"

    return call


def test_write_retries_throttling_and_reports_the_wait() -> None:
    waits: list[float] = []
    result = with_write_retries(
        _failing([_throttled(0), ServerUnreachable("refused")]),
        on_throttled=lambda error, delay: waits.append(delay),
    )
    assert result == "ok"
    assert waits == [0.0], "Retry-After: 0 is honoured as is, and only 429 is reported"


def test_write_does_not_retry_a_500() -> None:
    call = _failing([InternalError("boom")])
    with pytest.raises(InternalError):
        with_write_retries(call)
    assert call() == "ok", "exactly one attempt was made"


def test_read_retries_server_errors() -> None:
    assert with_read_retries(_failing([InternalError("a"), ServerTimeout("b")])) == "ok"


def test_retry_after_is_capped(monkeypatch: pytest.MonkeyPatch) -> None:
    waits: list[float] = []
    monkeypatch.setattr("tenacity.nap.time.sleep", lambda seconds: None)
    with_read_retries(_failing([_throttled(3600)]), on_throttled=lambda e, d: waits.append(d))
    assert waits == [30.0]


def test_retries_stop_at_the_deadline() -> None:
    with pytest.raises(InternalError):
        with_read_retries(_failing([InternalError("x")] * 1000), deadline=0.0)


def test_retry_on_conflict_runs_again_then_gives_up() -> None:
    assert retry_on_conflict(_failing([Conflict("a"), Conflict("b")])) == "ok"
    with pytest.raises(Conflict):
        retry_on_conflict(_failing([Conflict("x")] * 10), attempts=3)
    with pytest.raises(ApiError):
        retry_on_conflict(_failing([NotFound("not a conflict")]))
