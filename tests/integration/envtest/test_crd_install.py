"""envtest installs a directory of CRDs, waits until they are served, and removes them."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from reconcile.client import Client, RestConfig
from reconcile.envtest import CRDInstallOptions, Environment, EnvironmentOptions
from reconcile.envtest.crd import read_crds
from reconcile.errors import NotFound
from reconcile.gvk import GroupVersionKind
from tests.integration.apiserver.manifests import WIDGET_CRD

GADGET_CRD = (
    WIDGET_CRD.replace("widgets", "gadgets")
    .replace("Widget", "Gadget")
    .replace("widget", "gadget")
    .replace("shortNames: [wd]", "shortNames: [gd]")
)
WIDGET = GroupVersionKind("example.com", "v1", "Widget")
GADGET = GroupVersionKind("example.com", "v1", "Gadget")
CRD = GroupVersionKind("apiextensions.k8s.io", "v1", "CustomResourceDefinition")


def _crd_directory(root: Path) -> Path:
    directory = root / "crd"
    directory.mkdir()
    (directory / "widgets.yaml").write_text(WIDGET_CRD)
    namespace = "apiVersion: v1\nkind: Namespace\nmetadata: {name: not-a-crd}\n"
    (directory / "gadgets.yaml").write_text(GADGET_CRD + "---\n" + namespace)
    (directory / "README.md").write_text("not read")
    return directory


def test_crds_from_a_directory_are_served_at_start_and_removed_at_stop(
    shared_kubeconfig: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("USE_EXISTING_CLUSTER", "true")
    monkeypatch.setenv("KUBECONFIG", str(shared_kubeconfig))
    options = CRDInstallOptions(paths=[_crd_directory(tmp_path)], error_if_path_missing=True)
    environment = Environment(EnvironmentOptions(crd_install=options))
    client = Client(RestConfig.from_kubeconfig(environment.start()))
    try:
        assert sorted(crd["spec"]["names"]["kind"] for crd in environment.crds) == [
            "Gadget",
            "Widget",
        ]
        # Served as soon as start returns: no wait in the test.
        for kind in ("Widget", "Gadget"):
            client.create({"apiVersion": "example.com/v1", "kind": kind,
                           "metadata": {"name": "first", "namespace": "default"}, "spec": {"size": 2}})  # fmt: skip
        with pytest.raises(NotFound):
            client.get(GroupVersionKind("", "v1", "Namespace"), "not-a-crd")
    finally:
        environment.stop()
    for name in ("widgets.example.com", "gadgets.example.com"):
        with pytest.raises(NotFound):
            client.get(CRD, name)


def test_missing_path_is_an_error_only_when_asked(tmp_path: Path) -> None:
    missing = tmp_path / "nope"
    assert read_crds(CRDInstallOptions(paths=[missing], crds=[yaml.safe_load(WIDGET_CRD)])) != []
    with pytest.raises(FileNotFoundError, match="does not exist"):
        read_crds(CRDInstallOptions(paths=[missing], error_if_path_missing=True))
