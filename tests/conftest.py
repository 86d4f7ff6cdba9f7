"""Shared fixtures: a fresh embedded API server per test, its kubeconfig and real kubectl."""

from __future__ import annotations

import hashlib
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from reconcile.apiserver import APIServer, ServerOptions
from reconcile.client import Client, RestConfig


@pytest.fixture
def apiserver_options() -> ServerOptions:
    """Override in a test module to start the server differently."""
    return ServerOptions()


@pytest.fixture
def apiserver(apiserver_options: ServerOptions) -> Iterator[APIServer]:
    server = APIServer(apiserver_options)
    server.start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def kubeconfig(apiserver: APIServer, tmp_path: Path) -> Path:
    return apiserver.write_kubeconfig(tmp_path / "kubeconfig")


class Kubectl:
    """The real kubectl binary against one kubeconfig, with a private cache dir."""

    def __init__(self, kubeconfig: Path, cache_dir: Path) -> None:
        binary = shutil.which("kubectl")
        if binary is None:
            raise RuntimeError(
                "kubectl is not on PATH; the integration tests drive the real binary"
            )
        self.base = [binary, "--kubeconfig", str(kubeconfig), "--cache-dir", str(cache_dir)]

    def command(self, *args: str) -> list[str]:
        return [*self.base, *args]

    def run(
        self, *args: str, input: str | None = None, check: bool = True, timeout: float = 60
    ) -> subprocess.CompletedProcess[str]:
        result = subprocess.run(
            self.command(*args),
            input=input,
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )
        if check and result.returncode != 0:
            raise AssertionError(
                f"kubectl {' '.join(args)} failed ({result.returncode}):\n{result.stderr}"
            )
        return result

    def __call__(self, *args: str, input: str | None = None) -> str:
        return self.run(*args, input=input).stdout


@pytest.fixture
def kubectl(kubeconfig: Path, tmp_path: Path) -> Kubectl:
    return Kubectl(kubeconfig, tmp_path / "kubectl-cache")


@pytest.fixture
def rest_config(kubeconfig: Path) -> RestConfig:
    return RestConfig.from_kubeconfig(kubeconfig)


@pytest.fixture
def client(rest_config: RestConfig) -> Client:
    return Client(rest_config)


@pytest.fixture(scope="module")
def shared_apiserver() -> Iterator[APIServer]:
    """One embedded server for a whole test module; tests keep apart by namespace."""
    server = APIServer(ServerOptions())
    server.start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="module")
def shared_kubeconfig(
    shared_apiserver: APIServer, tmp_path_factory: pytest.TempPathFactory
) -> Path:
    return shared_apiserver.write_kubeconfig(tmp_path_factory.mktemp("shared") / "kubeconfig")


@pytest.fixture
def shared_client(shared_kubeconfig: Path) -> Client:
    return Client(RestConfig.from_kubeconfig(shared_kubeconfig))


@pytest.fixture
def namespace(shared_client: Client, request: pytest.FixtureRequest) -> str:
    """A namespace of this test's own on the shared server."""
    digest = hashlib.sha1(request.node.nodeid.encode()).hexdigest()[:10]
    name = f"t-{digest}"
    shared_client.create({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": name}})
    return name
