"""CustomResourceDefinitions: validated on write, served as soon as they are stored.

Admission checks what kube-apiserver checks before accepting a CRD (names, one storage
version, structural schemas) and fills ``status`` with ``acceptedNames`` and the
``NamesAccepted``/``Established`` conditions. A store listener then registers (or, on
delete, unregisters) the served resources, so discovery lists the new kind by the time the
create response reaches the client; deleting a CRD deletes all its objects.
"""

from __future__ import annotations

from typing import Any

from reconcile.apiserver import cel
from reconcile.apiserver import schema as structural
from reconcile.apiserver.api import API
from reconcile.apiserver.registry import infos_from_crd
from reconcile.apiserver.resources import ResourceInfo
from reconcile.apiserver.status import invalid
from reconcile.apiserver.storage import Event
from reconcile.timestamps import rfc3339

__all__ = ["CRD_KEY", "install"]

CRD_KEY = ("apiextensions.k8s.io", "customresourcedefinitions")


def _cause(field: str, message: str, reason: str = "FieldValueInvalid") -> dict[str, str]:
    return {"reason": reason, "message": message, "field": field}


def _validate(crd: dict[str, Any]) -> list[dict[str, str]]:
    spec = crd.get("spec") or {}
    names = spec.get("names") or {}
    causes = []
    group, plural = spec.get("group", ""), names.get("plural", "")
    if not group:
        causes.append(_cause("spec.group", "Required value", "FieldValueRequired"))
    if not plural:
        causes.append(_cause("spec.names.plural", "Required value", "FieldValueRequired"))
    if not names.get("kind"):
        causes.append(_cause("spec.names.kind", "Required value", "FieldValueRequired"))
    if plural and group and crd["metadata"]["name"] != f"{plural}.{group}":
        causes.append(
            _cause(
                "metadata.name",
                f'Invalid value: "{crd["metadata"]["name"]}": '
                'must be spec.names.plural+"."+spec.group',
            )
        )
    if spec.get("scope") not in ("Namespaced", "Cluster"):
        causes.append(
            _cause(
                "spec.scope",
                f'Unsupported value: "{spec.get("scope", "")}": '
                'supported values: "Cluster", "Namespaced"',
                "FieldValueNotSupported",
            )
        )
    versions = spec.get("versions") or []
    if not versions:
        causes.append(
            _cause(
                "spec.versions",
                "Invalid value: null: must have exactly one version marked as storage version",
            )
        )
    storage = [v for v in versions if v.get("storage")]
    if versions and len(storage) != 1:
        causes.append(
            _cause(
                "spec.versions",
                f"Invalid value: {len(storage)}: "
                "must have exactly one version marked as storage version",
            )
        )
    causes.extend(_conversion(spec.get("conversion")))
    for index, version in enumerate(versions):
        schema = (version.get("schema") or {}).get("openAPIV3Schema")
        path = f"spec.versions[{index}].schema.openAPIV3Schema"
        if schema is None:
            causes.append(
                _cause(path, "Required value: schemas are required", "FieldValueRequired")
            )
        else:
            causes.extend(structural.validate_structural(schema, path))
            causes.extend(cel.compile_errors(schema, path))
    return causes


def _conversion(conversion: Any) -> list[dict[str, str]]:
    """``spec.conversion``: None, or Webhook with where to call and which review versions."""
    if conversion is None:
        return []
    strategy = conversion.get("strategy")
    webhook = conversion.get("webhook")
    if strategy == "None":
        if webhook is not None:
            return [_cause("spec.conversion.webhook",
                           "Forbidden: should not be set when strategy is not set to Webhook",
                           "FieldValueForbidden")]  # fmt: skip
        return []
    if strategy != "Webhook":
        return [_cause("spec.conversion.strategy",
                       f'Unsupported value: "{strategy}": supported values: "None", "Webhook"',
                       "FieldValueNotSupported")]  # fmt: skip
    causes = []
    config = (webhook or {}).get("clientConfig")
    if not isinstance(config, dict) or (config.get("url") is None) == (
        config.get("service") is None
    ):
        causes.append(_cause("spec.conversion.webhook.clientConfig",
                             "Required value: exactly one of url or service is required",
                             "FieldValueRequired"))  # fmt: skip
    versions = (webhook or {}).get("conversionReviewVersions") or []
    if not any(v in ("v1", "v1beta1") for v in versions):
        causes.append(_cause("spec.conversion.webhook.conversionReviewVersions",
                             f"Invalid value: {versions}: must include at least one of v1, "
                             "v1beta1"))  # fmt: skip
    return causes


def _admit(crd: dict[str, Any], old: dict[str, Any] | None) -> None:
    name = crd["metadata"]["name"]
    crd.setdefault("spec", {}).setdefault("conversion", {"strategy": "None"})
    causes = _validate(crd)
    if causes:
        info = ResourceInfo(
            group="apiextensions.k8s.io",
            version="v1",
            resource="customresourcedefinitions",
            kind="CustomResourceDefinition",
            singular="customresourcedefinition",
            namespaced=False,
        )
        raise invalid(info, name, causes)
    spec = crd["spec"]
    now = rfc3339()
    previous = {c["type"]: c for c in ((old or {}).get("status") or {}).get("conditions") or []}

    def condition(kind: str, reason: str, message: str) -> dict[str, str]:
        since = previous.get(kind, {}).get("lastTransitionTime", now)
        return {
            "type": kind,
            "status": "True",
            "lastTransitionTime": since,
            "reason": reason,
            "message": message,
        }

    names = {k: v for k, v in spec["names"].items() if k != "listKind"}
    names["listKind"] = spec["names"].get("listKind") or spec["names"]["kind"] + "List"
    stored_before = set(((old or {}).get("status") or {}).get("storedVersions") or [])
    storage = {v["name"] for v in spec["versions"] if v.get("storage")}
    crd["status"] = {
        "acceptedNames": names,
        "storedVersions": sorted(storage | stored_before),
        "conditions": [
            condition("NamesAccepted", "NoConflicts", "no conflicts found"),
            condition(
                "Established", "InitialNamesAccepted", "the initial names have been accepted"
            ),
        ],
    }


def install(api: API) -> None:
    """Wire CRD admission and registration into ``api`` (and register stored CRDs)."""
    api.admission[CRD_KEY] = _admit

    def on_event(event: Event) -> None:
        if event.group_resource != CRD_KEY:
            return
        crd = event.stored.obj
        name = crd["metadata"]["name"]
        if event.type == "DELETED":
            for info in api.registry.unregister_crd(name):
                if info.storage_version:
                    api.store.drop_group_resource(api.key(info))
            return
        if crd["metadata"].get("deletionTimestamp"):
            return
        api.registry.register_crd(name, infos_from_crd(crd))

    api.store.listeners.append(on_event)
    for stored in api.store.list_objects(CRD_KEY):
        api.registry.register_crd(stored.obj["metadata"]["name"], infos_from_crd(stored.obj))
