"""ClusterRole aggregation (kube-controller-manager's clusterrole-aggregation controller).

A ClusterRole with an ``aggregationRule`` owns no rules of its own: its ``rules`` are the
union of the rules of every other ClusterRole matching one of its ``clusterRoleSelectors``,
taken in name order without duplicates. Whenever any ClusterRole changes, every aggregated
role is recomputed on the next loop step (never inside the store's emit), and an update
that changes an aggregated role triggers the next round, so chains such as
``view -> edit -> admin`` settle by themselves.

Its writes run in a fresh context: they are the server's own, never the request's that
happened to trigger them, so escalation checks do not apply to them.
"""

from __future__ import annotations

import asyncio
import contextvars
import logging
from typing import Any

from reconcile.apiserver.api import API, WriteOptions
from reconcile.apiserver.auth.rbac import RBAC_GROUP, Rule
from reconcile.apiserver.status import StatusError
from reconcile.apiserver.storage import Event

__all__ = ["ClusterRoleAggregator", "gather", "selector_matches"]

log = logging.getLogger(__name__)

_CLUSTER_ROLES = (RBAC_GROUP, "clusterroles")
_MANAGER = "clusterrole-aggregation-controller"


def selector_matches(selector: dict[str, Any], labels: dict[str, str]) -> bool:
    """metav1.LabelSelector semantics: matchLabels and matchExpressions all hold."""
    for key, value in (selector.get("matchLabels") or {}).items():
        if labels.get(key) != value:
            return False
    for expression in selector.get("matchExpressions") or ():
        key, operator = expression.get("key", ""), expression.get("operator")
        values = expression.get("values") or ()
        if operator == "In" and labels.get(key) not in values:
            return False
        if operator == "NotIn" and key in labels and labels[key] in values:
            return False
        if operator == "Exists" and key not in labels:
            return False
        if operator == "DoesNotExist" and key in labels:
            return False
    return True


class ClusterRoleAggregator:
    """Keeps every aggregated ClusterRole's rules equal to what its selectors gather."""

    def __init__(self, api: API, loop: asyncio.AbstractEventLoop) -> None:
        self._api = api
        self._loop = loop
        self._pending = False
        api.store.listeners.append(self._on_event)

    def _on_event(self, event: Event) -> None:
        if event.group_resource != _CLUSTER_ROLES or self._pending:
            return
        self._pending = True
        self._loop.call_soon(self._run, context=contextvars.Context())

    def _run(self) -> None:
        self._pending = False
        try:
            self.aggregate()
        except StatusError as error:
            log.warning("clusterrole aggregation failed", extra={"reason": error.message})

    def aggregate(self) -> int:
        """Bring every aggregated role up to date now; returns how many were updated."""
        info = self._api.registry.lookup(RBAC_GROUP, "v1", "clusterroles")
        assert info is not None
        roles = [s.obj for s in self._api.store.list_objects(_CLUSTER_ROLES)]
        updated = 0
        for role in roles:
            rule = role.get("aggregationRule")
            if not rule:
                continue
            gathered = gather(role["metadata"]["name"], rule, roles)
            if gathered == (role.get("rules") or []):
                continue
            new = {**role, "rules": gathered}
            self._api.update(
                info,
                "",
                role["metadata"]["name"],
                new,
                WriteOptions(field_manager=_MANAGER, field_validation="Ignore"),
                require_rv=False,
            )
            updated += 1
        return updated


def gather(name: str, rule: dict[str, Any], roles: list[dict[str, Any]]) -> list[Rule]:
    """The rules aggregated role ``name`` gathers from ``roles`` (in name order)."""
    gathered: list[Rule] = []
    for selector in rule.get("clusterRoleSelectors") or ():
        for other in roles:
            if other["metadata"]["name"] == name:
                continue
            if not selector_matches(selector, other["metadata"].get("labels") or {}):
                continue
            for policy in other.get("rules") or ():
                if policy not in gathered:
                    gathered.append(policy)
    return gathered
