"""The multi-kind informer cache controllers read from (controller-runtime's ``cache.Cache``).

Informers are created on first use of a kind (``get_informer``, ``get``, ``list``) and
started at once if the cache runs; ``reader_fail_on_missing_informer`` makes reads of a kind
without an informer fail instead. Reads wait for the kind's informer to sync; if it does
not within ``sync_timeout``, ``CacheSyncTimeout`` says why: the kind is not served (install
the CRD) or RBAC forbids listing it (grant list/watch), with the last error seen.

What each kind's informer watches (namespaces, selectors, transforms) comes from
``CacheOptions`` (see ``options.py``); a read of a namespace the cache does not watch raises
``NotCached``. ``PartialObjectMetadata(kind)`` has an informer of its own that stores
metadata only. Every ``sync_period`` (jittered per informer) each informer re-delivers its
objects to its handlers; ``remove_informer`` stops one kind's informer and forgets it.

Reads return deep copies by default, so a reconciler may edit what it got and write it
back, as with controller-runtime; ``copy=False`` returns the shared object (read-only).
"""

from __future__ import annotations

import builtins
import logging
import random
import threading
import time
from collections.abc import Callable, Mapping
from typing import Any

from reconcile._jsoncopy import deep_copy
from reconcile.cache.informer import SharedInformer
from reconcile.cache.options import CacheOptions, scopes_for
from reconcile.cache.store import NAMESPACE_INDEX, object_key
from reconcile.client.client import Client, label_selector_string
from reconcile.client.restmapper import NoKindMatch
from reconcile.errors import CacheSyncTimeout, Forbidden, NotCached, NotFound
from reconcile.fields import parse_field_selector
from reconcile.gvk import GroupVersionKind, KindLike, gvk_of, is_metadata_only
from reconcile.labels import parse_selector

__all__ = ["InformerCache"]

log = logging.getLogger(__name__)

_RESYNC_POLL = 1.0
"""Seconds between checks for due resyncs (and for informers created since); shorter
sync periods are checked twice per period."""

InformerKey = tuple[GroupVersionKind, bool]
"""A kind and whether its informer holds metadata only."""


def _key(kind: KindLike) -> InformerKey:
    return gvk_of(kind), is_metadata_only(kind)


class InformerCache:
    """Reads from informers; one informer per kind (and per metadata-only kind), on demand."""

    def __init__(self, client: Client, options: CacheOptions | None = None) -> None:
        self._client = client
        self.options = options or CacheOptions()
        self._informers: dict[InformerKey, SharedInformer] = {}
        self._lock = threading.Lock()
        self._stop: threading.Event | None = None
        self._field_indexes: dict[InformerKey, set[str]] = {}

    def _namespaced(self, gvk: GroupVersionKind) -> bool:
        try:
            return self._client.mapping(gvk).namespaced
        except NoKindMatch:
            return True

    def _new_informer(self, kind: KindLike) -> SharedInformer:
        gvk = gvk_of(kind)
        handler = self.options.watch_error_handler
        return SharedInformer(
            self._client,
            kind,
            scopes=scopes_for(self.options, gvk, self._namespaced(gvk)),
            options=self.options.reflector,
            on_error=(lambda error: handler(gvk, error)) if handler is not None else None,
        )

    def get_informer(self, kind: KindLike) -> SharedInformer:
        """The informer for ``kind``, created (and started, if the cache runs) on first use."""
        key = _key(kind)
        with self._lock:
            informer = self._informers.get(key)
            if informer is None:
                informer = self._new_informer(kind)
                self._informers[key] = informer
                if self._stop is not None:
                    informer.start()
            return informer

    def remove_informer(self, kind: KindLike, timeout: float = 10.0) -> bool:
        """Stop ``kind``'s informer and forget it (its handlers get no more events; the next
        read or ``get_informer`` starts a fresh one). False if there was none."""
        key = _key(kind)
        with self._lock:
            informer = self._informers.pop(key, None)
            self._field_indexes.pop(key, None)
        if informer is None:
            return False
        informer.stop()
        if not informer.join(timeout):
            log.warning("removed informer still finishing a request", extra={"kind": str(key[0])})
        return True

    def index_field(
        self, kind: KindLike, field_path: str, extract: Callable[[dict[str, Any]], list[str]]
    ) -> None:
        """Index ``kind`` by ``extract(obj)`` so ``list(kind, field_selector="<field_path>=v")``
        is a lookup (controller-runtime's IndexField)."""
        informer = self.get_informer(kind)
        informer.store.add_indexer(f"field:{field_path}", extract)
        self._field_indexes.setdefault(_key(kind), set()).add(field_path)

    def start(self, stop: threading.Event) -> None:
        """Start every informer (and any created later); resync them every ``sync_period``
        until ``stop`` is set, then end every informer thread (waiting at most
        ``shutdown_timeout`` for them)."""
        with self._lock:
            self._stop = stop
            informers = list(self._informers.values())
        for informer in informers:
            informer.start()
        self._resync_until(stop)
        with self._lock:
            informers = list(self._informers.values())
        for informer in informers:
            informer.stop()
        deadline = time.monotonic() + self.options.shutdown_timeout
        stuck = [
            str(informer.gvk)
            for informer in informers
            if not informer.join(max(0.0, deadline - time.monotonic()))
        ]
        if stuck:
            log.warning("informers still finishing a request at shutdown", extra={"kinds": stuck})

    def _resync_until(self, stop: threading.Event) -> None:
        period = self.options.sync_period
        if period is None:
            stop.wait()
            return
        due: dict[int, float] = {}
        while not stop.wait(min(_RESYNC_POLL, period / 2)):
            with self._lock:
                informers = list(self._informers.values())
            now = time.monotonic()
            live = {id(informer) for informer in informers}
            due = {key: moment for key, moment in due.items() if key in live}
            for informer in informers:
                if not informer.has_synced():
                    continue
                jittered = period * (0.9 + random.random() / 5)
                moment = due.setdefault(id(informer), now + jittered)
                if moment <= now:
                    informer.resync()
                    due[id(informer)] = now + jittered

    def wait_for_cache_sync(self, timeout: float | None = None) -> None:
        """Block until every informer created so far has synced, or raise CacheSyncTimeout."""
        with self._lock:
            informers = list(self._informers.values())
        for informer in informers:
            self._wait(informer, self.options.sync_timeout if timeout is None else timeout)

    def _wait(self, informer: SharedInformer, timeout: float) -> None:
        if informer.wait_for_sync(timeout):
            return
        raise CacheSyncTimeout(_sync_message(informer, timeout))

    def _synced(self, kind: KindLike, namespace: str | None) -> SharedInformer:
        if self.options.reader_fail_on_missing_informer:
            with self._lock:
                missing = _key(kind) not in self._informers
            if missing:
                raise NotCached(
                    f"the cache has no informer for {kind} and reader_fail_on_missing_informer "
                    "is set: watch the kind in a controller (or call cache.get_informer) "
                    "before reading it, or read it from the API server (mgr.api_reader)"
                )
        informer = self.get_informer(kind)
        if self._stop is None:
            raise CacheSyncTimeout(
                f"the cache for {informer.gvk} is not started: start the manager (or call "
                "cache.start in a thread) before reading from it"
            )
        if namespace:
            _check_namespace(informer, namespace)
        self._wait(informer, self.options.sync_timeout)
        return informer

    def get(
        self, kind: KindLike, name: str, namespace: str | None = None, *, copy: bool = True
    ) -> dict[str, Any]:
        informer = self._synced(kind, namespace)
        key = f"{namespace}/{name}" if namespace else name
        obj = informer.store.get(key)
        if obj is None:
            raise NotFound(
                f'{informer.gvk.kind.lower()} "{name}" not found in the cache',
                status={
                    "code": 404,
                    "reason": "NotFound",
                    "details": {"name": name, "kind": informer.gvk.kind},
                },
            )
        return deep_copy(obj) if copy else obj

    def list(
        self,
        kind: KindLike,
        *,
        namespace: str | None = None,
        label_selector: str | Mapping[str, str] | None = None,
        field_selector: str | None = None,
        limit: int | None = None,
        continue_token: str | None = None,
        copy: bool = True,
    ) -> dict[str, Any]:
        """A List of cached objects; field selectors need a matching ``index_field``.

        As controller-runtime's cache reader: ``limit`` returns at most that many objects
        (in key order, with no continue token: the cache holds everything already), and a
        ``continue_token`` is refused, since only the API server can resume a paginated list.
        """
        if continue_token:
            raise ValueError(
                "the cache cannot continue a paginated list: drop continue_token, or list "
                "from the API server (Client.list, or DelegatingClient's uncached kinds)"
            )
        if limit is not None and limit < 0:
            raise ValueError(f"limit must be >= 0 (0 means no limit), got {limit}")
        informer = self._synced(kind, namespace)
        store = informer.store
        items: builtins.list[dict[str, Any]]
        if field_selector:
            items = self._by_field(informer, field_selector)
            if namespace:
                items = [o for o in items if o["metadata"].get("namespace") == namespace]
        elif namespace:
            items = store.by_index(NAMESPACE_INDEX, namespace)
        else:
            items = sorted(store.items(), key=object_key)
        selector = parse_selector(label_selector_string(label_selector))
        if selector:
            items = [o for o in items if selector.matches_object(o)]
        if limit:
            items = items[:limit]
        if copy:
            items = deep_copy(items)
        return {
            "apiVersion": informer.gvk.api_version,
            "kind": f"{informer.gvk.kind}List",
            "metadata": {},
            "items": items,
        }

    def _by_field(
        self, informer: SharedInformer, field_selector: str
    ) -> builtins.list[dict[str, Any]]:
        requirements = parse_field_selector(field_selector).requirements
        if len(requirements) != 1 or requirements[0].negate:
            raise ValueError(
                f"cache field selectors must be one exact match like spec.nodeName=node-1, got "
                f"{field_selector!r}"
            )
        field_path, value = requirements[0].field, requirements[0].value
        if field_path == "metadata.name":
            return [o for o in informer.store.items() if o["metadata"]["name"] == value]
        if field_path == "metadata.namespace":
            return informer.store.by_index(NAMESPACE_INDEX, value)
        index = f"field:{field_path}"
        if not informer.store.has_index(index):
            raise ValueError(
                f"no index for field {field_path!r} on {informer.gvk}: call "
                f"cache.index_field(kind, {field_path!r}, extract) before listing by it"
            )
        return informer.store.by_index(index, value)


def _check_namespace(informer: SharedInformer, namespace: str) -> None:
    watched = [scope.namespace for scope in informer.scopes]
    if None in watched or namespace in watched:
        return
    raise NotCached(
        f"the cache watches {informer.gvk.kind} only in namespaces {sorted(map(str, watched))}, "
        f"not in {namespace!r}: add it to CacheOptions.default_namespaces (or the kind's "
        "KindOptions.namespaces), or read it from the API server (mgr.api_reader)"
    )


def _sync_message(informer: SharedInformer, timeout: float) -> str:
    gvk = informer.gvk
    error = informer.last_error
    base = f"informer for {gvk} not synced after {timeout:g}s"
    if isinstance(error, NoKindMatch):
        return (
            f"{base}: the API server does not serve kind {gvk.kind} in {gvk.api_version}; "
            "install its CustomResourceDefinition (kubectl apply -k config/crd) and retry"
        )
    if isinstance(error, Forbidden):
        return (
            f"{base}: the API server answered 403 to list/watch ({error.message}); grant "
            f"list and watch on {gvk.kind} in config/rbac/role.yaml"
        )
    if error is not None:
        return f"{base}: last error: {error}"
    return f"{base}: the API server did not answer the initial list in time"
