from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from reconcile.client import RestConfig
from reconcile.errors import ConfigError
from tests.unit.reconcile.reload.volume import ConfigMapVolume

POD_ENV = {"KUBERNETES_SERVICE_HOST": "10.0.0.1", "KUBERNETES_SERVICE_PORT": "443"}


def test_in_cluster_outside_a_pod_says_so(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="not running in a pod"):
        RestConfig.in_cluster(service_account_dir=str(tmp_path), environ={})


def test_in_cluster_without_a_mounted_token_names_the_file(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"no ServiceAccount token at .*/token"):
        RestConfig.in_cluster(service_account_dir=str(tmp_path), environ=POD_ENV)


def test_in_cluster_rereads_a_rotated_token(tmp_path: Path) -> None:
    volume = ConfigMapVolume(tmp_path / "sa", {"token": b"first", "ca.crt": b"ca"})
    config = RestConfig.in_cluster(service_account_dir=str(volume.root), environ=POD_ENV)
    assert config.host == "https://10.0.0.1:443"
    assert config.configuration.ssl_ca_cert == str(volume.path("ca.crt"))
    assert config.authorization() == "Bearer first"
    volume.update({"token": b"second\n", "ca.crt": b"ca"})
    assert config.authorization() == "Bearer second"


def _kubeconfig(path: Path, user: dict[str, str]) -> Path:
    path.write_text(
        yaml.safe_dump(
            {
                "apiVersion": "v1",
                "kind": "Config",
                "clusters": [{"name": "c", "cluster": {"server": "https://127.0.0.1:6443"}}],
                "users": [{"name": "u", "user": user}],
                "contexts": [{"name": "c", "context": {"cluster": "c", "user": "u"}}],
                "current-context": "c",
            }
        )
    )
    return path


def test_kubeconfig_token_is_sent_as_bearer(tmp_path: Path) -> None:
    config = RestConfig.from_kubeconfig(_kubeconfig(tmp_path / "kc", {"token": "abc"}))
    assert config.authorization() == "Bearer abc"


def test_kubeconfig_token_file_is_reread(tmp_path: Path) -> None:
    (tmp_path / "token").write_text("one")
    config = RestConfig.from_kubeconfig(_kubeconfig(tmp_path / "kc", {"tokenFile": "token"}))
    assert config.bearer_token_file == str(tmp_path / "token")
    assert config.authorization() == "Bearer one"
    (tmp_path / "token").write_text("two-longer")
    assert config.authorization() == "Bearer two-longer"


def test_credential_hook_runs_at_most_once_per_interval() -> None:
    from kubernetes import client as k8s_client

    from reconcile.client.config import CREDENTIAL_REFRESH_INTERVAL

    now = [100.0]
    tokens = iter(f"Bearer token-{n}" for n in range(10))  # as the kubeconfig loader sets it
    calls = []

    def hook(configuration: k8s_client.Configuration) -> None:  # an exec plugin's renewal
        calls.append(now[0])
        configuration.api_key["BearerToken"] = next(tokens)

    configuration = k8s_client.Configuration(host="https://127.0.0.1:6443")
    configuration.refresh_api_key_hook = hook  # type: ignore[assignment]
    config = RestConfig(configuration=configuration, _clock=lambda: now[0])
    sent = [config.authorization() for _ in range(50)]
    assert sent == ["Bearer token-0"] * 50 and len(calls) == 1
    now[0] += CREDENTIAL_REFRESH_INTERVAL
    assert config.authorization() == "Bearer token-1", "renewed once the interval passed"
    assert calls == [100.0, 100.0 + CREDENTIAL_REFRESH_INTERVAL]
