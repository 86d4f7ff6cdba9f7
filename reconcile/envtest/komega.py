"""Waiting on objects in tests, like controller-runtime's ``komega`` with gomega's Eventually.

A test states what an object must come to look like, and the helper polls the API until it
does, or fails with what it last saw::

    k = Komega(client, timeout=10)
    k.eventually(pool).has("status.readyReplicas", 3)
    k.eventually(pool).has({"status": {"conditions": [{"type": "Ready", "status": "True"}]}})
    k.eventually(pod).has(lambda p: p["status"]["phase"] == "Running")
    k.eventually(config_map).is_gone()
    k.consistently(pool, duration=1).has("spec.replicas", 2)
    k.update(pool, lambda p: p["spec"].update(replicas=3))      # retried on conflict

An object is named by a dict carrying ``apiVersion``, ``kind`` and ``metadata.name``
(``namespace`` too for namespaced kinds) or by ``(kind, name, namespace)``. ``has`` takes a
dotted path and the value it must equal, a partial object (every key given must match;
lists must contain a matching element for each element given), or a predicate. It returns
the object that matched. Failures raise ``AssertionError``, so any test runner reports them.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from typing import Any, cast

from reconcile.client.interfaces import ObjectClient, Reader
from reconcile.client.retry import retry_on_conflict
from reconcile.errors import NotFound
from reconcile.gvk import GroupVersionKind, KindLike

__all__ = ["Consistently", "Eventually", "Komega", "matches"]

Obj = dict[str, Any]
Ref = Obj | tuple[KindLike, str, str | None]
Check = str | Mapping[str, Any] | Callable[[Obj], bool]
_MISSING = object()


def _lookup(obj: Any, path: str) -> Any:
    for part in path.split("."):
        if isinstance(obj, Mapping) and part in obj:
            obj = obj[part]
        elif isinstance(obj, list) and part.isdigit() and int(part) < len(obj):
            obj = obj[int(part)]
        else:
            return _MISSING
    return obj


def matches(actual: Any, expected: Any) -> bool:
    """Whether ``actual`` contains ``expected``: mappings by key, lists element-wise (each
    expected element matches some actual element), anything else by equality."""
    if isinstance(expected, Mapping):
        return isinstance(actual, Mapping) and all(
            key in actual and matches(actual[key], value) for key, value in expected.items()
        )
    if isinstance(expected, list):
        return isinstance(actual, list) and all(
            any(matches(item, wanted) for item in actual) for wanted in expected
        )
    return bool(actual == expected)


def _predicate(check: Check, value: Any) -> tuple[Callable[[Obj], bool], str]:
    if callable(check):
        return check, getattr(check, "__name__", "predicate")
    if isinstance(check, str):
        if value is _MISSING:
            return (lambda obj: _lookup(obj, check) is not _MISSING), f"{check} to be set"
        return (lambda obj: _lookup(obj, check) == value), f"{check} == {value!r}"
    return (lambda obj: matches(obj, check)), f"to contain {dict(check)!r}"


class _Poll:
    def __init__(self, komega: Komega, ref: Ref, seconds: float) -> None:
        self._komega = komega
        self._ref = ref
        self._seconds = seconds

    def _read(self) -> Obj | None:
        try:
            return self._komega.get(self._ref)
        except NotFound:
            return None

    def _describe(self) -> str:
        kind, name, namespace = self._komega.reference(self._ref)
        where = f"{namespace}/{name}" if namespace else name
        return f"{getattr(kind, 'kind', kind)} {where}"


class Eventually(_Poll):
    """Polls until a condition holds or the timeout passes."""

    def has(self, check: Check, value: Any = _MISSING) -> Obj:
        """Wait until the object exists and satisfies ``check`` (see the module docstring)."""
        predicate, wanted = _predicate(check, value)
        last: Obj | None = None
        deadline = time.monotonic() + self._seconds
        while True:
            last = self._read()
            if last is not None and predicate(last):
                return last
            if time.monotonic() >= deadline:
                seen = "it does not exist" if last is None else f"last seen: {last!r}"
                raise AssertionError(
                    f"timed out after {self._seconds:g}s waiting for {self._describe()} "
                    f"{wanted}; {seen}"
                )
            time.sleep(self._komega.interval)

    def exists(self) -> Obj:
        """Wait until the object exists."""
        return self.has(lambda obj: True)

    def is_gone(self) -> None:
        """Wait until reading the object gives NotFound."""
        deadline = time.monotonic() + self._seconds
        while (last := self._read()) is not None:
            if time.monotonic() >= deadline:
                raise AssertionError(
                    f"timed out after {self._seconds:g}s waiting for {self._describe()} to be "
                    f"gone; last seen: {last!r}"
                )
            time.sleep(self._komega.interval)


class Consistently(_Poll):
    """Polls for the whole duration; fails as soon as the condition does not hold."""

    def has(self, check: Check, value: Any = _MISSING) -> Obj:
        predicate, wanted = _predicate(check, value)
        deadline = time.monotonic() + self._seconds
        while True:
            last = self._read()
            if last is None or not predicate(last):
                seen = "it does not exist" if last is None else f"saw: {last!r}"
                raise AssertionError(f"expected {self._describe()} {wanted} throughout; {seen}")
            if time.monotonic() >= deadline:
                return last
            time.sleep(self._komega.interval)


class Komega:
    """Test helpers bound to one reader (and, for ``update``, writer)."""

    def __init__(
        self, client: Reader | ObjectClient, *, timeout: float = 10.0, interval: float = 0.05
    ) -> None:
        self.client = client
        self.timeout = timeout
        self.interval = interval

    @staticmethod
    def reference(ref: Ref) -> tuple[KindLike, str, str | None]:
        """(kind, name, namespace) of an object dict or a reference tuple."""
        if isinstance(ref, tuple):
            return ref
        meta = ref.get("metadata") or {}
        return GroupVersionKind.of_object(ref), str(meta.get("name", "")), meta.get("namespace")

    def get(self, ref: Ref) -> Obj:
        """The object as the client sees it now (komega's ``Get``/``Object``)."""
        kind, name, namespace = self.reference(ref)
        return self.client.get(kind, name, namespace)

    def eventually(self, ref: Ref, *, timeout: float | None = None) -> Eventually:
        return Eventually(self, ref, self.timeout if timeout is None else timeout)

    def consistently(self, ref: Ref, *, duration: float = 1.0) -> Consistently:
        return Consistently(self, ref, duration)

    def update(self, ref: Ref, mutate: Callable[[Obj], None], *, status: bool = False) -> Obj:
        """Read, ``mutate`` and write the object (its status with ``status=True``), again
        on conflict; return what the server stored."""
        if not callable(getattr(self.client, "update", None)):
            raise TypeError("Komega.update needs a client that can write, not only a reader")
        client = cast(ObjectClient, self.client)

        def attempt() -> Obj:
            current = self.get(ref)
            mutate(current)
            return client.status().update(current) if status else client.update(current)

        return retry_on_conflict(attempt)
