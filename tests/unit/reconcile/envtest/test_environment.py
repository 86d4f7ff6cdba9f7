from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from reconcile.envtest import Environment, EnvironmentOptions
from tests.conftest import Kubectl


def test_embedded_server_by_default(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.delenv("USE_EXISTING_CLUSTER", raising=False)
    monkeypatch.delenv("KUBEBUILDER_ASSETS", raising=False)
    environment = Environment()
    assert environment.mode == "embedded"
    with environment as kubeconfig:
        cluster = yaml.safe_load(kubeconfig.read_text())["clusters"][0]["cluster"]
        assert cluster["server"].startswith("https://"), "secure by default, like kube-apiserver"
        assert "certificate-authority-data" in cluster
        assert "namespace/default" in Kubectl(kubeconfig, tmp_path / "cache")(
            "get", "ns", "-o", "name"
        )
    assert environment.server is None


def test_existing_cluster_uses_kubeconfig(
    monkeypatch: pytest.MonkeyPatch, kubeconfig: Path
) -> None:
    monkeypatch.setenv("USE_EXISTING_CLUSTER", "true")
    monkeypatch.setenv("KUBECONFIG", str(kubeconfig))
    environment = Environment()
    assert environment.mode == "existing"
    assert environment.start() == kubeconfig
    environment.stop()
    assert kubeconfig.exists(), "an existing cluster's kubeconfig is left alone"


def test_missing_binaries_say_what_to_install(tmp_path: Path) -> None:
    environment = Environment(EnvironmentOptions(binary_assets=str(tmp_path)))
    assert environment.mode == "binaries"
    with pytest.raises(FileNotFoundError, match="has no etcd; install it with setup-envtest"):
        environment.start()
    environment.stop()
