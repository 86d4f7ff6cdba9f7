"""What a kind's CustomResourceDefinition says beyond its schema, and the CRD it makes.

Each API module (``crds/<kind>.py``) ends with one ``KindDefinition``: names, scope,
printer columns, subresources and the spec/status types. ``manifest()`` renders the
``apiextensions.k8s.io/v1`` CRD that ``kreconcile crdgen`` writes to
``config/crd/bases/`` and ``kreconcile dev`` installs.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

from crds.schema import schema_for
from reconcile.gvk import GroupVersionKind

__all__ = ["GROUP", "VERSION", "KindDefinition", "PrinterColumn", "Scale"]

GROUP = "kreconcile.io"
VERSION = "v1alpha1"


@dataclass(frozen=True, kw_only=True, slots=True)
class PrinterColumn:
    """One ``additionalPrinterColumns`` entry: a column of ``kubectl get``."""

    name: str
    json_path: str
    type: Literal["string", "integer", "number", "boolean", "date"]
    description: str
    priority: int = 0
    """0: always shown; 1: only with ``-o wide``."""

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "name": self.name,
            "type": self.type,
            "jsonPath": self.json_path,
            "description": self.description,
        }
        if self.priority:
            out["priority"] = self.priority
        return out


@dataclass(frozen=True, kw_only=True, slots=True)
class Scale:
    """The ``/scale`` subresource: where replicas live, so ``kubectl scale`` and an HPA work."""

    spec_replicas_path: str
    status_replicas_path: str
    label_selector_path: str | None = None


AGE = PrinterColumn(
    name="Age",
    json_path=".metadata.creationTimestamp",
    type="date",
    description="Time since the object was created.",
)


@dataclass(frozen=True, kw_only=True, slots=True)
class KindDefinition:
    """A kind of ``kreconcile.io/v1alpha1`` and everything its CRD publishes."""

    kind: str
    plural: str
    short_names: tuple[str, ...]
    scope: Literal["Namespaced", "Cluster"]
    description: str
    """The object's description, shown by ``kubectl explain <kind>``."""
    spec: type
    status: type
    printer_columns: tuple[PrinterColumn, ...]
    scale: Scale | None = None
    categories: tuple[str, ...] = ("kreconcile",)
    """``kubectl get kreconcile`` lists every kind of this group."""

    @property
    def gvk(self) -> GroupVersionKind:
        return GroupVersionKind(GROUP, VERSION, self.kind)

    @property
    def crd_name(self) -> str:
        return f"{self.plural}.{GROUP}"

    @property
    def file_name(self) -> str:
        """The generated file, named as controller-gen names it."""
        return f"{GROUP}_{self.plural}.yaml"

    def openapi_schema(self) -> dict[str, Any]:
        """The whole object's schema (``openAPIV3Schema``)."""
        return {
            "description": self.description,
            "type": "object",
            "properties": {
                "apiVersion": {
                    "description": "Versioned schema of this object: kreconcile.io/v1alpha1.",
                    "type": "string",
                },
                "kind": {
                    "description": f"The REST resource this object represents: {self.kind}.",
                    "type": "string",
                },
                "metadata": {"type": "object"},
                "spec": schema_for(self.spec, emit_defaults=True),
                "status": schema_for(self.status),
            },
            "required": ["spec"],
        }

    def manifest(self) -> dict[str, Any]:
        """The CustomResourceDefinition (apiextensions.k8s.io/v1) of this kind."""
        subresources: dict[str, Any] = {"status": {}}
        if self.scale is not None:
            scale: dict[str, Any] = {
                "specReplicasPath": self.scale.spec_replicas_path,
                "statusReplicasPath": self.scale.status_replicas_path,
            }
            if self.scale.label_selector_path:
                scale["labelSelectorPath"] = self.scale.label_selector_path
            subresources["scale"] = scale
        return {
            "apiVersion": "apiextensions.k8s.io/v1",
            "kind": "CustomResourceDefinition",
            "metadata": {"name": self.crd_name},
            "spec": {
                "group": GROUP,
                "names": {
                    "kind": self.kind,
                    "listKind": f"{self.kind}List",
                    "plural": self.plural,
                    "singular": self.kind.lower(),
                    "shortNames": list(self.short_names),
                    "categories": list(self.categories),
                },
                "scope": self.scope,
                "versions": [
                    {
                        "name": VERSION,
                        "served": True,
                        "storage": True,
                        "schema": {"openAPIV3Schema": self.openapi_schema()},
                        "subresources": subresources,
                        "additionalPrinterColumns": [
                            c.to_dict() for c in (*self.printer_columns, AGE)
                        ],
                    }
                ],
            },
        }
