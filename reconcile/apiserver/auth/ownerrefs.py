"""The OwnerReferencesPermissionEnforcement admission plugin, as kube-apiserver runs it.

Off in kube-apiserver's default plugin list but on in several distributions, it is why
controllers that own objects are granted ``update`` on their kind's ``finalizers``
subresource: a write that sets ``blockOwnerDeletion: true`` on an owner reference can hold
the owner's foreground deletion back, so the requester must be allowed to update the
owner's finalizers (``<owner resource>/finalizers``, named after the owner, in the
dependent's namespace). An update that changes owner references at all also needs
``delete`` on the object itself; a create does not (whoever may create it could have not
created it). The server's own writes and ``system:masters`` pass, like every check here.

Turn it on with ``ServerOptions(owner_references_permission_enforcement=True)``; tests
that prove an operator's RBAC do, so the ``finalizers`` grant is exercised, not assumed.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from reconcile.apiserver.api import API
from reconcile.apiserver.auth.escalation import CURRENT_USER
from reconcile.apiserver.auth.rbac import Attributes, Decision
from reconcile.apiserver.auth.user import SYSTEM_MASTERS, UserInfo
from reconcile.apiserver.resources import ResourceInfo
from reconcile.apiserver.status import StatusError

__all__ = ["OwnerReferencesPermissionEnforcement"]

Authorize = Callable[[Attributes], Decision]


def _owner_references(obj: dict[str, Any] | None) -> list[dict[str, Any]]:
    if obj is None:
        return []
    return list((obj.get("metadata") or {}).get("ownerReferences") or [])


def _newly_blocking(obj: dict[str, Any], old: dict[str, Any] | None) -> list[dict[str, Any]]:
    """References that block owner deletion now and did not before (matched by owner UID)."""
    blocking_before = {r.get("uid") for r in _owner_references(old) if r.get("blockOwnerDeletion")}
    return [
        ref
        for ref in _owner_references(obj)
        if ref.get("blockOwnerDeletion") and ref.get("uid") not in blocking_before
    ]


class OwnerReferencesPermissionEnforcement:
    """Install with ``install(api)``; ``authorize`` is the server's (so checks are logged)."""

    def __init__(self, api: API, authorize: Authorize) -> None:
        self._api = api
        self._authorize = authorize

    def install(self) -> None:
        self._api.admission_plugins.append(self.admit)

    def admit(self, info: ResourceInfo, obj: dict[str, Any], old: dict[str, Any] | None) -> None:
        user = CURRENT_USER.get()
        if user is None or SYSTEM_MASTERS in user.groups:
            return
        references = _owner_references(obj)
        if old is None and not references:
            return
        if old is not None and references == _owner_references(old):
            return
        meta = obj.get("metadata") or {}
        namespace = meta.get("namespace", "") if info.namespaced else ""
        name = meta.get("name", "")
        if old is not None:
            self._require(
                info,
                name,
                Attributes(
                    user=user,
                    verb="delete",
                    api_group=info.group,
                    api_version=info.version,
                    resource=info.resource,
                    namespace=namespace,
                    name=name,
                ),
                "cannot set an ownerRef on a resource you can't delete",
            )
        for ref in _newly_blocking(obj, old):
            self._require(
                info,
                name,
                self._owner_finalizers(info, name, user, ref, namespace),
                "cannot set blockOwnerDeletion if an ownerReference refers to a resource you "
                "can't set finalizers on",
            )

    def _owner_finalizers(
        self, info: ResourceInfo, name: str, user: UserInfo, ref: dict[str, Any], namespace: str
    ) -> Attributes:
        api_version, kind = str(ref.get("apiVersion", "")), str(ref.get("kind", ""))
        group, _, version = api_version.rpartition("/")
        owner = self._api.registry.by_kind(group, version, kind)
        if owner is None:
            raise _forbidden(
                info,
                name,
                "cannot set blockOwnerDeletion in this case because cannot find RESTMapping "
                f'for APIVersion {api_version} Kind {kind}: no matches for kind "{kind}" in '
                f'version "{api_version}"',
            )
        return Attributes(
            user=user,
            verb="update",
            api_group=owner.group,
            api_version=owner.version,
            resource=owner.resource,
            subresource="finalizers",
            namespace=namespace,
            name=str(ref.get("name", "")),
        )

    def _require(self, info: ResourceInfo, name: str, attributes: Attributes, why: str) -> None:
        decision = self._authorize(attributes)
        if not decision.allowed:
            raise _forbidden(info, name, f"{why}: {decision.reason}, <nil>")


def _forbidden(info: ResourceInfo, name: str, why: str) -> StatusError:
    """403 as ``admission.NewForbidden`` words it for the dependent being written."""
    qualified = f"{info.resource}.{info.group}" if info.group else info.resource
    subject = f'{qualified} "{name}"' if name else qualified
    details: dict[str, Any] = {"kind": info.resource}
    if info.group:
        details["group"] = info.group
    if name:
        details["name"] = name
    return StatusError(403, "Forbidden", f"{subject} is forbidden: {why}", details)
