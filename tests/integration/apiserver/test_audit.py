"""The server's audit log: every change, who made it and when; reads are not logged."""

from __future__ import annotations

from pathlib import Path

import pytest

from reconcile.apiserver import APIServer, ServerOptions
from reconcile.apiserver.audit import AuditOptions, read_audit_log
from tests.conftest import Kubectl


@pytest.fixture
def apiserver_options(tmp_path: Path) -> ServerOptions:
    return ServerOptions(audit=AuditOptions(path=str(tmp_path / "audit" / "audit.log")))


def test_changes_are_logged_with_user_and_object(
    apiserver: APIServer, kubectl: Kubectl, tmp_path: Path
) -> None:
    kubectl("create", "configmap", "settings", "--from-literal=a=1")
    kubectl("get", "configmap", "settings")
    kubectl("label", "configmap", "settings", "tier=web")
    kubectl(
        "create",
        "-f",
        "-",
        input="apiVersion: v1\nkind: ConfigMap\nmetadata: {generateName: gen-}\n",
    )
    kubectl("delete", "configmap", "settings")
    kubectl("delete", "configmap", "missing", "--ignore-not-found")

    events = [
        e for e in read_audit_log(tmp_path / "audit" / "audit.log")
        if e["objectRef"]["resource"] == "configmaps"
    ]  # fmt: skip
    seen = [(e["verb"], e["objectRef"]["name"][:4], e["responseStatus"]["code"]) for e in events]
    assert seen == [
        ("create", "sett", 201),
        ("patch", "sett", 200),
        ("create", "gen-", 201),
        ("delete", "sett", 200),
        ("delete", "miss", 404),
    ], "writes only, in order; a generated name is logged as the server gave it"
    assert {e["user"]["username"] for e in events} == {"kreconcile-admin"}
    assert all(e["userAgent"].startswith("kubectl") for e in events)
    assert all(e["requestReceivedTimestamp"] <= e["stageTimestamp"] for e in events)
