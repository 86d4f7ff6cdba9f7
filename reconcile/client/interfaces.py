"""The contracts for reading and writing objects: ``Reader``, ``Writer``, ``ObjectClient``.

controller-runtime's ``client.Reader`` / ``client.Writer`` / ``client.Client`` interfaces.
The direct ``Client``, the cache-backed ``DelegatingClient`` and (for reads) the
``InformerCache`` all satisfy them, so helpers (``controllerutil``, the event recorder,
reconcilers) take the narrowest one they need and work with any of the three, or with a
test double. Objects are raw dicts; a ``Reader`` returns the List object for ``list``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Protocol

from reconcile.gvk import KindLike

__all__ = ["ObjectClient", "Reader", "StatusWriterLike", "Writer"]


class Reader(Protocol):
    """Reads objects, from the API server or from a cache."""

    def get(self, kind: KindLike, name: str, namespace: str | None = None) -> dict[str, Any]:
        """The object, or ``NotFound``."""
        ...

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
        """A List object whose ``items`` carry apiVersion and kind."""
        ...


class Writer(Protocol):
    """Writes objects to the API server; each call returns what the server stored."""

    def create(
        self, obj: dict[str, Any], *, field_manager: str | None = ..., dry_run: bool = ...
    ) -> dict[str, Any]: ...

    def update(
        self,
        obj: dict[str, Any],
        *,
        field_manager: str | None = ...,
        dry_run: bool = ...,
        subresource: str = ...,
    ) -> dict[str, Any]: ...

    def patch(
        self,
        obj: dict[str, Any],
        patch: Any,
        *,
        patch_type: str = ...,
        field_manager: str | None = ...,
        dry_run: bool = ...,
        subresource: str = ...,
        force: bool | None = ...,
    ) -> dict[str, Any]:
        """``patch_type`` is a content type of ``reconcile.client.patch`` (merge by default)."""
        ...

    def delete(
        self,
        obj: dict[str, Any],
        *,
        propagation_policy: str | None = ...,
        preconditions: Mapping[str, str] | None = ...,
        grace_period_seconds: int | None = ...,
        dry_run: bool = ...,
    ) -> None: ...


class StatusWriterLike(Protocol):
    """Writes to the ``/status`` subresource only."""

    def update(self, obj: dict[str, Any], **options: Any) -> dict[str, Any]: ...

    def patch(self, obj: dict[str, Any], patch: Any, **options: Any) -> dict[str, Any]: ...


class ObjectClient(Reader, Writer, Protocol):
    """Reads, writes and status writes: what a reconciler is usually given."""

    def status(self) -> StatusWriterLike: ...
