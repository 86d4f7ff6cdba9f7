"""One embedded API server per test module, driven by the real kubectl."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from reconcile.apiserver import APIServer, ServerOptions
from tests.conftest import Kubectl


@pytest.fixture(scope="module")
def shared_kubectl(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Kubectl]:
    server = APIServer(ServerOptions())
    server.start()
    try:
        directory = tmp_path_factory.mktemp("kubectl")
        kubeconfig = server.write_kubeconfig(directory / "kubeconfig")
        yield Kubectl(kubeconfig, directory / "cache")
    finally:
        server.stop()
