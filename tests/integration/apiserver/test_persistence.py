"""The sqlite-backed server keeps objects and resourceVersions across restarts."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from reconcile.apiserver import APIServer, ServerOptions
from reconcile.client import Client, RestConfig
from reconcile.errors import ServiceUnavailable
from reconcile.gvk import GroupVersionKind
from tests.conftest import Kubectl
from tests.waiting import wait_for


def test_restart_keeps_objects_and_resource_versions(tmp_path: Path) -> None:
    options = ServerOptions(data_dir=str(tmp_path / "data"))
    first = APIServer(options)
    first.start()
    kubectl = Kubectl(first.write_kubeconfig(tmp_path / "kc"), tmp_path / "cache")
    kubectl("apply", "-f", "-", input="apiVersion: v1\nkind: ConfigMap\nmetadata: {name: kept}\n")
    before = json.loads(kubectl("get", "configmap", "kept", "-o", "json"))
    first.stop()

    second = APIServer(options)
    second.start()
    try:
        kubectl = Kubectl(second.write_kubeconfig(tmp_path / "kc"), tmp_path / "cache")
        after = json.loads(kubectl("get", "configmap", "kept", "-o", "json"))
        assert after["metadata"] == before["metadata"]
        kubectl("label", "configmap", "kept", "x=y")
        relabeled = json.loads(kubectl("get", "configmap", "kept", "-o", "json"))
        assert int(relabeled["metadata"]["resourceVersion"]) > int(
            before["metadata"]["resourceVersion"]
        ), "resourceVersions never go back after a restart"
        assert kubectl("get", "ns", "default", "-o", "name").strip() == "namespace/default"
    finally:
        second.stop()


@pytest.mark.parametrize(
    ("flags", "scheme", "credentials"),
    [
        pytest.param([], "https", {"token"}, id="tls-and-admin-token-by-default"),
        pytest.param(["--insecure-http"], "http", set(), id="insecure-http"),
    ],
)
def test_cli_writes_kubeconfig_when_ready_and_stops_on_sigterm(
    tmp_path: Path, flags: list[str], scheme: str, credentials: set[str]
) -> None:
    kubeconfig = tmp_path / "kc"
    process = subprocess.Popen(
        [sys.executable, "-m", "controllers.cli", "apiserver", "--kubeconfig", str(kubeconfig),
         *flags],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )  # fmt: skip
    try:
        wait_for(kubeconfig.exists, timeout=30, what="the kubeconfig to appear")
        config = yaml.safe_load(kubeconfig.read_text())
        assert config["clusters"][0]["cluster"]["server"].startswith(f"{scheme}://")
        assert set(config["users"][0]["user"]) == credentials
        kubectl = Kubectl(kubeconfig, tmp_path / "cache")
        assert "namespace/default" in kubectl("get", "namespaces", "-o", "name")
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=10) == 0
    finally:
        if process.poll() is None:
            process.kill()


def test_killed_between_object_and_revision_rows_never_reuses_a_resource_version(
    tmp_path: Path,
) -> None:
    """One sqlite transaction per write: a crash mid-write leaves both rows or neither."""
    data_dir, kubeconfig = tmp_path / "data", tmp_path / "kc"
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "tests.integration.apiserver.crashing_server",
            str(data_dir),
            str(kubeconfig),
            "2",
        ],
    )
    try:
        wait_for(kubeconfig.exists, timeout=30, what="the crashing server to serve")
        client = Client(
            RestConfig.from_kubeconfig(kubeconfig),
            read_retry_deadline=0,
            write_retry_deadline=0,
        )
        seen: list[int] = []
        with pytest.raises(ServiceUnavailable):
            for i in range(10):
                created = client.create(_configmap(f"cm-{i}"))
                seen.append(int(created["metadata"]["resourceVersion"]))
        assert process.wait(timeout=10) == 137
    finally:
        if process.poll() is None:
            process.kill()
    assert len(seen) == 2, "the server died in the third create"

    server = APIServer(ServerOptions(data_dir=str(data_dir)))
    server.start()
    try:
        client = Client(RestConfig.from_kubeconfig(server.write_kubeconfig(kubeconfig)))
        stored = client.list(CONFIGMAP, namespace="default")["items"]
        stored_rvs = [int(o["metadata"]["resourceVersion"]) for o in stored]
        assert sorted(o["metadata"]["name"] for o in stored) == ["cm-0", "cm-1"], (
            "the interrupted create was rolled back"
        )
        fresh = int(client.create(_configmap("after"))["metadata"]["resourceVersion"])
        assert fresh > max([*seen, *stored_rvs]), "a new write got a resourceVersion in use"
    finally:
        server.stop()


CONFIGMAP = GroupVersionKind("", "v1", "ConfigMap")


def _configmap(name: str) -> dict[str, object]:
    return {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {"name": name, "namespace": "default"},
    }
