"""Where the API server is and how to talk to it: ``RestConfig``.

Loading is delegated to the ``kubernetes`` package (kubeconfig files, contexts, exec and
token auth plugins, in-cluster service-account tokens, TLS material), so every auth
method it supports works here. What we keep from it is its ``Configuration`` and its
urllib3 pool; requests and responses stay raw JSON (see ``transport.py``).
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from kubernetes import client as k8s_client
from kubernetes import config as k8s_config

__all__ = ["DEFAULT_BURST", "DEFAULT_QPS", "RestConfig"]

DEFAULT_QPS: float | None = None
"""No client-side limiter, as controller-runtime since v0.21: the API server's Priority and
Fairness (the embedded server's in-flight limits) decides, and answers 429 when it must."""
DEFAULT_BURST = 30
"""Requests sent at once before a positive ``qps`` applies (controller-runtime's 30)."""


@dataclass(kw_only=True)
class RestConfig:
    """An API server endpoint plus the ``kubernetes`` Configuration that authenticates to it.

    Usage::

        config = RestConfig.from_kubeconfig()            # $KUBECONFIG or ~/.kube/config
        config = RestConfig.in_cluster()                 # a pod's service account
        config = RestConfig.load()                       # in-cluster if possible, else kubeconfig
    """

    configuration: Any
    """A ``kubernetes.client.Configuration`` (host, TLS, auth)."""
    qps: float | None = DEFAULT_QPS
    """Sustained requests per second this client may send (a client-side token bucket).

    None, 0 or a negative value (the default is None) means no client-side limiter, as a
    negative QPS does in client-go: a controller then writes as fast as the API server
    admits, and the server's flow control answers 429 + Retry-After when it is overloaded,
    which the client honours. Set a positive value to cap a client that must be polite to
    a server without flow control; waits longer than 50 ms are then logged (at most once
    per 10 s) as client-side throttling."""
    burst: int = DEFAULT_BURST
    """Requests that may be sent at once before a positive ``qps`` applies."""
    timeout: float = 30.0
    """Seconds a non-watch request may take."""
    user_agent: str = "kreconcile"
    """Sent as User-Agent; the server derives default field managers from it."""
    extra: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.qps is not None and self.qps > 0 and self.burst < 1:
            raise ValueError(
                f"burst must be >= 1 when qps is set, got burst={self.burst} qps={self.qps}; "
                "leave qps unset (None) for no client-side limit"
            )

    @property
    def host(self) -> str:
        return str(self.configuration.host).rstrip("/")

    @classmethod
    def from_kubeconfig(
        cls,
        path: str | os.PathLike[str] | None = None,
        *,
        context: str | None = None,
        **options: Any,
    ) -> RestConfig:
        """Load a kubeconfig (``path``, else $KUBECONFIG, else ~/.kube/config)."""
        configuration = k8s_client.Configuration()
        config_file = str(path) if path is not None else os.environ.get("KUBECONFIG")
        if config_file is None:
            config_file = str(Path.home() / ".kube" / "config")
        k8s_config.load_kube_config(  # type: ignore[no-untyped-call]
            config_file=config_file,
            context=context,
            client_configuration=configuration,
            persist_config=False,
        )
        return cls(configuration=configuration, **options)

    @classmethod
    def in_cluster(cls, **options: Any) -> RestConfig:
        """The service account token and CA mounted into every pod."""
        configuration = k8s_client.Configuration()
        k8s_config.load_incluster_config(client_configuration=configuration)  # type: ignore[no-untyped-call]
        return cls(configuration=configuration, **options)

    @classmethod
    def load(cls, kubeconfig: str | None = None, **options: Any) -> RestConfig:
        """In-cluster when running in a pod and no kubeconfig is given, else the kubeconfig."""
        if kubeconfig is None and os.environ.get("KUBERNETES_SERVICE_HOST"):
            return cls.in_cluster(**options)
        return cls.from_kubeconfig(kubeconfig, **options)
