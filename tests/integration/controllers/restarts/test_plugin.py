"""``kubectl restarts``: the plugin run by the real kubectl, against records the operator wrote."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

from tests.integration.controllers.restarts.conftest import Cluster, Operators, total

Run = Callable[..., subprocess.CompletedProcess[str]]


def _with_plugin(cluster: Cluster) -> Run:
    """Runs ``kubectl restarts ARGS`` with the ``kubectl-restarts`` console script on PATH.

    kubectl refuses its own flags before a plugin's name, so the kubeconfig and the cache
    directory go through the environment (KUBECONFIG, KUBECACHEDIR)."""
    scripts = Path(sys.executable).parent
    assert (scripts / "kubectl-restarts").exists(), "install the package (make .venv/.installed)"
    kubectl = shutil.which("kubectl")
    assert kubectl is not None
    env = {
        **os.environ,
        "PATH": f"{scripts}{os.pathsep}{os.environ['PATH']}",
        "KUBECONFIG": str(cluster.kubeconfig),
        "KUBECACHEDIR": str(cluster.root / "plugin-cache"),
    }

    def run(*args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        result = subprocess.run(
            [kubectl, "restarts", *args], capture_output=True, text=True, env=env, timeout=60,
            check=False,
        )  # fmt: skip
        if check:
            assert result.returncode == 0, result.stderr
        return result

    return run


def test_kubectl_restarts_lists_recent_restarts_newest_first(
    cluster: Cluster, operators: Operators
) -> None:
    ns = cluster.namespace()
    cluster.run_pod(ns, "web", ["app", "side"])
    cluster.restart(ns, "web", "app", "Error", 1)
    cluster.restart(ns, "web", "side", "OOMKilled", 137)
    cluster.record_where(ns, "web", total(2), "two restarts")
    restarts = _with_plugin(cluster)

    lines = restarts("-n", ns).stdout.splitlines()
    assert lines[0].split()[:4] == ["POD", "CONTAINER", "RESTART", "REASON"]
    assert sorted(line.split()[:6] for line in lines[1:]) == [
        ["web", "app", "1", "Error", "1", "<none>"],
        ["web", "side", "1", "OOMKilled", "137", "SIGKILL"],
    ]
    wide = restarts("-A", "--reason", "oomkilled", "--since", "1h", "-o", "wide").stdout
    (header, *oom) = [line for line in wide.splitlines() if line.startswith(("NAMESPACE", ns))]
    assert "CONTAINER ID" in header and "WORKLOAD" in header
    assert [line.split()[:3] for line in oom] == [[ns, "web", "side"]], "OOMKilled only"
    assert "containerd://" in oom[0] and "OOMKilled!" in oom[0]
    document = json.loads(restarts("-n", ns, "-o", "json").stdout)
    rows = document["restarts"]
    assert sorted((r["container"], r["exitCode"], r.get("signal")) for r in rows) == [
        ("app", 1, None),
        ("side", 137, 9),
    ]
    finished = [r["finishedAt"] for r in rows]
    assert finished == sorted(finished, reverse=True), "newest first"
