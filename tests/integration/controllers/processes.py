"""Starting `kreconcile` subcommands as real processes, and reading their HTTP endpoints."""

from __future__ import annotations

import os
import signal
import socket
import ssl
import subprocess
import sys
import urllib.error
import urllib.request


def free_address() -> str:
    """A loopback address with a port that was free a moment ago."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return f"127.0.0.1:{sock.getsockname()[1]}"


def command(*args: str) -> list[str]:
    """The argv of ``kreconcile ARGS`` run with this interpreter."""
    return [sys.executable, "-m", "controllers.cli", *args]


def environment(**extra: str) -> dict[str, str]:
    return {**os.environ, "PYTHONUNBUFFERED": "1", **extra}


def start(*args: str, env: dict[str, str] | None = None) -> subprocess.Popen[str]:
    return subprocess.Popen(
        command(*args),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env=env or environment(),
    )


def get(address: str, path: str) -> tuple[int, str]:
    """(status, body) of GET http://address/path; (0, error) when nothing answers."""
    return _get(urllib.request.Request(f"http://{address}{path}"))


def get_metrics(address: str, token: str | None) -> tuple[int, str]:
    """(status, body) of GET https://address/metrics with ``token`` as bearer, if any; the
    certificate is not verified (``--metrics-secure`` serves a self-signed one)."""
    context = ssl.create_default_context()
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    return _get(urllib.request.Request(f"https://{address}/metrics", headers=headers), context)


def _get(request: urllib.request.Request, context: ssl.SSLContext | None = None) -> tuple[int, str]:
    try:
        with urllib.request.urlopen(request, timeout=5, context=context) as response:
            return response.status, response.read().decode()
    except urllib.error.HTTPError as error:
        return error.code, error.read().decode()
    except OSError as error:
        return 0, str(error)


def stop(process: subprocess.Popen[str], timeout: float = 20.0) -> tuple[int, str]:
    """SIGTERM, then wait: (exit code, everything it printed)."""
    process.send_signal(signal.SIGTERM)
    try:
        output, _ = process.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        process.kill()
        output, _ = process.communicate()
        raise AssertionError(f"did not stop within {timeout}s after SIGTERM:\n{output}") from None
    return process.returncode, output
