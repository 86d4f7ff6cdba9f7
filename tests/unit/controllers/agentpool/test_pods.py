"""Agent pods: built from the template, named stably, their state read from their status."""

from __future__ import annotations

from typing import Any

import pytest

from controllers.agentpool.pods import (
    build_pod,
    free_names,
    is_controlled_by,
    observed_state,
    ordinal,
)
from tests.unit.controllers.agentpool.builders import pod, pool


@pytest.mark.parametrize(
    ("observed", "previous", "expected"),
    [
        pytest.param(pod("a", "Pending", None), None, "Starting", id="pending"),
        pytest.param(pod("a", "Running", "False"), None, "Starting", id="running-not-yet-ready"),
        pytest.param(pod("a"), "Starting", "Ready", id="ready"),
        pytest.param(pod("a", "Running", "False"), "Ready", "NotReady", id="was-ready"),
        pytest.param(pod("a", "Running", "False"), "Unknown", "NotReady", id="back-from-unknown"),
        pytest.param(pod("a", "Running", "Unknown"), "Ready", "Unknown", id="node-lost"),
        pytest.param(pod("a", "Unknown", None), "Ready", "Unknown", id="phase-unknown"),
        pytest.param(pod("a", "Failed", "False"), "Ready", "Failed", id="failed"),
        pytest.param(pod("a", "Succeeded", "False"), "Ready", "Failed", id="ended"),
        pytest.param(pod("a", deleting=True), "Ready", "Terminating", id="deleted-by-someone"),
        pytest.param(pod("a", deleting=True), "Removing", "Removing", id="removing-is-sticky"),
        pytest.param(pod("a"), "Removing", "Removing", id="removing-even-if-ready"),
    ],
)
def test_observed_state(observed: dict[str, Any], previous: str | None, expected: str) -> None:
    assert observed_state(observed, previous) == expected


def test_a_pod_is_built_from_the_template_and_owned_by_its_pool() -> None:
    owner = pool("ci")
    owner["spec"]["template"] = {
        "metadata": {
            "labels": {"team": "infra", "kreconcile.io/agentpool": "spoofed"},
            "annotations": {"note": "hi"},
        },
        "spec": {"containers": [{"name": "agent", "image": "busybox"}]},
    }
    built = build_pod(owner, "ci-4")
    assert built["metadata"]["name"] == "ci-4"
    assert built["metadata"]["namespace"] == "ns"
    assert built["metadata"]["labels"] == {
        "team": "infra",
        "kreconcile.io/agentpool": "ci",
        "app.kubernetes.io/managed-by": "kreconcile",
    }
    assert built["metadata"]["annotations"] == {"note": "hi"}
    assert built["spec"] == owner["spec"]["template"]["spec"]
    assert built["spec"] is not owner["spec"]["template"]["spec"]
    (reference,) = built["metadata"]["ownerReferences"]
    assert reference == {
        "apiVersion": "kreconcile.io/v1alpha1",
        "kind": "AgentPool",
        "name": "ci",
        "uid": "pool-uid",
        "controller": True,
        "blockOwnerDeletion": True,
    }
    assert is_controlled_by(built, owner)
    assert not is_controlled_by(pod("ci-4"), owner)


def test_names_take_the_lowest_free_ordinals() -> None:
    assert free_names("ci", {"ci-0", "ci-2"}, 3) == ["ci-1", "ci-3", "ci-4"]
    assert ordinal("ci", "ci-12") == 12
    assert ordinal("ci", "ci-x") == -1
    assert ordinal("ci", "cj-1") == -1
