"""The bench's own virtual environment for kopf, created on demand.

kopf is what kreconcile is compared with, not something it depends on: it is installed (the
newest release on the package index, with the ``kubernetes`` client its operator uses) into a
separate, git-ignored environment, never into the project's ``.venv`` or ``pyproject.toml``.
Each run asks pip for upgrades; without network access an existing install is reused, and
with neither the benchmark stops with a message that says so.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

PACKAGES = ("kopf", "kubernetes")
_VERSIONS = (
    "import importlib.metadata as m, json; "
    f"print(json.dumps({{p: m.version(p) for p in {PACKAGES!r}}}))"
)


class KopfUnavailable(RuntimeError):
    """kopf could not be installed into the bench environment and none was there before."""


def python_of(venv: Path) -> Path:
    return venv / "bin" / "python"


def installed_versions(venv: Path) -> dict[str, str] | None:
    """{package: version} of an importable install in ``venv``, or None."""
    python = python_of(venv)
    if not python.exists():
        return None
    result = subprocess.run(
        [str(python), "-c", f"import kopf, kubernetes; {_VERSIONS}"],
        capture_output=True, text=True, check=False, timeout=120,
    )  # fmt: skip
    if result.returncode != 0:
        return None
    versions: dict[str, str] = json.loads(result.stdout)
    return versions


def ensure_kopf(venv: Path, *, upgrade: bool = True) -> dict[str, str]:
    """Make ``venv`` hold the newest kopf (or keep what it has offline); return the versions."""
    if not python_of(venv).exists():
        created = subprocess.run(
            [sys.executable, "-m", "venv", str(venv)], capture_output=True, text=True, check=False
        )
        if created.returncode != 0:
            raise KopfUnavailable(
                f"cannot create the kopf environment at {venv}: {created.stderr.strip()}"
            )
    existing = installed_versions(venv)
    if existing is not None and not upgrade:
        return existing
    pip = subprocess.run(
        [str(python_of(venv)), "-m", "pip", "install", "--quiet", "--disable-pip-version-check",
         "--upgrade", *PACKAGES],
        capture_output=True, text=True, check=False, timeout=900,
    )  # fmt: skip
    versions = installed_versions(venv)
    if versions is not None:
        if pip.returncode != 0:
            print(f"warning: could not upgrade kopf, using the installed {versions}", flush=True)
        return versions
    tail = "\n".join(pip.stderr.strip().splitlines()[-5:])
    raise KopfUnavailable(
        f"kopf could not be installed into {venv} (pip exit {pip.returncode}):\n{tail}\n"
        "the comparison needs the package index (PyPI) once to install kopf; run it where pip "
        "can reach it, or point --kopf-venv at an environment that has kopf and kubernetes"
    )
