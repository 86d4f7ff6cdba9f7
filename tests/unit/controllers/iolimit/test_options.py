"""The iolimit section of the operators' config file."""

from __future__ import annotations

from typing import Any

import pytest

from controllers.iolimit.options import IOLimitConfig, MigrationConfig, parse_config


def test_defaults() -> None:
    config = parse_config({})
    assert config == IOLimitConfig()
    assert (config.sampling_interval, config.report_interval, config.stale_after) == (
        10.0,
        60.0,
        180.0,
    )
    assert config.migration == MigrationConfig(enabled=True, annotation_prefix="kubediskguard.io")


def test_every_key() -> None:
    config = parse_config(
        {"samplingInterval": "5s", "reportInterval": "1m30s", "staleAfter": 600,
         "devices": ["8:0", "259:0"],
         "migration": {"enabled": False, "annotationPrefix": "guard.example.com"}}
    )  # fmt: skip
    assert (config.sampling_interval, config.report_interval, config.stale_after) == (
        5.0,
        90.0,
        600.0,
    )
    assert config.devices == ("8:0", "259:0")
    assert config.migration == MigrationConfig(enabled=False, annotation_prefix="guard.example.com")


@pytest.mark.parametrize(
    ("section", "message"),
    [
        pytest.param({"sampling": "5s"}, "unknown key(s) sampling; known:", id="unknown-key"),
        pytest.param({"samplingInterval": "soon"}, "samplingInterval: expected a duration",
                     id="bad-duration"),
        pytest.param({"samplingInterval": 0}, "samplingInterval: must be longer than 0s",
                     id="zero"),
        pytest.param({"samplingInterval": "2m"}, "reportInterval (60s) must not be shorter",
                     id="report-shorter-than-sampling"),
        pytest.param({"staleAfter": "30s"}, "staleAfter (30s) must be longer than reportInterval",
                     id="stale-shorter-than-report"),
        pytest.param({"devices": ["sda"]}, "devices: 'sda' is not MAJ:MIN", id="device-name"),
        pytest.param({"devices": "8:0"}, "devices: expected a list", id="device-not-list"),
        pytest.param({"migration": {"prefix": "x"}}, "migration: unknown key(s) prefix",
                     id="migration-key"),
        pytest.param({"migration": {"annotationPrefix": "Not_A_Domain"}},
                     "migration.annotationPrefix: 'Not_A_Domain' is not a DNS subdomain",
                     id="bad-prefix"),
        pytest.param({"migration": {"enabled": "yes"}}, "migration.enabled: expected true",
                     id="bad-flag"),
    ],
)  # fmt: skip
def test_mistakes_name_the_key(section: dict[str, Any], message: str) -> None:
    with pytest.raises(ValueError) as raised:
        parse_config(section)
    assert message in str(raised.value)
