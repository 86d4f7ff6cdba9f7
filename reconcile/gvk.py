"""Names of kinds and resources: GroupVersionKind and GroupVersionResource.

Go code names a kind by its type; Python code names it by value. Everything that takes
a kind (the client, the cache, the builder) accepts a ``KindLike``: a
``GroupVersionKind``, or any class with a ``GVK`` class attribute (the API types in
``crds/`` have one), so ``ControllerBuilder(mgr).for_(AgentPool)`` and
``.for_(GroupVersionKind("", "v1", "Pod"))`` both work.

``PartialObjectMetadata(kind)`` names the same kind seen as metadata only (apiVersion,
kind and metadata, nothing else), controller-runtime's ``metav1.PartialObjectMetadata``:
the client asks the server for metadata only, and the cache keeps a separate, much smaller
informer for it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, ClassVar, Protocol, TypeAlias, runtime_checkable

__all__ = [
    "GroupVersionKind",
    "GroupVersionResource",
    "HasGVK",
    "KindLike",
    "PartialObjectMetadata",
    "gvk_of",
    "is_metadata_only",
]


@dataclass(frozen=True, slots=True, order=True)
class GroupVersionKind:
    """A kind in one API version; the core group is the empty string."""

    group: str
    version: str
    kind: str

    @classmethod
    def from_api_version(cls, api_version: str, kind: str) -> GroupVersionKind:
        """``("apps/v1", "Deployment")`` or ``("v1", "Pod")`` -> GroupVersionKind."""
        if not api_version or not kind:
            raise ValueError(
                f"need both apiVersion and kind, got apiVersion={api_version!r} kind={kind!r}"
            )
        group, _, version = api_version.rpartition("/")
        return cls(group, version, kind)

    @classmethod
    def of_object(cls, obj: Mapping[str, Any]) -> GroupVersionKind:
        """The kind an object dict declares in ``apiVersion`` and ``kind``."""
        return cls.from_api_version(str(obj.get("apiVersion", "")), str(obj.get("kind", "")))

    @property
    def api_version(self) -> str:
        """``group/version``, or just ``version`` for the core group."""
        return f"{self.group}/{self.version}" if self.group else self.version

    @property
    def group_version(self) -> str:
        """Same as ``api_version``; named like client-go's GroupVersion.String()."""
        return self.api_version

    def __str__(self) -> str:
        return f"{self.api_version}, Kind={self.kind}"


@dataclass(frozen=True, slots=True, order=True)
class GroupVersionResource:
    """A resource (the plural used in URLs) in one API version."""

    group: str
    version: str
    resource: str

    @property
    def api_version(self) -> str:
        """``group/version``, or just ``version`` for the core group."""
        return f"{self.group}/{self.version}" if self.group else self.version

    def __str__(self) -> str:
        group = self.group or "core"
        return f"{self.resource}.{self.version}.{group}"


@runtime_checkable
class HasGVK(Protocol):
    """A type that names its kind, such as the API types in ``crds/``."""

    GVK: ClassVar[GroupVersionKind]


@dataclass(frozen=True, slots=True, order=True)
class PartialObjectMetadata:
    """A kind read and watched as metadata only: ``PartialObjectMetadata(SECRET)``.

    Objects come back as ``{"apiVersion", "kind", "metadata"}`` of the underlying kind:
    enough for owner references, labels, finalizers and names, at a fraction of the memory
    of full Secrets or Pods.
    """

    gvk: GroupVersionKind

    def __init__(self, kind: GroupVersionKind | type[HasGVK]) -> None:
        object.__setattr__(self, "gvk", gvk_of(kind))

    @property
    def GVK(self) -> GroupVersionKind:
        return self.gvk

    def __str__(self) -> str:
        return f"{self.gvk} (metadata only)"


KindLike: TypeAlias = GroupVersionKind | type[HasGVK] | PartialObjectMetadata


def is_metadata_only(kind: object) -> bool:
    """Whether ``kind`` asks for metadata only."""
    return isinstance(kind, PartialObjectMetadata)


def gvk_of(kind: KindLike) -> GroupVersionKind:
    """Normalise a ``KindLike`` to a GroupVersionKind, with an error that says what to pass."""
    if isinstance(kind, GroupVersionKind):
        return kind
    if isinstance(kind, PartialObjectMetadata):
        return kind.gvk
    gvk = getattr(kind, "GVK", None)
    if isinstance(gvk, GroupVersionKind):
        return gvk
    raise TypeError(
        f"cannot tell which kind {kind!r} names: pass a GroupVersionKind such as "
        'GroupVersionKind("apps", "v1", "Deployment"), or a class with a GVK class attribute'
    )
