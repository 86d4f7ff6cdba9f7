"""The framework never imports the embedded API server (nor aiohttp or cel-python).

Each framework module is imported in a fresh process, so one module's imports cannot hide
another's. A module that pulls in ``reconcile.apiserver`` makes every program that embeds
the framework pay the server's ~0.4 s and ~25 MB for nothing.

To keep this quick, one fresh interpreter first imports the third-party libraries the
framework may use (kubernetes, urllib3, prometheus_client, ...; never a ``reconcile``
module, aiohttp or celpy), then forks one child per framework module: each child starts
with no ``reconcile`` module loaded, imports its module and reports what got loaded.
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
ALLOWED_PRELOAD = (
    "kubernetes.client",
    "kubernetes.config",
    "urllib3",
    "prometheus_client",
    "tenacity",
    "watchdog.observers",
)

_PROBE = """
import importlib, json, os, sys

FORBIDDEN = {forbidden!r}

def loaded():
    return sorted({{f for f in FORBIDDEN for m in sys.modules
                   if m == f or m.startswith(f + ".")}})

for name in {preload!r}:
    importlib.import_module(name)
assert not loaded(), f"a preloaded library imported {{loaded()}}"
assert not any(m.startswith("reconcile") for m in sys.modules), "reconcile was preloaded"

report = {{}}
for name in sys.argv[1:]:
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:
        os.close(read)
        try:
            importlib.import_module(name)
            result = loaded()
        except BaseException as error:
            result = ["import failed: " + repr(error)]
        os.write(write, json.dumps(result).encode())
        os._exit(0)
    os.close(write)
    chunks = []
    while chunk := os.read(read, 65536):
        chunks.append(chunk)
    os.close(read)
    os.waitpid(pid, 0)
    report[name] = json.loads(b"".join(chunks))
print(json.dumps(report))
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
    probe = _PROBE.format(forbidden=FORBIDDEN, preload=ALLOWED_PRELOAD)
    out = subprocess.run(
        [sys.executable, "-c", probe, *modules],
        capture_output=True,
        text=True,
        check=True,
        timeout=300,
    ).stdout
    report: dict[str, list[str]] = json.loads(out)
    assert sorted(report) == sorted(modules)
    leaks = {name: loaded for name, loaded in report.items() if loaded}
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
