"""Installing CRDs for a test API server, like envtest's ``CRDInstallOptions``.

``install_crds`` reads every ``CustomResourceDefinition`` from the given files and
directories (``.yaml``/``.yml``/``.json``, multi-document YAML, other kinds ignored) plus
any given as dicts, creates them (or updates those that exist), and waits until every
served version is in discovery, so a test may use the kinds at once. ``uninstall_crds``
deletes them and waits until they are gone. ``Environment`` does both when its options
carry a ``CRDInstallOptions`` (``cleanup_on_stop``).
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from reconcile.client import Client
from reconcile.client.ignore import ignore_not_found
from reconcile.errors import AlreadyExists, NotFound
from reconcile.gvk import GroupVersionKind

__all__ = ["CRD", "CRDInstallOptions", "install_crds", "read_crds", "uninstall_crds"]

CRD = GroupVersionKind("apiextensions.k8s.io", "v1", "CustomResourceDefinition")
_SUFFIXES = (".yaml", ".yml", ".json")


@dataclass(frozen=True, kw_only=True)
class CRDInstallOptions:
    """Which CRDs a test environment installs. Usage::

    CRDInstallOptions(paths=["config/crd/bases"], error_if_path_missing=True)
    """

    paths: Sequence[str | Path] = ()
    """Files or directories (not recursive) to read CRDs from."""
    crds: Sequence[dict[str, Any]] = ()
    """CRD objects to install as well."""
    error_if_path_missing: bool = False
    """Raise FileNotFoundError for a path that does not exist (else it is skipped)."""
    max_time: float = 10.0
    """Seconds to wait until every CRD is served (and, on removal, gone)."""
    poll_interval: float = 0.05
    """Seconds between discovery checks while waiting."""
    cleanup_on_stop: bool = True
    """Delete the installed CRDs (and so all their objects) when the environment stops."""


def _documents(path: Path) -> list[Any]:
    text = path.read_text()
    if path.suffix == ".json":
        return [json.loads(text)]
    return [doc for doc in yaml.safe_load_all(text) if doc is not None]


def read_crds(options: CRDInstallOptions) -> list[dict[str, Any]]:
    """The CRDs named by ``options``, in path order, then ``options.crds``."""
    found: list[dict[str, Any]] = []
    for entry in options.paths:
        path = Path(entry)
        if not path.exists():
            if options.error_if_path_missing:
                raise FileNotFoundError(
                    f"CRD path {path} does not exist; generate the CRDs first, or drop "
                    "error_if_path_missing"
                )
            continue
        files = (
            sorted(p for p in path.iterdir() if p.suffix in _SUFFIXES) if path.is_dir() else [path]
        )
        for file in files:
            found += [
                doc
                for doc in _documents(file)
                if isinstance(doc, dict) and doc.get("kind") == "CustomResourceDefinition"
            ]
    return found + [dict(crd) for crd in options.crds]


def install_crds(client: Client, options: CRDInstallOptions) -> list[dict[str, Any]]:
    """Create (or update) the CRDs and wait until they are served; return them."""
    crds = read_crds(options)
    for crd in crds:
        try:
            client.create(crd)
        except AlreadyExists:
            current = client.get(CRD, crd["metadata"]["name"])
            client.update(
                {**crd, "metadata": {**crd["metadata"], **_version_of(current)}},
            )
    _wait(
        lambda: all(_served(client, crd) for crd in crds),
        options,
        "CRDs to be served: " + ", ".join(crd["metadata"]["name"] for crd in crds),
    )
    return crds


def uninstall_crds(
    client: Client, crds: Sequence[dict[str, Any]], options: CRDInstallOptions
) -> None:
    """Delete the CRDs and wait until they are gone."""
    for crd in crds:
        with ignore_not_found():
            client.delete(crd)

    def gone() -> bool:
        for crd in crds:
            try:
                client.get(CRD, crd["metadata"]["name"])
            except NotFound:
                continue
            return False
        return True

    _wait(gone, options, "CRDs to be removed")


def _version_of(current: dict[str, Any]) -> dict[str, Any]:
    return {"resourceVersion": current["metadata"]["resourceVersion"]}


def _served(client: Client, crd: dict[str, Any]) -> bool:
    spec = crd["spec"]
    plural = spec["names"]["plural"]
    for version in spec.get("versions") or []:
        if not version.get("served", True):
            continue
        try:
            listing = client.transport.request(
                "GET", f"/apis/{spec['group']}/{version['name']}"
            ).body
        except NotFound:
            return False
        if not any(r.get("name") == plural for r in listing.get("resources") or []):
            return False
    return True


def _wait(condition: Callable[[], bool], options: CRDInstallOptions, what: str) -> None:
    deadline = time.monotonic() + options.max_time
    while not condition():
        if time.monotonic() >= deadline:
            raise TimeoutError(f"timed out after {options.max_time:g}s waiting for {what}")
        time.sleep(options.poll_interval)
