"""A client bound to one namespace (controller-runtime's ``client.NewNamespacedClient``).

For namespaced kinds, reads default to the namespace and writes put objects in it: an
object without ``metadata.namespace`` gets it (on a copy; the caller's dict is left as it
was), and one naming another namespace is refused with a ValueError, as is a read of
another namespace. Cluster-scoped kinds (Nodes, Namespaces, CRDs) pass through untouched.
Useful for operators granted a RoleBinding in one namespace rather than a ClusterRole.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Protocol

from reconcile.client.interfaces import ObjectClient, StatusWriterLike
from reconcile.client.restmapper import RESTMapping
from reconcile.gvk import GroupVersionKind, KindLike

__all__ = ["NamespacedClient"]


class _MappedClient(ObjectClient, Protocol):
    def mapping(self, kind: KindLike) -> RESTMapping: ...


class NamespacedClient:
    """``NamespacedClient(mgr.client, "team-a")``: every namespaced call happens in team-a."""

    def __init__(self, client: _MappedClient, namespace: str) -> None:
        if not namespace:
            raise ValueError("NamespacedClient needs a namespace name; use the client itself")
        self.client = client
        self.namespace = namespace

    def _namespaced(self, kind: KindLike) -> bool:
        return self.client.mapping(kind).namespaced

    def _read_namespace(self, kind: KindLike, namespace: str | None) -> str | None:
        if not self._namespaced(kind):
            return namespace
        if namespace and namespace != self.namespace:
            raise ValueError(
                f"this client is bound to namespace {self.namespace!r}; it cannot read "
                f"namespace {namespace!r} (use another NamespacedClient, or the client itself)"
            )
        return self.namespace

    def _place(self, obj: dict[str, Any]) -> dict[str, Any]:
        if not self._namespaced(GroupVersionKind.of_object(obj)):
            return obj
        meta = obj.get("metadata") or {}
        namespace = meta.get("namespace")
        if namespace == self.namespace:
            return obj
        if namespace:
            raise ValueError(
                f"{obj.get('kind')} {meta.get('name')!r} is in namespace {namespace!r}, but this "
                f"client is bound to namespace {self.namespace!r}"
            )
        return {**obj, "metadata": {**meta, "namespace": self.namespace}}

    def get(self, kind: KindLike, name: str, namespace: str | None = None) -> dict[str, Any]:
        return self.client.get(kind, name, self._read_namespace(kind, namespace))

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
        return self.client.list(
            kind,
            namespace=self._read_namespace(kind, namespace),
            label_selector=label_selector,
            field_selector=field_selector,
            limit=limit,
            continue_token=continue_token,
        )

    def create(self, obj: dict[str, Any], **options: Any) -> dict[str, Any]:
        return self.client.create(self._place(obj), **options)

    def update(self, obj: dict[str, Any], **options: Any) -> dict[str, Any]:
        return self.client.update(self._place(obj), **options)

    def patch(self, obj: dict[str, Any], patch: Any, **options: Any) -> dict[str, Any]:
        return self.client.patch(self._place(obj), patch, **options)

    def delete(self, obj: dict[str, Any], **options: Any) -> None:
        self.client.delete(self._place(obj), **options)

    def status(self) -> StatusWriterLike:
        return _NamespacedStatus(self)


class _NamespacedStatus:
    def __init__(self, owner: NamespacedClient) -> None:
        self._owner = owner

    def update(self, obj: dict[str, Any], **options: Any) -> dict[str, Any]:
        placed = self._owner._place(obj)
        return self._owner.client.status().update(placed, **options)

    def patch(self, obj: dict[str, Any], patch: Any, **options: Any) -> dict[str, Any]:
        placed = self._owner._place(obj)
        return self._owner.client.status().patch(placed, patch, **options)
