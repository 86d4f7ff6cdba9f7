"""Go-decoder type checks of built-in objects against the published 1.32 schemas."""

from __future__ import annotations

from typing import Any

import pytest

from reconcile.apiserver.builtin_schemas import schema_for
from reconcile.apiserver.typecheck import check


def _deployment(**spec: Any) -> dict[str, Any]:
    return {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "d"}, "spec": spec}


@pytest.mark.parametrize(
    ("obj", "message"),
    [
        pytest.param(_deployment(replicas="two"), "cannot unmarshal string into Go struct field "
                     "Deployment.spec.replicas of type int32", id="string-for-int32"),
        pytest.param(_deployment(paused="yes"), "Deployment.spec.paused of type bool",
                     id="string-for-bool"),
        pytest.param(_deployment(template={"spec": {"containers": {}}}),
                     "cannot unmarshal object into Go struct field "
                     "Deployment.spec.template.spec.containers of type slice", id="object-for-list"),
        pytest.param(_deployment(strategy={"rollingUpdate": {"maxSurge": True}}),
                     "Deployment.spec.strategy.rollingUpdate.maxSurge", id="bool-for-int-or-string"),
    ],
)  # fmt: skip
def test_wrong_types_are_reported_like_go(obj: dict[str, Any], message: str) -> None:
    schema = schema_for("apps", "v1", "Deployment")
    assert schema is not None
    mismatches = [m for m in check(obj, schema) if not m.required]
    assert [m.message for m in mismatches if message in m.message], mismatches


def test_required_fields_outside_status_are_reported() -> None:
    schema = schema_for("apps", "v1", "Deployment")
    assert schema is not None
    missing = {m.path for m in check(_deployment(), schema) if m.required}
    assert missing == {"spec.selector", "spec.template"}


@pytest.mark.parametrize(
    ("stamp", "normalised", "micro"),
    [
        pytest.param("2026-01-02T03:04:05.678Z", "2026-01-02T03:04:05Z",
                     "2026-01-02T03:04:05.678000Z", id="fraction"),
        pytest.param("2026-01-02T05:04:05+02:00", "2026-01-02T03:04:05Z",
                     "2026-01-02T03:04:05.000000Z", id="offset-to-utc"),
    ],
)  # fmt: skip
def test_times_are_normalised_as_go_encodes_them(stamp: str, normalised: str, micro: str) -> None:
    schema = schema_for("coordination.k8s.io", "v1", "Lease")
    assert schema is not None
    lease: dict[str, Any] = {
        "metadata": {"name": "l"},
        "spec": {"renewTime": stamp, "leaseDurationSeconds": 15.0},
    }
    assert check(lease, schema) == []
    spec = lease["spec"]
    assert spec["renewTime"] == micro
    assert spec["leaseDurationSeconds"] == 15 and isinstance(spec["leaseDurationSeconds"], int)
    event_schema = schema_for("", "v1", "Event")
    assert event_schema is not None
    event: dict[str, Any] = {
        "metadata": {"name": "e"},
        "involvedObject": {},
        "lastTimestamp": stamp,
    }
    check(event, event_schema)
    assert event["lastTimestamp"] == normalised


def test_unparseable_time_is_a_decode_error() -> None:
    schema = schema_for("", "v1", "Event")
    assert schema is not None
    event = {"metadata": {"name": "e"}, "involvedObject": {}, "lastTimestamp": "yesterday"}
    assert any('parsing time "yesterday"' in m.message for m in check(event, schema))
