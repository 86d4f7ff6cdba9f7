"""Metadata-only reads: ``PartialObjectMetadata`` objects, as client-go's metadata client.

The client asks for ``application/json;as=PartialObjectMetadata;g=meta.k8s.io;v=v1`` (with
plain JSON as the fallback the API server may choose) and keeps only ``metadata`` of what
comes back, typed as the underlying kind (``{"apiVersion": "v1", "kind": "Secret",
"metadata": {...}}``), as controller-runtime's metadata informers do. Owner references,
labels, annotations, finalizers and deletion timestamps are all there; data and spec are
not, which is what makes a cache of every Secret or Pod affordable.

``MetadataClient`` is the direct client seen through ``PartialObjectMetadata`` kinds: the
same get/list/watch taking plain kinds. ``Client`` itself does the same for any kind
wrapped in ``PartialObjectMetadata``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from reconcile.gvk import GroupVersionKind, KindLike, PartialObjectMetadata, gvk_of

if TYPE_CHECKING:
    from reconcile.client.client import Client
    from reconcile.client.transport import WatchStream

__all__ = [
    "METADATA_ACCEPT",
    "METADATA_LIST_ACCEPT",
    "MetadataClient",
    "partial_list",
    "to_partial",
]

METADATA_ACCEPT = "application/json;as=PartialObjectMetadata;g=meta.k8s.io;v=v1,application/json"
METADATA_LIST_ACCEPT = (
    "application/json;as=PartialObjectMetadataList;g=meta.k8s.io;v=v1,application/json"
)


def to_partial(obj: Mapping[str, Any], gvk: GroupVersionKind) -> dict[str, Any]:
    """``obj`` (full, or PartialObjectMetadata) reduced to apiVersion, kind and metadata."""
    metadata = obj.get("metadata")
    return {
        "apiVersion": gvk.api_version,
        "kind": gvk.kind,
        "metadata": metadata if isinstance(metadata, dict) else {},
    }


def partial_list(body: dict[str, Any], gvk: GroupVersionKind) -> dict[str, Any]:
    """A list response with every item reduced by ``to_partial``."""
    body["items"] = [to_partial(item, gvk) for item in body.get("items") or []]
    body["apiVersion"] = gvk.api_version
    body["kind"] = f"{gvk.kind}List"
    return body


class MetadataClient:
    """get/list/watch of metadata only, for any kind: ``MetadataClient(client).list(SECRET)``."""

    def __init__(self, client: Client) -> None:
        self._client = client

    def get(self, kind: KindLike, name: str, namespace: str | None = None) -> dict[str, Any]:
        return self._client.get(PartialObjectMetadata(gvk_of(kind)), name, namespace)

    def list(self, kind: KindLike, **options: Any) -> dict[str, Any]:
        return self._client.list(PartialObjectMetadata(gvk_of(kind)), **options)

    def watch(self, kind: KindLike, **options: Any) -> WatchStream:
        return self._client.watch(PartialObjectMetadata(gvk_of(kind)), **options)
