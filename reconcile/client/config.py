"""Where the API server is and how to talk to it: ``RestConfig``.

Kubeconfig loading is delegated to the ``kubernetes`` package (files, contexts, exec and
token auth plugins, client certificates, CA data), so every auth method it supports works
here. What we keep from it is its ``Configuration`` and its urllib3 pool; requests and
responses stay raw JSON (see ``transport.py``).

Bearer tokens read from a file (a pod's projected ServiceAccount token, or a kubeconfig
``tokenFile``) are re-read whenever the file changes, as client-go does: the kubelet
rotates projected tokens well before they expire, and a long-running controller must pick
up the new one without a restart. A ``stat`` per request notices the change, including the
``..data`` symlink swap Kubernetes volumes use.
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import urllib3
import yaml
from kubernetes import client as k8s_client
from kubernetes import config as k8s_config

from reconcile.errors import ConfigError

__all__ = [
    "CREDENTIAL_REFRESH_INTERVAL",
    "DEFAULT_BURST",
    "DEFAULT_QPS",
    "SERVICE_ACCOUNT_DIR",
    "RestConfig",
]

DEFAULT_QPS: float | None = None
"""No client-side limiter, as controller-runtime since v0.21: the API server's Priority and
Fairness (the embedded server's in-flight limits) decides, and answers 429 when it must."""
DEFAULT_BURST = 30
"""Requests sent at once before a positive ``qps`` applies (controller-runtime's 30)."""
CREDENTIAL_REFRESH_INTERVAL = 1.0
"""Seconds between two runs of the kubeconfig's credential refresh hook (exec plugins,
auth providers): fresh enough for credentials that last minutes, cheap per request."""
SERVICE_ACCOUNT_DIR = "/var/run/secrets/kubernetes.io/serviceaccount"
"""Where the kubelet mounts a pod's ServiceAccount token, CA and namespace."""


class _TokenFile:
    """A bearer token file, re-read when its identity (inode, size, mtime) changes."""

    def __init__(self, path: str) -> None:
        self.path = path
        self._lock = threading.Lock()
        self._seen: tuple[int, int, int] | None = None
        self._token = ""

    def read(self) -> str:
        try:
            info = os.stat(self.path)
        except OSError as exc:
            if self._token:
                return self._token  # keep the last good token while the file is swapped
            raise ConfigError(f"cannot read the bearer token file {self.path}: {exc}") from exc
        identity = (info.st_ino, info.st_size, info.st_mtime_ns)
        with self._lock:
            if identity != self._seen:
                token = Path(self.path).read_text().strip()
                if token:
                    self._token, self._seen = token, identity
            return self._token


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
    bearer_token: str | None = None
    """A static bearer token; None: whatever the kubeconfig's auth provides."""
    bearer_token_file: str | None = None
    """A file holding the bearer token, re-read whenever it changes; it wins over
    ``bearer_token`` (client-go's rule)."""
    extra: dict[str, Any] = field(default_factory=dict)
    _token_file: _TokenFile | None = field(default=None, init=False, repr=False, compare=False)
    _refreshed_at: float | None = field(default=None, init=False, repr=False, compare=False)
    _clock: Callable[[], float] = field(default=time.monotonic, repr=False, compare=False)

    def authorization(self) -> str | None:
        """The ``Authorization`` header for the next request, None to send none.

        In order: the token file (current content), ``bearer_token``, then what the
        kubeconfig's auth gave the ``Configuration`` (a token, refreshed by exec or OIDC
        plugins through its hook, or basic auth).
        """
        if self.bearer_token_file:
            if self._token_file is None or self._token_file.path != self.bearer_token_file:
                self._token_file = _TokenFile(self.bearer_token_file)
            return f"Bearer {self._token_file.read()}"
        if self.bearer_token:
            return f"Bearer {self.bearer_token}"
        configuration = self.configuration
        if configuration.refresh_api_key_hook is not None:
            self._refresh(configuration)
        for key in ("BearerToken", "authorization"):
            value = configuration.api_key.get(key)
            if value:
                prefix = configuration.api_key_prefix.get(key)
                return f"{prefix} {value}" if prefix else str(value)
        if configuration.username and configuration.password:
            basic = f"{configuration.username}:{configuration.password}"
            return str(urllib3.util.make_headers(basic_auth=basic)["authorization"])
        return None

    def _refresh(self, configuration: Any) -> None:
        """Run the kubeconfig's credential hook at most every ``CREDENTIAL_REFRESH_INTERVAL``.

        The ``kubernetes`` package's hook re-applies the whole kubeconfig (host, TLS files,
        proxy from the environment) and renews exec or auth-provider credentials once
        expired; run before every request it cost a controller about 5% of its CPU. Those
        credentials last minutes or hours, so once a second is as fresh and nearly free
        (client-go, too, caches exec credentials until they expire).
        """
        now = self._clock()
        if self._refreshed_at is None or now - self._refreshed_at >= CREDENTIAL_REFRESH_INTERVAL:
            configuration.refresh_api_key_hook(configuration)
            self._refreshed_at = now

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
        options.setdefault("bearer_token_file", _kubeconfig_token_file(config_file, context))
        return cls(configuration=configuration, **options)

    @classmethod
    def in_cluster(
        cls,
        *,
        service_account_dir: str = SERVICE_ACCOUNT_DIR,
        environ: Mapping[str, str] | None = None,
        **options: Any,
    ) -> RestConfig:
        """A pod's ServiceAccount: ``$KUBERNETES_SERVICE_HOST:PORT`` over TLS, with the
        mounted CA and the mounted (rotating) token, re-read whenever the kubelet renews it.
        """
        env = os.environ if environ is None else environ
        host, port = env.get("KUBERNETES_SERVICE_HOST"), env.get("KUBERNETES_SERVICE_PORT")
        if not host or not port:
            raise ConfigError(
                "not running in a pod: KUBERNETES_SERVICE_HOST and KUBERNETES_SERVICE_PORT "
                "are not set; pass a kubeconfig instead"
            )
        directory = Path(service_account_dir)
        for name in ("token", "ca.crt"):
            if not (directory / name).exists():
                raise ConfigError(
                    f"no ServiceAccount {name} at {directory / name}: is "
                    "automountServiceAccountToken disabled for this pod?"
                )
        configuration = k8s_client.Configuration()
        configuration.host = f"https://[{host}]:{port}" if ":" in host else f"https://{host}:{port}"
        configuration.ssl_ca_cert = str(directory / "ca.crt")
        options.setdefault("bearer_token_file", str(directory / "token"))
        return cls(configuration=configuration, **options)

    @classmethod
    def load(cls, kubeconfig: str | None = None, **options: Any) -> RestConfig:
        """In-cluster when running in a pod and no kubeconfig is given, else the kubeconfig."""
        if kubeconfig is None and os.environ.get("KUBERNETES_SERVICE_HOST"):
            return cls.in_cluster(**options)
        return cls.from_kubeconfig(kubeconfig, **options)


def _kubeconfig_token_file(config_file: str, context: str | None) -> str | None:
    """The current user's ``tokenFile`` (absolute), if the kubeconfig names one."""
    documents = []
    for path in config_file.split(os.pathsep):
        if path and Path(path).exists():
            loaded = yaml.safe_load(Path(path).read_text()) or {}
            if isinstance(loaded, dict):
                documents.append((Path(path), loaded))
    name = context or next(
        (d.get("current-context") for _, d in documents if d.get("current-context")), None
    )
    context_entry = _named(documents, "contexts", name)
    if context_entry is None:
        return None
    user_name = (context_entry[1].get("context") or {}).get("user")
    user_entry = _named(documents, "users", user_name)
    if user_entry is None:
        return None
    base, user = user_entry
    token_file = (user.get("user") or {}).get("tokenFile")
    if not token_file:
        return None
    return str((base.parent / token_file).resolve())


def _named(
    documents: list[tuple[Path, dict[str, Any]]], section: str, name: str | None
) -> tuple[Path, dict[str, Any]] | None:
    """The first entry called ``name`` in ``section`` across merged kubeconfig files."""
    for path, document in documents:
        for entry in document.get(section) or []:
            if isinstance(entry, dict) and entry.get("name") == name:
                return path, entry
    return None
