"""The framework never imports the embedded API server (nor aiohttp or cel-python).

Each framework module is imported in a fresh interpreter, so one module's imports cannot
hide another's; a module that pulls in ``reconcile.apiserver`` makes every program that
embeds the framework pay the server's ~0.4 s and ~25 MB for nothing.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import reconcile

FORBIDDEN = ("reconcile.apiserver", "aiohttp", "celpy")
ROOT = Path(reconcile.__file__).parent
SERVER_SIDE = ("reconcile.apiserver", "reconcile.envtest")

_PROBE = """
import importlib, json, sys
report = {}
for name in sys.argv[1:]:
    importlib.import_module(name)
print(json.dumps(sorted(m for m in sys.modules if m.split(".")[0] in ("aiohttp", "celpy")
      or m == "reconcile.apiserver" or m.startswith("reconcile.apiserver."))))
"""


def framework_modules() -> list[str]:
    names = []
    for path in sorted(ROOT.rglob("*.py")):
        parts = path.relative_to(ROOT.parent).with_suffix("").parts
        if parts[-1] == "__init__":
            parts = parts[:-1]
        name = ".".join(parts)
        if not name.startswith(SERVER_SIDE):
            names.append(name)
    return names


def test_every_framework_module_imports_without_the_server() -> None:
    modules = framework_modules()
    assert "reconcile.cache.cache" in modules and "reconcile.labels" in modules
    leaks: dict[str, list[str]] = {}
    # One interpreter per module: a few are started in parallel to keep this quick.
    processes = {
        name: subprocess.Popen(
            [sys.executable, "-c", _PROBE, name], stdout=subprocess.PIPE, text=True
        )
        for name in modules
    }
    for name, process in processes.items():
        out, _ = process.communicate(timeout=120)
        assert process.returncode == 0, f"importing {name} failed"
        loaded = json.loads(out)
        if loaded:
            leaks[name] = loaded
    assert leaks == {}, f"framework modules importing {FORBIDDEN}: {leaks}"


def test_facade_import_is_lazy() -> None:
    out = subprocess.run(
        [
            sys.executable,
            "-c",
            "import sys, reconcile; "
            "print(sorted(m for m in sys.modules if m.startswith('reconcile.')))",
        ],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert out.strip() == "['reconcile._lazy']"
