"""The AgentPool webhook refuses exactly the spec changes that would strand a busy slot."""

from __future__ import annotations

from typing import Any

import pytest

from controllers.agentpool.webhook import AgentPoolValidator, stranding_errors
from reconcile.errors import Invalid


def _pool(
    slots: int = 3, maximum: int = 10, busy: dict[str, list[tuple[int, str]]] | None = None
) -> dict[str, Any]:
    pods = [
        {"name": pod, "slots": [{"index": i, "state": state, "task": f"{pod}-{i}"}
                                if state != "Idle" else {"index": i, "state": "Idle"}
                                for i, state in entries]}
        for pod, entries in (busy or {}).items()
    ]  # fmt: skip
    return {
        "metadata": {"name": "ci"},
        "spec": {"slotsPerAgent": slots, "maxReplicas": maximum, "minReplicas": 1},
        "status": {"pods": pods},
    }


BUSY_TWO = {"p0": [(0, "Running"), (1, "Reserved"), (2, "Idle")], "p1": [(0, "Running")]}


@pytest.mark.parametrize(
    ("old", "new", "fields"),
    [
        pytest.param(_pool(3, busy=BUSY_TWO), _pool(2, busy=BUSY_TWO), [], id="slots-above-busy-ok"),
        pytest.param(_pool(3, busy=BUSY_TWO), _pool(1, busy=BUSY_TWO), ["spec.slotsPerAgent"],
                     id="slot-1-reserved"),
        pytest.param(_pool(3, 10, busy=BUSY_TWO), _pool(3, 2, busy=BUSY_TWO), [], id="max-at-busy-pods"),
        pytest.param(_pool(3, 10, busy=BUSY_TWO), _pool(3, 1, busy=BUSY_TWO), ["spec.maxReplicas"],
                     id="max-below-busy-pods"),
        pytest.param(_pool(3, 10, busy=BUSY_TWO), _pool(1, 1, busy=BUSY_TWO),
                     ["spec.slotsPerAgent", "spec.maxReplicas"], id="both"),
        pytest.param(_pool(3, 1, busy=BUSY_TWO), _pool(3, 1, busy=BUSY_TWO), [],
                     id="unchanged-is-never-refused"),
        pytest.param(_pool(1, 1, busy=BUSY_TWO), _pool(3, 5, busy=BUSY_TWO), [], id="raising-ok"),
        pytest.param(_pool(3, 10, busy={"p0": [(2, "Idle")]}), _pool(1, 1, busy={"p0": [(2, "Idle")]}), [],
                     id="idle-slots-strand-nothing"),
    ],
)  # fmt: skip
def test_stranding_errors(old: dict[str, Any], new: dict[str, Any], fields: list[str]) -> None:
    assert [e.field for e in stranding_errors(old, new)] == fields


def test_refusal_names_the_busy_pods_and_slots() -> None:
    with pytest.raises(Invalid) as error:
        AgentPoolValidator().validate_update(
            _pool(3, 10, busy=BUSY_TWO), _pool(1, 1, busy=BUSY_TWO)
        )
    assert error.value.code == 422
    message = error.value.message
    assert message.startswith('AgentPool.kreconcile.io "ci" is invalid: [spec.slotsPerAgent')
    assert "would strand p0 slot 1 (Reserved by p0-1)" in message
    assert "the busy slots of 2 pods (p0, p1)" in message
    AgentPoolValidator().validate_create(_pool())  # creates strand nothing: no exception
