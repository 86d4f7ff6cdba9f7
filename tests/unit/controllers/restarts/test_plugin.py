"""``kubectl restarts``: rows from records, filters, and kubectl-style tables."""

from __future__ import annotations

from typing import Any

import pytest

from controllers.restarts.plugin import build_parser, format_table, restart_rows
from reconcile.timestamps import parse_time


def record(
    namespace: str, pod: str, history: list[dict[str, Any]], missed: int = 0
) -> dict[str, Any]:
    return {
        "metadata": {"name": pod, "namespace": namespace},
        "spec": {"podName": pod, "workload": {"kind": "Deployment", "name": "api"}},
        "status": {"containers": [{"name": "app", "missed": missed, "history": history}]},
    }


def restart(count: int, reason: str, at: str, code: int = 1, **extra: Any) -> dict[str, Any]:
    return {
        "podUID": "u",
        "restartCount": count,
        "reason": reason,
        "finishedAt": at,
        "exitCode": code,
        **extra,
    }


RECORDS = [
    record("a", "web-1", [restart(2, "OOMKilled", "2026-11-24T02:50:00Z", 137, signal=9),
                          restart(1, "Error", "2026-11-24T01:00:00Z")], missed=3),
    record("b", "web-2", [restart(1, "Completed", "2026-11-24T02:55:00Z", 0)]),
    {"metadata": {"name": "namespace-inspection", "namespace": "a"}, "spec": {"inspection": {}}},
]  # fmt: skip
NOW = parse_time("2026-11-24T03:00:00Z") or 0.0


def test_rows_are_newest_first_and_count_missed() -> None:
    rows, missed = restart_rows(RECORDS)
    assert [(r["pod"], r["restartCount"]) for r in rows] == [
        ("web-2", 1),
        ("web-1", 2),
        ("web-1", 1),
    ]
    assert missed == 3
    assert rows[1]["workload"] == "Deployment/api" and rows[1]["signal"] == 9


@pytest.mark.parametrize(
    ("since", "reason", "expected"),
    [
        pytest.param(NOW - 3600, None, [("web-2", 1), ("web-1", 2)], id="since-1h"),
        pytest.param(None, "OOMKilled", [("web-1", 2)], id="reason"),
        pytest.param(NOW - 3600, "Error", [], id="both"),
    ],
)
def test_filters(since: float | None, reason: str | None, expected: list[tuple[str, int]]) -> None:
    rows, _ = restart_rows(RECORDS, since=since, reason=reason)
    assert [(r["pod"], r["restartCount"]) for r in rows] == expected


def test_table_and_wide_columns() -> None:
    rows, _ = restart_rows(RECORDS)
    table = format_table(rows, wide=False, all_namespaces=True, now=NOW).splitlines()
    assert table[0].split() == [
        "NAMESPACE",
        "POD",
        "CONTAINER",
        "RESTART",
        "REASON",
        "EXIT",
        "CODE",
        "SIGNAL",
        "AGE",
    ]
    assert table[2].split() == ["a", "web-1", "app", "2", "OOMKilled", "137", "SIGKILL", "10m"]
    assert table[1].split()[-2:] == ["<none>", "5m"], "no signal for exit code 0"
    wide = format_table(rows, wide=True, all_namespaces=False, now=NOW).splitlines()
    assert "WORKLOAD" in wide[0] and "CONTAINER ID" in wide[0]
    assert "Deployment/api" in wide[2] and "2026-11-24T02:50:00Z" in wide[2]


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        pytest.param(
            ["--reason", "Crashed"], "unknown reason 'Crashed'; reasons are: OOMKilled", id="reason"
        ),
        pytest.param(["--since", "soon"], "cannot read 'soon' as a duration", id="since"),
        pytest.param(["-n", "a", "-A"], "not allowed with argument", id="scope"),
        pytest.param(["-o", "yaml"], "invalid choice: 'yaml'", id="output"),
    ],
)
def test_bad_arguments_say_what_to_write(
    argv: list[str], message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as exited:
        build_parser().parse_args(argv)
    assert exited.value.code == 2
    assert message in capsys.readouterr().err


def test_reason_is_case_insensitive() -> None:
    assert build_parser().parse_args(["--reason", "oomkilled"]).reason == "OOMKilled"
