"""The audit log's format, rotation and reading back."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from reconcile.apiserver.audit import AuditLog, AuditOptions, AuditRecord, read_audit_log

MB = 1024 * 1024


def _record(name: str, verb: str = "delete") -> AuditRecord:
    return AuditRecord(
        verb=verb, group="", version="v1", resource="pods", namespace="ns", name=name,
        subresource="", username="alice", groups=("system:masters",), user_agent="kubectl",
        uri=f"/api/v1/namespaces/ns/pods/{name}", source_ip="127.0.0.1", code=200,
        received=1_700_000_000.25, completed=1_700_000_000.5,
    )  # fmt: skip


def test_one_kube_shaped_event_per_line(tmp_path: Path) -> None:
    log = AuditLog(AuditOptions(path=str(tmp_path / "audit.log")))
    log.record(_record("web-0"))
    log.close()
    (event,) = [json.loads(line) for line in (tmp_path / "audit.log").read_text().splitlines()]
    assert event["apiVersion"] == "audit.k8s.io/v1"
    assert (event["level"], event["stage"], event["verb"]) == (
        "Metadata",
        "ResponseComplete",
        "delete",
    )
    assert event["user"] == {"username": "alice", "groups": ["system:masters"]}
    assert event["objectRef"] == {"resource": "pods", "apiGroup": "", "apiVersion": "v1",
                                  "namespace": "ns", "name": "web-0"}  # fmt: skip
    assert event["responseStatus"]["code"] == 200
    assert event["requestReceivedTimestamp"] == "2023-11-14T22:13:20.250000Z"
    assert event["stageTimestamp"] == "2023-11-14T22:13:20.500000Z"


def test_rotates_at_the_size_and_keeps_only_max_backups(tmp_path: Path) -> None:
    path = tmp_path / "audit.log"
    log = AuditLog(AuditOptions(path=str(path), max_size_mb=1, max_backups=2))
    total = 4 * MB // 400  # lines are about 400 bytes: four files' worth
    for index in range(total):
        log.record(_record(f"p-{index}"))
    log.close()
    assert sorted(p.name for p in tmp_path.glob("audit.log*")) == [
        "audit.log", "audit.log.1", "audit.log.2",
    ]  # fmt: skip
    assert all(p.stat().st_size < MB + 1000 for p in tmp_path.glob("audit.log*"))
    names = [e["objectRef"]["name"] for e in read_audit_log(path)]
    assert names == [f"p-{i}" for i in range(total - len(names), total)], "oldest first, in order"
    assert 2 * MB // 500 < len(names) < total, "the oldest file was dropped"


def test_reopened_log_appends_and_a_torn_line_is_skipped(tmp_path: Path) -> None:
    path = tmp_path / "audit.log"
    first = AuditLog(AuditOptions(path=str(path)))
    first.record(_record("a"))
    first.close()
    with path.open("a") as torn:  # a server killed in the middle of a write
        torn.write('{"kind":"Event","verb"')
    with path.open("a") as torn:
        torn.write("\n")
    second = AuditLog(AuditOptions(path=str(path)))
    second.record(_record("b"))
    second.close()
    assert [e["objectRef"]["name"] for e in read_audit_log(path)] == ["a", "b"]


@pytest.mark.parametrize(("size", "backups"), [(0, 1), (1, -1)])
def test_bad_bounds_say_what_is_allowed(size: int, backups: int) -> None:
    with pytest.raises(ValueError, match="max_size_mb >= 1 and max_backups >= 0"):
        AuditOptions(path="audit.log", max_size_mb=size, max_backups=backups)
