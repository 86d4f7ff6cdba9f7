"""The ``restarts:`` config section: defaults, the old inspection's shape, clear errors."""

from __future__ import annotations

from typing import Any

import pytest

from controllers.restarts import parse_config
from controllers.restarts.options import (
    DEFAULT_RETENTION,
    InspectionOptions,
    InspectionTarget,
    parse_duration,
)


def test_empty_section_gives_the_documented_defaults() -> None:
    options = parse_config({})
    assert options.retention == DEFAULT_RETENTION == 7 * 86400
    assert options.history_limit == 20
    assert options.restart_event_metric is False and options.workers == 8
    assert options.inspection == InspectionOptions()
    assert options.inspection.window == 1800 and options.inspection.targets == ()


@pytest.mark.parametrize(
    ("text", "seconds"),
    [
        ("45s", 45),
        ("30m", 1800),
        ("1h30m", 5400),
        ("7d", 604800),
        (90, 90),
        (0.5, 0.5),
        ("1.5s", 1.5),
    ],
)
def test_durations(text: Any, seconds: float) -> None:
    assert parse_duration(text, "x") == seconds


def test_the_old_inspection_shape_with_one_name_or_a_list() -> None:
    options = parse_config(
        {
            "retention": "2d",
            "inspection": {
                "targets": [
                    {"cluster_name": "prod", "namespace": "payments"},
                    {"cluster_name": "stage", "namespace": ["orders", "team-*"]},
                ],
                "exclude": ["team-secret"],
                "window": "10m",
                "silence": "2h",
            },
        }
    )
    inspection = options.inspection
    assert options.retention == 2 * 86400
    assert inspection.targets == (
        InspectionTarget(cluster_name="prod", namespaces=("payments",)),
        InspectionTarget(cluster_name="stage", namespaces=("orders", "team-*")),
    )
    assert inspection.window == 600 and inspection.silence == 7200
    assert inspection.cluster_for("payments") == "prod"
    assert inspection.cluster_for("team-a") == "stage"
    assert inspection.cluster_for("team-secret") is None, "exclude wins"
    assert inspection.cluster_for("other") is None


def test_include_restricts_the_targets() -> None:
    inspection = parse_config(
        {"inspection": {"targets": [{"cluster_name": "c", "namespace": "*"}], "include": ["a-*"]}}
    ).inspection
    assert inspection.cluster_for("a-1") == "c"
    assert inspection.cluster_for("b-1") is None


@pytest.mark.parametrize(
    ("section", "message"),
    [
        pytest.param(
            {"retension": "1d"}, "unknown setting(s) retension; settings are: retention", id="typo"
        ),
        pytest.param(
            {"retention": "soon"}, "retention: cannot read 'soon' as a duration", id="bad-duration"
        ),
        pytest.param({"retention": 0}, "retention: must be longer than 0", id="zero"),
        pytest.param(
            {"historyLimit": 33},
            "historyLimit: must be an integer from 1 to 32",
            id="history-too-long",
        ),
        pytest.param(
            {"restartEventMetric": "yes"},
            "restartEventMetric: must be true or false",
            id="not-bool",
        ),
        pytest.param({"inspection": []}, "inspection: must be a mapping", id="inspection-not-map"),
        pytest.param(
            {"inspection": {"targets": {"a": 1}}},
            "inspection.targets: must be a list",
            id="targets-not-list",
        ),
        pytest.param(
            {"inspection": {"targets": [{"namespace": "a"}]}},
            "inspection.targets[0].cluster_name: must be a name",
            id="no-cluster-name",
        ),
        pytest.param(
            {"inspection": {"targets": [{"cluster_name": "c", "namespace": 3}]}},
            "inspection.targets[0].namespace: must be a namespace name or a list",
            id="bad-namespace",
        ),
        pytest.param(
            {"inspection": {"targets": [{"cluster_name": "c", "namespaces": ["a"]}]}},
            "inspection.targets[0]: unknown setting(s) namespaces",
            id="plural-typo",
        ),
        pytest.param(
            {"inspection": {"ratioThreshold": 1.5}},
            "inspection.ratioThreshold: must be a number from 0 to 1",
            id="ratio",
        ),
        pytest.param(
            {"inspection": {"exclude": [1]}}, "inspection.exclude: must be a list", id="exclude"
        ),
    ],
)
def test_mistakes_name_the_field(section: dict[str, Any], message: str) -> None:
    with pytest.raises(ValueError) as raised:
        parse_config(section)
    assert message in str(raised.value)
