"""Reading the replaced service's annotations: valid ones, malformed ones, the import mark."""

from __future__ import annotations

import pytest

from controllers.iolimit.migration import (
    MARKER_ANNOTATION,
    MalformedAnnotations,
    fingerprint,
    has_old_annotations,
    is_imported,
    read_old_throttle,
)
from controllers.iolimit.rules import Limits

P = "kubediskguard.io"


def _old(**values: str) -> dict[str, str]:
    return {f"{P}/{k.replace('_', '-')}": v for k, v in values.items()}


VALID = _old(
    triggered_by="15m",
    trigger_reason="15m window [ReadIOPS:0.65,WriteIOPS:0.58]",
    read_iops_limit="300",
    write_iops_limit="300",
    read_bps_limit="0",
)


def test_valid_throttle() -> None:
    old = read_old_throttle(VALID, P)
    assert (old.window, old.reason, old.limits, old.removed) == (
        "15m",
        "15m window [ReadIOPS:0.65,WriteIOPS:0.58]",
        Limits(read_iops=300, write_iops=300),
        False,
    )


def test_removed_throttle() -> None:
    old = read_old_throttle(
        {
            **VALID,
            **_old(
                limit_removed="true",
                removed_at="2024-01-15T10:30:00Z",
                removed_reason="IO recovered",
            ),
        },
        P,
    )
    assert (old.removed, old.removed_at, old.removed_reason) == (
        True,
        "2024-01-15T10:30:00Z",
        "IO recovered",
    )


@pytest.mark.parametrize(
    ("annotations", "message"),
    [
        pytest.param(_old(triggered_by="5m", read_iops_limit="1"),
                     "kubediskguard.io/triggered-by: '5m' is not a window", id="unknown-window"),
        pytest.param(_old(read_iops_limit="1"), "triggered-by: None is not a window",
                     id="no-window"),
        pytest.param(_old(triggered_by="15m", read_iops_limit="-3"),
                     "read-iops-limit: '-3' is not a non-negative integer", id="negative-limit"),
        pytest.param(_old(triggered_by="15m", write_bps_limit="lots"),
                     "write-bps-limit: 'lots' is not", id="not-a-number"),
        pytest.param(_old(triggered_by="15m", read_iops_limit="0"), "no limit: none of",
                     id="no-limit-above-zero"),
        pytest.param({**VALID, **_old(limit_removed="yes")}, "limit-removed: 'yes' is not true",
                     id="bad-flag"),
        pytest.param({**VALID, **_old(limit_removed="true", removed_at="last week")},
                     "removed-at: 'last week' is not an RFC 3339 time", id="bad-time"),
    ],
)  # fmt: skip
def test_malformed_annotations_say_which_and_why(annotations: dict[str, str], message: str) -> None:
    with pytest.raises(MalformedAnnotations, match=message.replace("[", r"\[")):
        read_old_throttle(annotations, P)


def test_prefix_is_configurable() -> None:
    custom = {k.replace(P, "guard.example.com"): v for k, v in VALID.items()}
    assert not has_old_annotations(custom, P)
    assert read_old_throttle(custom, "guard.example.com").limits == Limits(300, 300)


def test_mark_matches_only_the_annotations_it_was_made_from() -> None:
    assert has_old_annotations(VALID, P) and not is_imported(VALID, P)
    marked = {**VALID, MARKER_ANNOTATION: fingerprint(VALID, P)}
    assert is_imported(marked, P)
    changed = {**marked, **_old(write_iops_limit="100")}
    assert not is_imported(changed, P)
    assert fingerprint({**VALID, "unrelated": "x"}, P) == fingerprint(VALID, P)
