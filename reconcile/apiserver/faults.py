"""Fault injection for tests: fail, delay or cut requests the way a sick API server would.

Thread-safe: tests call these from their own thread while the server runs on its loop.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable
from dataclasses import dataclass

__all__ = ["Faults", "Rule"]


@dataclass(kw_only=True)
class Rule:
    """Applies to requests whose verb, resource, user and name match (None matches any)."""

    verb: str | None
    resource: str | None
    remaining: int
    code: int = 0
    delay: float = 0.0
    retry_after: int | None = None
    user: str | None = None
    """Only requests made by this user (e.g. ``system:serviceaccount:ns:name``)."""
    name: str | None = None
    """Only requests for the object of this name."""

    def matches(self, verb: str, resource: str, user: str = "", name: str = "") -> bool:
        return (
            self.verb in (None, verb)
            and self.resource in (None, resource)
            and self.user in (None, user)
            and self.name in (None, name)
        )


class Faults:
    """Rules consulted by every resource request, plus watch cuts and stalls."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._rules: list[Rule] = []
        self._cut: Callable[[], int] = lambda: 0
        self._stall: Callable[[bool], None] = lambda stalled: None
        self.requests: list[tuple[str, str, str]] = []
        """(verb, resource, query string) of every resource request, for assertions."""
        self._kill_after: int | None = None

    def fail(
        self,
        *,
        code: int,
        verb: str | None = None,
        resource: str | None = None,
        count: int = 1,
        retry_after: int | None = None,
        user: str | None = None,
        name: str | None = None,
    ) -> None:
        """Answer the next ``count`` matching requests with HTTP ``code`` (a Status body);
        with ``user`` and ``name``, only requests that user makes for that object (a 409 for
        one controller's write of one object, say, while every other request goes on)."""
        with self._lock:
            self._rules.append(
                Rule(
                    verb=verb,
                    resource=resource,
                    remaining=count,
                    code=code,
                    retry_after=retry_after,
                    user=user,
                    name=name,
                )
            )

    def delay(
        self,
        *,
        seconds: float,
        verb: str | None = None,
        resource: str | None = None,
        count: int = 1,
    ) -> None:
        """Hold the next ``count`` matching requests for ``seconds`` before serving them."""
        with self._lock:
            self._rules.append(Rule(verb=verb, resource=resource, remaining=count, delay=seconds))

    def clear(self) -> None:
        with self._lock:
            self._rules.clear()

    def take(
        self, verb: str, resource: str, query: str, *, user: str = "", name: str = ""
    ) -> Rule | None:
        """The first matching rule (consuming one use), recording the request."""
        with self._lock:
            self.requests.append((verb, resource, query))
            for rule in self._rules:
                if rule.remaining > 0 and rule.matches(verb, resource, user, name):
                    rule.remaining -= 1
                    return rule
            return None

    def count(self, verb: str, resource: str | None = None) -> int:
        """How many requests of ``verb`` (and ``resource``) were served so far."""
        with self._lock:
            return sum(1 for v, r, _ in self.requests if v == verb and resource in (None, r))

    def kill_during_write(self, *, after: int = 0) -> None:
        """Kill this process (exit 137, like SIGKILL) inside the durable write that follows
        ``after`` more writes, between its object and revision statements."""
        with self._lock:
            self._kill_after = after

    def between_persistence_statements(self) -> None:
        """The persistence fault hook: dies here once ``kill_during_write`` is due."""
        with self._lock:
            if self._kill_after is None:
                return
            if self._kill_after > 0:
                self._kill_after -= 1
                return
        os._exit(137)

    def bind(self, cut: Callable[[], int], stall: Callable[[bool], None]) -> None:
        self._cut = cut
        self._stall = stall

    def cut_watches(self) -> int:
        """Close every open watch stream now; returns how many were closed."""
        return self._cut()

    def stall_watches(self, stalled: bool = True) -> None:
        """Keep watch connections open but send nothing (a silent, hung stream).

        A stalled stream drops its events, so lifting the stall also ends every stream (as
        a hung connection is finally reset) rather than let one go on past its gap: each
        client resumes from the last resourceVersion it got and misses nothing (or relists
        on 410 Gone if that is too old).
        """
        self._stall(stalled)
