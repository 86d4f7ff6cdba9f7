"""RestConfig over TLS: a pod's mounted ServiceAccount token and CA, rotated in place."""

from __future__ import annotations

from pathlib import Path

from reconcile.apiserver import APIServer
from reconcile.client import Client, RestConfig
from tests.unit.reconcile.reload.volume import ConfigMapVolume


def _token(admin: Client, name: str) -> bytes:
    admin.create({"apiVersion": "v1", "kind": "ServiceAccount",
                  "metadata": {"name": name, "namespace": "default"}})  # fmt: skip
    path = f"/api/v1/namespaces/default/serviceaccounts/{name}/token"
    return str(admin.transport.request("POST", path, body={}).body["status"]["token"]).encode()


def _whoami(client: Client) -> str:
    review = {"apiVersion": "authentication.k8s.io/v1", "kind": "SelfSubjectReview"}
    path = "/apis/authentication.k8s.io/v1/selfsubjectreviews"
    body = client.transport.request("POST", path, body=review).body
    return str(body["status"]["userInfo"]["username"])


def test_in_cluster_config_follows_token_rotation(
    apiserver: APIServer, client: Client, tmp_path: Path
) -> None:
    assert apiserver.ca_pem is not None
    port = apiserver.url.rsplit(":", 1)[1]
    mount = ConfigMapVolume(tmp_path / "serviceaccount",
                            {"token": _token(client, "first"), "ca.crt": apiserver.ca_pem})  # fmt: skip
    pod = Client(
        RestConfig.in_cluster(
            service_account_dir=str(mount.root),
            environ={"KUBERNETES_SERVICE_HOST": "127.0.0.1", "KUBERNETES_SERVICE_PORT": port},
        )
    )
    assert _whoami(pod) == "system:serviceaccount:default:first"
    mount.update({"token": _token(client, "second"), "ca.crt": apiserver.ca_pem})
    assert _whoami(pod) == "system:serviceaccount:default:second"


def test_kubeconfig_client_certificate_authenticates(apiserver: APIServer, tmp_path: Path) -> None:
    certificate = apiserver.issue_client_certificate("carol", ("ops",))
    kubeconfig = apiserver.write_kubeconfig(tmp_path / "carol", certificate=certificate)
    assert _whoami(Client(RestConfig.from_kubeconfig(kubeconfig))) == "carol"
