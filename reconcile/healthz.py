"""Health probes with Kubernetes' conventions: /healthz, /readyz, ``?verbose``, per-check paths.

A check is a function that raises (or returns an error string) when unhealthy. ``/readyz``
fails until the cache has synced, so a Service does not route to a replica that would
answer from an empty cache; liveness only pings, so a slow sync never restarts a pod.
"""

from __future__ import annotations

import threading
from collections.abc import Callable

from reconcile.metrics.server import Route

__all__ = ["Checker", "HealthChecks", "ping"]

Checker = Callable[[], str | None]
"""Returns None when healthy, else the reason (raising also counts as unhealthy)."""


def ping() -> str | None:
    return None


class HealthChecks:
    """Named checks behind one endpoint (``/healthz`` or ``/readyz``)."""

    def __init__(self, endpoint: str) -> None:
        self.endpoint = endpoint
        self._checks: dict[str, Checker] = {"ping": ping}
        self._lock = threading.Lock()

    def add(self, name: str, check: Checker) -> None:
        with self._lock:
            if name in self._checks:
                raise ValueError(f"health check {name!r} is already registered on {self.endpoint}")
            self._checks[name] = check

    def _run(self, name: str, check: Checker) -> str | None:
        try:
            return check()
        except Exception as exc:
            return str(exc) or type(exc).__name__

    def route(self) -> Route:
        def serve(path: str, query: dict[str, list[str]]) -> tuple[int, str, bytes]:
            with self._lock:
                checks = dict(self._checks)
            single = path[len(self.endpoint) :].strip("/")
            if single:
                if single not in checks:
                    return 404, "text/plain", f"no such health check: {single}\n".encode()
                failure = self._run(single, checks[single])
                if failure is None:
                    return 200, "text/plain", b"ok"
                return 500, "text/plain", f"internal server error: {failure}\n".encode()
            excluded = set(query.get("exclude", []))
            lines, failed = [], []
            for name, check in sorted(checks.items()):
                if name in excluded:
                    lines.append(f"[+]{name} excluded: ok")
                    continue
                failure = self._run(name, check)
                if failure is None:
                    lines.append(f"[+]{name} ok")
                else:
                    lines.append(f"[-]{name} failed: reason withheld")
                    failed.append(name)
            label = self.endpoint.strip("/")
            if failed:
                lines.append(f"{label} check failed")
                return 500, "text/plain", ("\n".join(lines) + "\n").encode()
            if "verbose" in query:
                lines.append(f"{label} check passed")
                return 200, "text/plain", ("\n".join(lines) + "\n").encode()
            return 200, "text/plain", b"ok"

        return serve
