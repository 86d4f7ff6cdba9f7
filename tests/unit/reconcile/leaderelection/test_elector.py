"""The elector leaves no thread behind: ``close`` waits for an abandoned lease request."""

from __future__ import annotations

import threading
from typing import Any

from reconcile.errors import NotFound
from reconcile.leaderelection import LeaderElectionOptions, LeaderElector, LeaseLock


class HangingClient:
    """A lease client whose first read hangs until released (a stuck connection)."""

    def __init__(self) -> None:
        self.entered = threading.Event()
        self.release = threading.Event()

    def get(self, kind: Any, name: str, namespace: str | None = None) -> dict[str, Any]:
        self.entered.set()
        self.release.wait(30)
        raise NotFound("no lease")

    def create(self, obj: dict[str, Any]) -> dict[str, Any]:
        return obj

    def update(self, obj: dict[str, Any]) -> dict[str, Any]:
        return obj


def test_close_waits_for_an_abandoned_attempt_and_stops_new_ones() -> None:
    client = HangingClient()
    options = LeaderElectionOptions(name="lease", namespace="default", identity="me")
    elector = LeaderElector(LeaseLock(client, name="lease", namespace="default"), options)
    assert elector._attempt(timeout=0.05) is False, "a hung request is abandoned at the deadline"
    assert client.entered.is_set()
    assert elector.close(timeout=0.05) is False, "the hung request still holds its thread"
    client.release.set()
    assert elector.close(timeout=10) is True
    assert not any(t.name == "leaderelection-attempt" for t in threading.enumerate())
    assert elector._attempt(timeout=1.0) is False, "a closed elector starts no attempt"
