"""The kopf environment: a missing install is detected, an impossible one explained."""

from __future__ import annotations

from pathlib import Path

import pytest

from bench.workloads.kopf_env import KopfUnavailable, ensure_kopf, installed_versions


def test_no_versions_without_an_environment(tmp_path: Path) -> None:
    assert installed_versions(tmp_path / "absent") is None


def test_an_environment_that_cannot_be_created_names_the_path(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("not a directory")
    with pytest.raises(KopfUnavailable, match=r"cannot create the kopf environment at .*file/venv"):
        ensure_kopf(blocker / "venv")
