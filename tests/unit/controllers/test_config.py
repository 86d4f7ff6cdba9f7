"""The operators' config file: sections validated by each operator, reloaded per section."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pytest

from controllers.config import ConfigSource, parse_sections
from controllers.operators import Operator
from reconcile.errors import ConfigError


def _retention(section: Mapping[str, Any]) -> int:
    value = section.get("retentionHours", 168)
    if not isinstance(value, int) or value <= 0:
        raise ValueError(f"retentionHours: must be a positive integer, got {value!r}")
    return value


OPERATORS = [
    Operator(name="restarts", setup=lambda m, o: None, parse_config=_retention),
    Operator(name="agentpool", setup=lambda m, o: None),
]


@pytest.mark.parametrize(
    ("text", "message"),
    [
        pytest.param("restart: {}\n", r"unknown section\(s\) restart; sections are", id="typo"),
        pytest.param("- a\n- b\n", "must map operator names to their settings", id="a-list"),
        pytest.param("restarts: [1]\n", "restarts: must be a mapping", id="section-not-map"),
        pytest.param(
            "restarts: {retentionHours: -1}\n",
            "restarts: retentionHours: must be a positive integer, got -1",
            id="operator-rejects",
        ),
        pytest.param("agentpool: {x: 1}\n", "agentpool: this operator takes no", id="no-config"),
    ],
)
def test_invalid_files_name_the_problem(text: str, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        parse_sections(text.encode(), OPERATORS)


def test_empty_file_gives_every_operator_its_defaults() -> None:
    assert parse_sections(b"", OPERATORS) == {"restarts": 168, "agentpool": {}}
    assert parse_sections(b"# only a comment\n", OPERATORS) == {"restarts": 168, "agentpool": {}}


def test_without_a_file_sections_are_defaults() -> None:
    source = ConfigSource(OPERATORS)
    assert source.watcher is None
    assert source.section("restarts").current == 168
    with pytest.raises(KeyError, match="no config section 'iolimit'"):
        source.section("iolimit")


def test_bad_file_at_start_is_fatal_with_the_path(tmp_path: Path) -> None:
    path = tmp_path / "operators.yaml"
    path.write_text("restarts: {retentionHours: 0}\n")
    with pytest.raises(ConfigError, match=rf"{path} is invalid: restarts: retentionHours"):
        ConfigSource(OPERATORS, path)


def test_reload_notifies_only_changed_sections_and_keeps_last_good(tmp_path: Path) -> None:
    path = tmp_path / "operators.yaml"
    path.write_text("restarts: {retentionHours: 24}\n")
    source = ConfigSource(OPERATORS, path)
    restarts, agentpool = source.section("restarts"), source.section("agentpool")
    seen: list[tuple[str, object]] = []
    restarts.subscribe(lambda value: seen.append(("restarts", value)))
    agentpool.subscribe(lambda value: seen.append(("agentpool", value)))
    assert restarts.current == 24
    assert source.watcher is not None

    path.write_text("restarts: {retentionHours: 48}\n")
    assert source.watcher.reload()
    assert seen == [("restarts", 48)]

    path.write_text("restarts: {retentionHours: nope}\n")
    assert not source.watcher.reload()
    assert restarts.current == 48
    assert seen == [("restarts", 48)]

    path.write_text("restarts: {retentionHours: 48}\nagentpool: {}\n")
    assert source.watcher.reload()
    assert seen == [("restarts", 48)]  # nothing changed in either section
