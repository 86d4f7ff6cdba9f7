"""Start and stop the API server a test runs against (see the package docstring)."""

from __future__ import annotations

import os
import socket
import ssl
import subprocess
import tempfile
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from reconcile.apiserver import APIServer, ServerOptions
from reconcile.client import Client, RestConfig
from reconcile.envtest.crd import CRDInstallOptions, install_crds, uninstall_crds
from reconcile.envtest.identity import service_account_kubeconfig

__all__ = ["Environment", "EnvironmentOptions"]


@dataclass(frozen=True, kw_only=True, slots=True)
class EnvironmentOptions:
    """Where the test API comes from; the defaults read the environment like envtest."""

    use_existing_cluster: bool | None = None
    """None: read ``USE_EXISTING_CLUSTER``; True: use the current kubeconfig."""
    binary_assets: str | None = None
    """Directory with etcd and kube-apiserver; None: read ``KUBEBUILDER_ASSETS``."""
    start_timeout: float = 60.0
    """Seconds to wait for the API server to answer /readyz."""
    server: ServerOptions | None = None
    """Options for the embedded server (the default when nothing else is configured). Its
    default is kube-apiserver's: TLS, authentication and RBAC, with the returned kubeconfig
    holding the CA and an admin (``system:masters``) token; ``ServerOptions(insecure_http=
    True)`` serves plain HTTP to anyone instead."""
    crd_install: CRDInstallOptions | None = None
    """CRDs to install once the API server is up (waiting until they are served), and
    with ``cleanup_on_stop`` remove on ``stop``."""
    controllers: bool = True
    """Run the embedded server's controllers (Deployments, ReplicaSets, Jobs, DaemonSets,
    default ServiceAccounts), so tests can rely on workloads as on a real cluster."""


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class Environment:
    """One test API server: ``start()`` gives a kubeconfig path, ``stop()`` tears it down."""

    def __init__(self, options: EnvironmentOptions | None = None) -> None:
        self.options = options or EnvironmentOptions()
        self.kubeconfig: Path | None = None
        self.server: APIServer | None = None
        self._processes: list[subprocess.Popen[bytes]] = []
        self._workdir: tempfile.TemporaryDirectory[str] | None = None
        self.crds: list[dict[str, Any]] = []
        """The CRDs ``start`` installed."""

    @property
    def mode(self) -> str:
        """``existing``, ``binaries`` or ``embedded``."""
        existing = self.options.use_existing_cluster
        if existing is None:
            existing = os.environ.get("USE_EXISTING_CLUSTER", "").lower() == "true"
        if existing:
            return "existing"
        if self.options.binary_assets or os.environ.get("KUBEBUILDER_ASSETS"):
            return "binaries"
        return "embedded"

    def start(self) -> Path:
        """Start (or find) the API server and return a kubeconfig for it."""
        self._workdir = tempfile.TemporaryDirectory(prefix="kreconcile-envtest-")
        workdir = Path(self._workdir.name)
        mode = self.mode
        if mode == "existing":
            path = os.environ.get("KUBECONFIG") or str(Path.home() / ".kube" / "config")
            if not Path(path).exists():
                raise FileNotFoundError(
                    f"USE_EXISTING_CLUSTER=true but no kubeconfig at {path}; set KUBECONFIG"
                )
            self.kubeconfig = Path(path)
        elif mode == "binaries":
            self.kubeconfig = self._start_binaries(workdir)
        else:
            server_options = replace(
                self.options.server or ServerOptions(), controllers=self.options.controllers
            )
            self.server = APIServer(server_options)
            self.server.start(timeout=self.options.start_timeout)
            self.kubeconfig = self.server.write_kubeconfig(workdir / "kubeconfig")
        crd_install = self.options.crd_install
        if crd_install is not None:
            try:
                self.crds = install_crds(self._client(), crd_install)
            except BaseException:
                self.stop()
                raise
        return self.kubeconfig

    def _client(self) -> Client:
        assert self.kubeconfig is not None, "start() sets the kubeconfig first"
        return Client(RestConfig.from_kubeconfig(self.kubeconfig))

    def service_account_kubeconfig(
        self, namespace: str, name: str, *, expiration_seconds: int = 3600
    ) -> Path:
        """A kubeconfig that authenticates as ServiceAccount ``namespace/name``.

        The ServiceAccount is created if missing and a token is requested for it (TokenRequest,
        as ``kubectl create token``), so code run with this kubeconfig has exactly the
        permissions the cluster's RBAC gives that account: a test applies a controller's
        RBAC manifests, then runs the controller with this identity. Works in every mode.
        """
        if self.kubeconfig is None or self._workdir is None:
            raise RuntimeError("the environment is not started: call start() first")
        return service_account_kubeconfig(
            self.kubeconfig,
            namespace,
            name,
            Path(self._workdir.name) / f"{namespace}.{name}.kubeconfig",
            expiration_seconds=expiration_seconds,
        )

    def stop(self) -> None:
        """Remove the CRDs ``start`` installed (with ``cleanup_on_stop``), then stop whatever
        ``start`` started (an existing cluster is left alone)."""
        crd_install = self.options.crd_install
        if self.crds and crd_install is not None and crd_install.cleanup_on_stop:
            crds, self.crds = self.crds, []
            uninstall_crds(self._client(), crds, crd_install)
        if self.server is not None:
            self.server.stop()
            self.server = None
        for process in reversed(self._processes):
            process.terminate()
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
        self._processes.clear()
        if self._workdir is not None:
            self._workdir.cleanup()
            self._workdir = None

    def __enter__(self) -> Path:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def _start_binaries(self, workdir: Path) -> Path:
        assets = Path(self.options.binary_assets or os.environ["KUBEBUILDER_ASSETS"])
        etcd, apiserver = assets / "etcd", assets / "kube-apiserver"
        for binary in (etcd, apiserver):
            if not binary.exists():
                raise FileNotFoundError(
                    f"KUBEBUILDER_ASSETS={assets} has no {binary.name}; install it with "
                    "setup-envtest, or unset KUBEBUILDER_ASSETS to use the embedded server"
                )
        etcd_port, peer_port, api_port = _free_port(), _free_port(), _free_port()
        etcd_url = f"http://127.0.0.1:{etcd_port}"
        self._processes.append(
            subprocess.Popen(
                [str(etcd), "--data-dir", str(workdir / "etcd"), "--listen-client-urls", etcd_url,
                 "--advertise-client-urls", etcd_url,
                 "--listen-peer-urls", f"http://127.0.0.1:{peer_port}"],
                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
            )
        )  # fmt: skip
        token = "envtest-token"
        (workdir / "tokens.csv").write_text(f'{token},admin,admin,"system:masters"\n')
        certs = workdir / "certs"
        certs.mkdir()
        self._processes.append(
            subprocess.Popen(
                [str(apiserver), "--etcd-servers", etcd_url, "--secure-port", str(api_port),
                 "--bind-address", "127.0.0.1", "--cert-dir", str(certs),
                 "--token-auth-file", str(workdir / "tokens.csv"),
                 "--service-cluster-ip-range", "10.0.0.0/24", "--authorization-mode", "RBAC",
                 "--service-account-issuer", "https://kubernetes.default.svc",
                 "--service-account-key-file", str(certs / "apiserver.crt"),
                 "--service-account-signing-key-file", str(certs / "apiserver.key")],
                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
            )
        )  # fmt: skip
        url = f"https://127.0.0.1:{api_port}"
        self._wait_ready(url, token)
        kubeconfig = workdir / "kubeconfig"
        kubeconfig.write_text(
            "apiVersion: v1\nkind: Config\n"
            f"clusters: [{{name: envtest, cluster: {{server: '{url}', "
            "insecure-skip-tls-verify: true}}]\n"
            f"users: [{{name: envtest, user: {{token: {token}}}}}]\n"
            "contexts: [{name: envtest, context: {cluster: envtest, user: envtest}}]\n"
            "current-context: envtest\n"
        )
        return kubeconfig

    def _wait_ready(self, url: str, token: str) -> None:
        context = ssl.create_default_context()
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
        deadline = time.monotonic() + self.options.start_timeout
        last_error = ""
        while time.monotonic() < deadline:
            request = urllib.request.Request(
                f"{url}/readyz", headers={"Authorization": f"Bearer {token}"}
            )
            try:
                with urllib.request.urlopen(request, context=context, timeout=2) as response:
                    if response.status == 200:
                        return
            except (urllib.error.URLError, OSError) as exc:
                last_error = str(exc)
            time.sleep(0.2)
        self.stop()
        raise TimeoutError(
            f"kube-apiserver at {url} not ready after {self.options.start_timeout}s "
            f"({last_error}); check the binaries in KUBEBUILDER_ASSETS"
        )
