"""Server warnings: parsed from Warning headers, each distinct text logged once."""

from __future__ import annotations

import logging

import pytest

from reconcile.client.warnings import WarningLogger, parse_warnings


@pytest.mark.parametrize(
    ("values", "texts"),
    [
        pytest.param(
            ['299 - "unknown field \\"spec.x\\""'], ['unknown field "spec.x"'], id="escaped"
        ),
        pytest.param(['299 - "a", 299 - "b"'], ["a", "b"], id="two-in-one-header"),
        pytest.param(['299 - "a"', '299 - "b"'], ["a", "b"], id="two-headers"),
        pytest.param(['299 - "dated" "Wed, 21 Oct 2015 07:28:00 GMT"'], ["dated"], id="with-date"),
        pytest.param(["garbage"], [], id="unparsable"),
    ],
)
def test_parse_warnings(values: list[str], texts: list[str]) -> None:
    assert parse_warnings(values) == texts


def test_each_distinct_text_is_logged_once(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.WARNING, logger="reconcile.client.warnings")
    handler = WarningLogger()
    handler.handle(["deprecated API", "unknown field"])
    handler.handle(["deprecated API"])
    handler.handle(["unknown field", "new text"])
    logged = [r.__dict__["warning"] for r in caplog.records]
    assert logged == ["deprecated API", "unknown field", "new text"]


def test_memory_is_bounded_and_a_forgotten_text_is_logged_again() -> None:
    handler = WarningLogger(max_remembered=2)
    handler.handle(["a", "b", "c"])
    handler.handle(["c"])
    assert handler.logged == 3
    handler.handle(["a"])
    assert handler.logged == 4, "a was forgotten (least recently seen), so it is logged again"


def test_suppress_and_no_deduplication() -> None:
    quiet = WarningLogger(suppress=True)
    quiet.handle(["a", "a"])
    assert quiet.logged == 0
    every = WarningLogger(deduplicate=False)
    every.handle(["a", "a"])
    assert every.logged == 2
