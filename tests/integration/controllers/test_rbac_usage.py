"""Least privilege, proven by running: the roles grant exactly what the operators used.

The operator tests ran the manager, the node agent and the slot claimers as the
ServiceAccounts config/rbac binds, on servers that logged every authorization decision
(``rbac.py``). This module runs after all of them (``conftest.py``) and checks, per account:

- nothing it did was refused (a refused request or admission check is a missing grant,
  even where the code survived it, e.g. an Event it could not record);
- every (verb, resource) each of its roles grants, rule by rule, allowed something it did:
  no unused verb, resource or rule;
- what it used, as (verb, API group, resource[/subresource], scope), is the table below,
  so a change in what the code does shows up here as a deliberate change.

Scope is ``cluster`` for cluster-wide requests (cluster-scoped objects, or lists and watches
across all namespaces), ``own namespace`` for kreconcile-system and ``namespace`` for any
other single namespace.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import pytest

from reconcile.apiserver.auth import LoggedDecision
from reconcile.apiserver.auth.rbac import rule_allows
from tests.integration.controllers.rbac import (
    AGENT,
    CLAIMER,
    CLAIMER_ROLE,
    MANAGER,
    NAMESPACE,
    Usage,
    rbac_objects,
    username,
)

SOURCES = {"restarts", "iolimit", "test_claims", "test_scaling", "run"}
"""The tests that hand in their servers' logs (see ``Usage.collect``)."""
CONTRIBUTING = (
    "tests/integration/controllers/restarts/",
    "tests/integration/controllers/iolimit/test_iolimit.py",
    "tests/integration/controllers/agentpool/",
    "tests/integration/controllers/test_run.py",
)

Use = tuple[str, str, str, str]
"""(verb, API group, resource[/subresource], scope)."""

_CACHED = ("list", "watch")
MANAGER_USES: set[Use] = {
    # the informer cache: every kind the controllers read, across all namespaces
    *((verb, "", resource, "cluster") for verb in _CACHED
      for resource in ("pods", "namespaces", "nodes")),
    *((verb, "kreconcile.io", resource, "cluster") for verb in _CACHED
      for resource in ("restartrecords", "iolimitpolicies", "agentpools")),
    # direct reads: the newest object after a conflict or before the cache has it
    ("get", "", "pods", "namespace"),
    ("get", "kreconcile.io", "restartrecords", "namespace"),
    ("get", "kreconcile.io", "agentpools", "namespace"),
    ("get", "kreconcile.io", "iolimitpolicies", "cluster"),
    # restarts: a pod's workload through its ReplicaSet or Job
    ("get", "apps", "replicasets", "namespace"),
    ("get", "batch", "jobs", "namespace"),
    # writes
    ("create", "", "pods", "namespace"),
    ("patch", "", "pods", "namespace"),
    ("delete", "", "pods", "namespace"),
    ("update", "kreconcile.io", "agentpools/finalizers", "namespace"),
    ("create", "", "events", "namespace"),
    ("patch", "", "events", "namespace"),
    ("create", "kreconcile.io", "restartrecords", "namespace"),
    ("patch", "kreconcile.io", "restartrecords", "namespace"),
    ("delete", "kreconcile.io", "restartrecords", "namespace"),
    ("update", "kreconcile.io", "restartrecords/status", "namespace"),
    ("patch", "kreconcile.io", "iolimitpolicies/status", "cluster"),
    ("update", "kreconcile.io", "agentpools/status", "namespace"),
    # leader election, in the manager's own namespace
    ("get", "coordination.k8s.io", "leases", "own namespace"),
    ("create", "coordination.k8s.io", "leases", "own namespace"),
    ("update", "coordination.k8s.io", "leases", "own namespace"),
    # --metrics-secure: who is scraping, and may they
    ("create", "authentication.k8s.io", "tokenreviews", "cluster"),
    ("create", "authorization.k8s.io", "subjectaccessreviews", "cluster"),
}  # fmt: skip
AGENT_USES: set[Use] = {
    ("list", "", "pods", "cluster"),  # its own node's pods (field selector)
    ("watch", "", "pods", "cluster"),
    ("list", "kreconcile.io", "iolimitpolicies", "cluster"),
    ("watch", "kreconcile.io", "iolimitpolicies", "cluster"),
    ("patch", "kreconcile.io", "iolimitpolicies/status", "cluster"),  # its node's report (SSA)
    ("create", "authentication.k8s.io", "tokenreviews", "cluster"),
    ("create", "authorization.k8s.io", "subjectaccessreviews", "cluster"),
}
CLAIMER_USES: set[Use] = {
    ("get", "kreconcile.io", "agentpools", "namespace"),
    ("watch", "kreconcile.io", "agentpools", "namespace"),  # claim --wait, by name
    ("update", "kreconcile.io", "agentpools/status", "namespace"),
}

ACCOUNTS = {
    "manager": ((NAMESPACE, MANAGER), MANAGER_USES),
    "agent": ((NAMESPACE, AGENT), AGENT_USES),
    "claimer": (CLAIMER, CLAIMER_USES),
}


def _scope(namespace: str) -> str:
    if not namespace:
        return "cluster"
    return "own namespace" if namespace == NAMESPACE else "namespace"


def _use(decision: LoggedDecision) -> Use:
    a = decision.attributes
    resource = f"{a.resource}/{a.subresource}" if a.subresource else a.resource
    return (a.verb, a.api_group, resource, _scope(a.namespace))


def _roles_of(account: tuple[str, str]) -> list[dict[str, Any]]:
    """The roles config/default binds to ``account`` (the claimer's is bound by the tests)."""
    objects = rbac_objects()
    roles = {(o["kind"], o["metadata"].get("namespace", ""), o["metadata"]["name"]): o
             for o in objects if o["kind"] in ("Role", "ClusterRole")}  # fmt: skip
    if account == CLAIMER:
        return [roles[("ClusterRole", "", CLAIMER_ROLE)]]
    subject = {"kind": "ServiceAccount", "name": account[1], "namespace": account[0]}
    bound = []
    for binding in objects:
        if binding["kind"] not in ("RoleBinding", "ClusterRoleBinding"):
            continue
        if subject not in binding.get("subjects", []):
            continue
        ref = binding["roleRef"]
        namespace = binding["metadata"].get("namespace", "") if ref["kind"] == "Role" else ""
        bound.append(roles[(ref["kind"], namespace, ref["name"])])
    return bound


def _atoms(role: dict[str, Any]) -> Iterable[tuple[str, dict[str, Any]]]:
    """Each (group, resource, verb) of each rule, as a one-of-each rule and its label."""
    for rule in role.get("rules", []):
        names = rule.get("resourceNames")
        for group in rule.get("apiGroups", []):
            for resource in rule.get("resources", []):
                for verb in rule.get("verbs", []):
                    atom: dict[str, Any] = {
                        "apiGroups": [group], "resources": [resource], "verbs": [verb]
                    }  # fmt: skip
                    if names:
                        atom["resourceNames"] = names
                    label = f"{role['metadata']['name']}: {verb} {resource}.{group or 'core'}"
                    yield label + (f" {names}" if names else ""), atom
        for url in rule.get("nonResourceURLs", []):
            for verb in rule.get("verbs", []):
                yield f"{role['metadata']['name']}: {verb} {url}", {
                    "nonResourceURLs": [url], "verbs": [verb]
                }  # fmt: skip


def _table(uses: Iterable[Use]) -> str:
    return "\n".join(f"    {use!r}," for use in sorted(uses))


@pytest.fixture(scope="module")
def usage(rbac_usage: Usage, deselected: set[str]) -> Usage:
    missing = SOURCES - rbac_usage.sources
    partial = sorted(n for n in deselected if n.startswith(CONTRIBUTING))
    if missing or partial:
        pytest.skip(
            "the RBAC usage check needs every operator integration test of this session; "
            f"not run: {sorted(missing) or partial[:5]} (run tests/integration/controllers)"
        )
    return rbac_usage


@pytest.mark.parametrize("account", sorted(ACCOUNTS))
def test_nothing_was_refused(usage: Usage, account: str) -> None:
    user = username(*ACCOUNTS[account][0])
    refused = sorted({_use(d) for d in usage.decisions if d.attributes.user.name == user
                      and not d.allowed})  # fmt: skip
    assert not refused, f"{account} was refused (grant these in config/rbac):\n{_table(refused)}"


@pytest.mark.parametrize("account", sorted(ACCOUNTS))
def test_every_grant_was_used(usage: Usage, account: str) -> None:
    identity = ACCOUNTS[account][0]
    user = username(*identity)
    allowed = [
        d.attributes for d in usage.decisions if d.attributes.user.name == user and d.allowed
    ]
    roles = _roles_of(identity)
    assert roles, f"no role is bound to {user}"
    unused = []
    for role in roles:
        namespace = role["metadata"].get("namespace", "") if role["kind"] == "Role" else None
        for label, atom in _atoms(role):
            if not any(
                rule_allows(a, atom) and (namespace is None or a.namespace == namespace)
                for a in allowed
            ):
                unused.append(label)
    assert not unused, f"granted to {account} but never used:\n  " + "\n  ".join(unused)


@pytest.mark.parametrize("account", sorted(ACCOUNTS))
def test_what_each_account_uses_is_the_table(usage: Usage, account: str) -> None:
    identity, expected = ACCOUNTS[account]
    user = username(*identity)
    used = {_use(d) for d in usage.decisions if d.attributes.user.name == user
            and d.attributes.resource_request}  # fmt: skip
    assert used == expected, (
        f"{account} now uses:\n{_table(used)}\n"
        f"new: {sorted(used - expected)}\ngone: {sorted(expected - used)}"
    )
