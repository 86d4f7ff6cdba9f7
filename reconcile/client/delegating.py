"""controller-runtime's default client: reads from the cache, writes to the API server.

Reads of a kind start its informer on first use, so a reconciler reading Pods caches Pods.
Kinds listed in ``uncached`` always go to the server (Secrets a controller reads once,
objects too numerous to cache). Writes are never cached: read-your-writes may lag until
the watch delivers them, which level-triggered reconcilers tolerate by design. ``limit``
and ``continue_token`` go to whichever reader serves the kind: the cache honours ``limit``
and refuses ``continue_token`` (it cannot resume a list), the API server honours both.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from reconcile.client.client import Client, StatusWriter
from reconcile.client.interfaces import Reader
from reconcile.client.restmapper import RESTMapping
from reconcile.gvk import GroupVersionKind, KindLike, gvk_of

__all__ = ["DelegatingClient"]


class DelegatingClient:
    """A Client whose get/list come from ``cache``."""

    def __init__(self, client: Client, cache: Reader, *, uncached: Iterable[KindLike] = ()) -> None:
        self.direct = client
        self.cache = cache
        self._uncached: set[GroupVersionKind] = {gvk_of(k) for k in uncached}

    def with_options(self, **defaults: Any) -> DelegatingClient:
        """The same reads, with writes through ``direct.with_options(**defaults)`` (a field
        manager per controller, dry-run, field validation)."""
        other = DelegatingClient(self.direct.with_options(**defaults), self.cache)
        other._uncached = self._uncached
        return other

    def mapping(self, kind: KindLike) -> RESTMapping:
        return self.direct.mapping(kind)

    def get(self, kind: KindLike, name: str, namespace: str | None = None) -> dict[str, Any]:
        if gvk_of(kind) in self._uncached:
            return self.direct.get(kind, name, namespace)
        return self.cache.get(kind, name, namespace)

    def list(
        self,
        kind: KindLike,
        *,
        namespace: str | None = None,
        label_selector: str | Mapping[str, str] | None = None,
        field_selector: str | None = None,
        limit: int | None = None,
        continue_token: str | None = None,
    ) -> dict[str, Any]:
        reader: Reader = self.direct if gvk_of(kind) in self._uncached else self.cache
        return reader.list(
            kind,
            namespace=namespace,
            label_selector=label_selector,
            field_selector=field_selector,
            limit=limit,
            continue_token=continue_token,
        )

    def create(self, obj: dict[str, Any], **options: Any) -> dict[str, Any]:
        return self.direct.create(obj, **options)

    def update(self, obj: dict[str, Any], **options: Any) -> dict[str, Any]:
        return self.direct.update(obj, **options)

    def patch(self, obj: dict[str, Any], patch: Any, **options: Any) -> dict[str, Any]:
        return self.direct.patch(obj, patch, **options)

    def apply(self, obj: dict[str, Any], **options: Any) -> dict[str, Any]:
        return self.direct.apply(obj, **options)

    def delete(self, obj: dict[str, Any], **options: Any) -> None:
        self.direct.delete(obj, **options)

    def delete_all_of(self, kind: KindLike, **options: Any) -> None:
        self.direct.delete_all_of(kind, **options)

    def status(self) -> StatusWriter:
        return self.direct.status()

    def scale(self, obj: dict[str, Any], replicas: int | None = None) -> dict[str, Any]:
        return self.direct.scale(obj, replicas)
