"""Kubeconfig files for the embedded server: its URL, its CA, and one user's credentials."""

from __future__ import annotations

import base64
import os
from pathlib import Path
from typing import Any

import yaml

__all__ = ["build_kubeconfig", "write_kubeconfig"]


def build_kubeconfig(
    server: str,
    *,
    ca_pem: bytes | None = None,
    user: dict[str, Any] | None = None,
    user_name: str = "kreconcile",
    namespace: str = "default",
) -> dict[str, Any]:
    """One cluster, one user, one current context named ``kreconcile``.

    ``user`` holds the credentials as kubeconfig spells them: ``{"token": ...}`` or
    ``{"client-certificate-data": ..., "client-key-data": ...}`` (base64 PEM).
    """
    cluster: dict[str, Any] = {"server": server}
    if ca_pem is not None:
        cluster["certificate-authority-data"] = base64.b64encode(ca_pem).decode()
    return {
        "apiVersion": "v1",
        "kind": "Config",
        "clusters": [{"name": "kreconcile", "cluster": cluster}],
        "users": [{"name": user_name, "user": user or {}}],
        "contexts": [
            {
                "name": "kreconcile",
                "context": {"cluster": "kreconcile", "user": user_name, "namespace": namespace},
            }
        ],
        "current-context": "kreconcile",
    }


def write_kubeconfig(path: str | os.PathLike[str], config: dict[str, Any]) -> Path:
    """Write owner-only and atomically, so a waiting script never reads half a file."""
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    temporary = target.with_name(f".{target.name}.tmp")
    fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as handle:
        handle.write(yaml.safe_dump(config, sort_keys=False))
    os.replace(temporary, target)
    return target
