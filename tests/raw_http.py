"""Raw HTTP(S) to the embedded API server, for tests that need bytes kubectl would not send.

The server speaks TLS with its own CA and wants credentials: ``urlopen`` trusts that CA and
sends the admin token (or ``token``), so a test only says what request it makes.
"""

from __future__ import annotations

import ssl
import urllib.request
from typing import Any

from reconcile.apiserver import APIServer


def client_context(server: APIServer) -> ssl.SSLContext | None:
    """An SSL context trusting the server's CA (None for a plain-HTTP server)."""
    if server.ca_pem is None:
        return None
    return ssl.create_default_context(cadata=server.ca_pem.decode())


def urlopen(
    server: APIServer,
    request: urllib.request.Request | str,
    *,
    timeout: float = 10,
    token: str | None = None,
) -> Any:
    """``urllib.request.urlopen`` with the server's CA trusted and a bearer token sent."""
    if isinstance(request, str):
        request = urllib.request.Request(request)
    bearer = token or server.admin_token
    if bearer and not request.has_header("Authorization"):
        request.add_header("Authorization", f"Bearer {bearer}")
    return urllib.request.urlopen(request, timeout=timeout, context=client_context(server))


def python_client(server: APIServer) -> Any:
    """A ``kubernetes`` package ApiClient that trusts the server's CA and sends the admin token.

    Built from the kubeconfig the server writes, as a user of the Python client would load it.
    """
    import tempfile
    from pathlib import Path

    from kubernetes import client as k8s
    from kubernetes import config as k8s_config

    configuration = k8s.Configuration()
    with tempfile.TemporaryDirectory() as workdir:
        kubeconfig = server.write_kubeconfig(Path(workdir) / "kubeconfig")
        k8s_config.load_kube_config(config_file=str(kubeconfig), client_configuration=configuration)
    return k8s.ApiClient(configuration)
