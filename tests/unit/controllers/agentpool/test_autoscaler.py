"""Desired replicas and the scale-down choice."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from controllers.agentpool.autoscaler import ScaleDecision, Scaling, decide, desired_replicas
from tests.unit.controllers.agentpool.builders import NOW, at, entry, idle, reserved, running


def _scaling(**fields: Any) -> Scaling:
    return Scaling(**{"min_replicas": 1, "max_replicas": 10, "slots_per_agent": 3, **fields})


@pytest.mark.parametrize(
    ("scaling", "pods", "pending", "expected"),
    [
        pytest.param(_scaling(), [], 0, (1, 1), id="idle-pool-keeps-min"),
        pytest.param(_scaling(min_replicas=0), [], 0, (0, 0), id="min-zero-scales-to-zero"),
        pytest.param(_scaling(), [], 7, (3, 3), id="pending-rounds-up-to-whole-agents"),
        pytest.param(
            _scaling(),
            [entry("a", running(0, "x"), reserved(1, "y"), idle(2))],
            2,
            (2, 2),
            id="running-reserved-and-pending-all-count",
        ),
        pytest.param(_scaling(max_replicas=2), [], 9, (2, 3), id="capped-at-max"),
        pytest.param(_scaling(replicas=4), [], 0, (4, 4), id="spec-replicas-floor"),
        pytest.param(_scaling(min_replicas=5, replicas=2), [], 0, (5, 5), id="min-above-replicas"),
        pytest.param(
            _scaling(min_replicas=0),
            [entry("a", running(0, "x"), idle(1), idle(2), state="NotReady")],
            1,
            (2, 2),
            id="a-sick-pod-keeps-its-task-and-new-work-needs-another",
        ),
    ],
)
def test_desired_replicas(
    scaling: Scaling, pods: list[dict[str, Any]], pending: int, expected: tuple[int, int]
) -> None:
    assert desired_replicas(scaling, pods, pending) == expected


@pytest.mark.parametrize(
    ("pods", "desired", "expected"),
    [
        pytest.param([entry("p-0", idle(0))], 3, ScaleDecision(create=2), id="up-at-once"),
        pytest.param([entry("p-0", idle(0), idle_since=at(-100))], 1, ScaleDecision(), id="even"),
        pytest.param(
            [entry("p-0", idle(0), state="Removing"), entry("p-1", idle(0), state="Failed")],
            1,
            ScaleDecision(create=1),
            id="leaving-pods-do-not-count",
        ),
        pytest.param(
            [entry("p-0", idle(0), idle_since=at(-61)), entry("p-1", idle(0), idle_since=at(-61))],
            0,
            ScaleDecision(remove=("p-1", "p-0")),
            id="equal-idle-time-highest-ordinal-first",
        ),
        pytest.param(
            [entry("p-0", idle(0), idle_since=at(-60))],
            0,
            ScaleDecision(next_check=NOW + dt.timedelta(seconds=1)),
            id="the-window-is-never-cut-short-by-whole-second-times",
        ),
        pytest.param(
            [entry("p-0", reserved(0, "x")), entry("p-1", idle(0), state="Unknown")],
            0,
            ScaleDecision(),
            id="nothing-removable",
        ),
    ],
)
def test_decide(pods: list[dict[str, Any]], desired: int, expected: ScaleDecision) -> None:
    scaling = _scaling(min_replicas=0, stabilization_seconds=60)
    assert decide(scaling, pods, desired, NOW, "p") == expected
