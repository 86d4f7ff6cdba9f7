from __future__ import annotations

from typing import Any

import pytest

from reconcile.errors import (
    AlreadyExists,
    ApiError,
    Conflict,
    Gone,
    Invalid,
    NotFound,
    TooManyRequests,
)


def _status(code: int, reason: str, **details: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "kind": "Status",
        "apiVersion": "v1",
        "status": "Failure",
        "message": f"{reason} happened",
        "reason": reason,
        "code": code,
    }
    if details:
        body["details"] = details
    return body


@pytest.mark.parametrize(
    ("code", "reason", "expected"),
    [
        pytest.param(404, "NotFound", NotFound, id="not-found"),
        pytest.param(409, "AlreadyExists", AlreadyExists, id="already-exists-by-reason"),
        pytest.param(409, "Conflict", Conflict, id="conflict"),
        pytest.param(410, "Expired", Gone, id="expired-is-gone"),
        pytest.param(422, "Invalid", Invalid, id="invalid"),
        pytest.param(404, "", NotFound, id="code-when-reason-missing"),
        pytest.param(418, "Teapot", ApiError, id="unknown-falls-back-to-base"),
    ],
)
def test_from_status_picks_most_specific_class(
    code: int, reason: str, expected: type[ApiError]
) -> None:
    error = ApiError.from_status(_status(code, reason))
    assert type(error) is expected
    assert error.code == code
    assert error.message == f"{reason} happened"


def test_already_exists_is_a_conflict() -> None:
    assert isinstance(ApiError.from_status(_status(409, "AlreadyExists")), Conflict)


def test_invalid_exposes_field_causes() -> None:
    causes = [{"reason": "FieldValueRequired", "message": "Required value", "field": "spec.slots"}]
    error = ApiError.from_status(_status(422, "Invalid", causes=causes))
    assert [c.field for c in error.causes] == ["spec.slots"]
    assert error.causes[0].reason == "FieldValueRequired"


def test_too_many_requests_reports_retry_after() -> None:
    error = ApiError.from_status(_status(429, "TooManyRequests", retryAfterSeconds=3))
    assert isinstance(error, TooManyRequests)
    assert error.retry_after == 3.0
