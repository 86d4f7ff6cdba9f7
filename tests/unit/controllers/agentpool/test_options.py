"""The agentpool: section of the operators' config file."""

from __future__ import annotations

from typing import Any

import pytest

from controllers.agentpool.options import AgentPoolOptions, parse_config


def test_defaults_and_values() -> None:
    assert parse_config({}) == AgentPoolOptions()
    assert parse_config({"maxConcurrentReconciles": 4, "resyncSeconds": 30}) == AgentPoolOptions(
        max_concurrent_reconciles=4, resync_seconds=30.0
    )


@pytest.mark.parametrize(
    ("section", "message"),
    [
        pytest.param(
            {"resync": 5}, "unknown key.s. resync; known: maxConcurrentReconciles", id="typo"
        ),
        pytest.param({"resyncSeconds": "5m"}, "resyncSeconds: must be a number", id="text"),
        pytest.param({"resyncSeconds": True}, "resyncSeconds: must be a number", id="bool"),
        pytest.param({"resyncSeconds": 0}, "resyncSeconds must be > 0", id="zero"),
        pytest.param(
            {"maxConcurrentReconciles": 1.5}, "maxConcurrentReconciles: must be a whole", id="half"
        ),
        pytest.param(
            {"maxConcurrentReconciles": 0}, "maxConcurrentReconciles must be >= 1", id="none"
        ),
    ],
)
def test_bad_values_name_the_key(section: dict[str, Any], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        parse_config(section)
