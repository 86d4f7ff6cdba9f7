"""Where the webhook server listens and which certificate it serves (controller-runtime's
``webhook.Options``)."""

from __future__ import annotations

import os
import tempfile
from dataclasses import dataclass

__all__ = ["DEFAULT_CERT_DIR", "DEFAULT_PORT", "WebhookServerOptions"]

DEFAULT_PORT = 9443
"""controller-runtime's port; kubebuilder's Service forwards 443 to it."""
DEFAULT_CERT_DIR = os.path.join(tempfile.gettempdir(), "k8s-webhook-server", "serving-certs")
"""Where kubebuilder's manager patch mounts the cert-manager Secret."""


@dataclass(frozen=True, kw_only=True, slots=True)
class WebhookServerOptions:
    """How the webhook server listens. Usage::

    ManagerOptions(webhook_server=WebhookServerOptions(cert_dir="/certs"))
    WebhookServerOptions(host="127.0.0.1", port=0, cert_dir=tmp)  # tests: any free port
    """

    host: str = ""
    """Interface to bind; empty binds every interface, as a pod behind a Service needs."""
    port: int = DEFAULT_PORT
    """Port to bind; 0 picks a free one (read it back from ``WebhookServer.address``)."""
    cert_dir: str = DEFAULT_CERT_DIR
    """Directory holding the serving certificate and key; both are reloaded when they
    change (a rotated cert-manager Secret), without dropping connections."""
    cert_name: str = "tls.crt"
    """File name of the PEM certificate (chain) in ``cert_dir``."""
    key_name: str = "tls.key"
    """File name of the PEM private key in ``cert_dir``."""
    idle_timeout: float = 120.0
    """Seconds a kept-alive connection may stay idle before the server closes it; the API
    server reuses connections, so this only reaps the abandoned ones."""

    def __post_init__(self) -> None:
        if not 0 <= self.port <= 65535:
            raise ValueError(f"port must be in 0..65535, got {self.port}")
        if not self.cert_name or not self.key_name:
            raise ValueError("cert_name and key_name name the files in cert_dir; keep tls.crt/key")
        if self.idle_timeout <= 0:
            raise ValueError(f"idle_timeout must be > 0 seconds, got {self.idle_timeout}")

    @property
    def cert_file(self) -> str:
        return os.path.join(self.cert_dir, self.cert_name)

    @property
    def key_file(self) -> str:
        return os.path.join(self.cert_dir, self.key_name)
