"""The rendered deploy tree, read once per test session."""

from __future__ import annotations

import functools
import shutil
import subprocess
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parents[3]
CONFIG = ROOT / "config"


@functools.cache
def rendered(directory: str = "default") -> tuple[dict[str, Any], ...]:
    """``kubectl kustomize config/<directory>`` as objects."""
    kubectl = shutil.which("kubectl")
    assert kubectl is not None, "kubectl is not on PATH"
    out = subprocess.run(
        [kubectl, "kustomize", str(CONFIG / directory)],
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    ).stdout
    return tuple(doc for doc in yaml.safe_load_all(out) if doc)


def find(kind: str, name: str) -> dict[str, Any]:
    matches = [d for d in rendered() if d["kind"] == kind and d["metadata"]["name"] == name]
    assert len(matches) == 1, f"expected one {kind} {name}, found {len(matches)}"
    return matches[0]
