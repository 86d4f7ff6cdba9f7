from __future__ import annotations

from typing import Any

import pytest

from reconcile.conditions import find_condition, is_true, remove_condition, set_condition


def test_transition_time_changes_only_with_status() -> None:
    conditions: list[dict[str, Any]] = []
    assert set_condition(conditions, "Ready", "False", "Starting", now="t1", observed_generation=1)
    assert not set_condition(
        conditions, "Ready", "False", "Starting", now="t2", observed_generation=1
    )
    assert set_condition(
        conditions, "Ready", "False", "Waiting", "pods pending", now="t3", observed_generation=2
    )
    assert find_condition(conditions, "Ready")["lastTransitionTime"] == "t1"  # type: ignore[index]
    assert set_condition(conditions, "Ready", "True", "Running", now="t4", observed_generation=2)
    ready = find_condition(conditions, "Ready")
    assert (
        ready is not None
        and ready["lastTransitionTime"] == "t4"
        and ready["observedGeneration"] == 2
    )
    assert is_true(conditions, "Ready")
    assert remove_condition(conditions, "Ready") and conditions == []


def test_invalid_status_is_rejected() -> None:
    with pytest.raises(ValueError, match="True, False or Unknown"):
        set_condition([], "Ready", "yes", "Reason")
