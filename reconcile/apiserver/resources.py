"""What the embedded API server knows about each resource it serves.

One ``ResourceInfo`` per (group, version, resource). Built-in kinds come from a static
table; every served version of a registered CustomResourceDefinition adds one. The
storage, discovery, OpenAPI, validation, patch and table code all read this one record,
so adding a kind is one entry, never a change in five places.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

__all__ = ["DEFAULT_VERBS", "ResourceInfo", "ScaleSubresource"]

DEFAULT_VERBS: tuple[str, ...] = (
    "create",
    "delete",
    "deletecollection",
    "get",
    "list",
    "patch",
    "update",
    "watch",
)


@dataclass(frozen=True, slots=True)
class ScaleSubresource:
    """JSON paths of a CRD's ``/scale`` subresource, as in the CRD's ``subresources.scale``."""

    spec_replicas_path: str
    status_replicas_path: str
    label_selector_path: str | None = None


@dataclass(frozen=True, slots=True)
class ResourceInfo:
    """One served resource: names, scope, verbs, schema, subresources and columns."""

    group: str
    version: str
    resource: str
    """The plural used in URLs, e.g. ``deployments``."""
    kind: str
    singular: str
    namespaced: bool
    short_names: tuple[str, ...] = ()
    categories: tuple[str, ...] = ()
    verbs: tuple[str, ...] = DEFAULT_VERBS
    schema: dict[str, Any] | None = None
    """OpenAPI v3 schema of the whole object; built-ins may use ``$ref`` into their definitions."""
    status_subresource: bool = False
    scale: ScaleSubresource | None = None
    printer_columns: tuple[dict[str, Any], ...] = ()
    """``additionalPrinterColumns`` entries: name, type, jsonPath, priority, description, format."""
    custom: bool = False
    """True for resources served from a CustomResourceDefinition."""
    storage_version: bool = True
    extra: dict[str, Any] = field(default_factory=dict)
    """Anything else a component needs to remember about the resource (kept out of equality)."""

    @property
    def api_version(self) -> str:
        """``group/version``, or just ``version`` for the core group."""
        return f"{self.group}/{self.version}" if self.group else self.version

    @property
    def list_kind(self) -> str:
        """The kind of a list response, e.g. ``DeploymentList``."""
        return f"{self.kind}List"

    @property
    def group_resource(self) -> str:
        """``resource.group`` as kube-apiserver names it in messages: ``deployments.apps``."""
        return f"{self.resource}.{self.group}" if self.group else self.resource
