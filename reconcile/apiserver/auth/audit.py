"""Which authorization decisions the server made, per user: what code was seen to use.

A least-privilege claim ("the manager's ClusterRole grants exactly what the manager uses")
is only as good as the list of permissions the code was seen to use. With
``ServerOptions(authorization_log=N)`` the server keeps every distinct decision it made,
allowed or not, for requests and for the permission checks its admission makes on the
requester's behalf (``ownerrefs``): the attributes as the authorizer saw them (user, verb,
API group, resource, subresource, namespace, name or non-resource path) and the answer.
A test runs code under a ServiceAccount, then compares the log with that account's roles.

Distinct entries only, at most ``capacity`` of them (the oldest go first, and ``dropped``
counts them, so a reader can tell the log is incomplete): repeated requests cost one dict
lookup. Reads and writes may come from any thread.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass

from reconcile.apiserver.auth.rbac import Attributes, Decision

__all__ = ["AuthorizationLog", "LoggedDecision", "recording"]


@dataclass(frozen=True, slots=True)
class LoggedDecision:
    """One distinct authorization decision."""

    attributes: Attributes
    allowed: bool


class AuthorizationLog:
    """Distinct authorization decisions, oldest first, bounded by ``capacity``."""

    def __init__(self, capacity: int) -> None:
        if capacity < 1:
            raise ValueError(f"an authorization log needs a capacity of at least 1, got {capacity}")
        self._capacity = capacity
        self._entries: dict[LoggedDecision, None] = {}
        self._lock = threading.Lock()
        self.dropped = 0
        """Entries forgotten to stay within ``capacity``."""

    def record(self, attributes: Attributes, allowed: bool) -> None:
        entry = LoggedDecision(attributes, allowed)
        with self._lock:
            if entry in self._entries:
                return
            self._entries[entry] = None
            if len(self._entries) > self._capacity:
                del self._entries[next(iter(self._entries))]
                self.dropped += 1

    def decisions(self, user: str | None = None) -> list[LoggedDecision]:
        """Every kept decision (about ``user`` only, when given), oldest first."""
        with self._lock:
            entries = list(self._entries)
        return [e for e in entries if user is None or e.attributes.user.name == user]


def recording(
    authorize: Callable[[Attributes], Decision], log: AuthorizationLog | None
) -> Callable[[Attributes], Decision]:
    """``authorize`` that also records each decision in ``log`` (unchanged when None)."""
    if log is None:
        return authorize

    def authorize_and_record(attributes: Attributes) -> Decision:
        decision = authorize(attributes)
        log.record(attributes, decision.allowed)
        return decision

    return authorize_and_record
