"""Who a request is: ``UserInfo`` and the names kube-apiserver gives to well-known users.

Authentication produces a ``UserInfo``; authorization, impersonation and the review APIs
read it. The group names are kube-apiserver's, so RBAC objects written for a real cluster
mean the same thing here (``system:masters`` may do anything, every authenticated user is
in ``system:authenticated``, a ServiceAccount is ``system:serviceaccount:NS:NAME``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

__all__ = [
    "ANONYMOUS",
    "AUTHENTICATED",
    "SERVICE_ACCOUNTS",
    "SERVICE_ACCOUNT_PREFIX",
    "SYSTEM_MASTERS",
    "UNAUTHENTICATED",
    "UserInfo",
    "parse_service_account",
    "service_account_groups",
    "service_account_username",
]

SYSTEM_MASTERS = "system:masters"
"""Members are allowed everything, before RBAC is consulted (kube's privileged group)."""
AUTHENTICATED = "system:authenticated"
UNAUTHENTICATED = "system:unauthenticated"
ANONYMOUS = "system:anonymous"
SERVICE_ACCOUNTS = "system:serviceaccounts"
SERVICE_ACCOUNT_PREFIX = "system:serviceaccount:"


@dataclass(frozen=True, slots=True)
class UserInfo:
    """An authenticated (or anonymous) identity, as ``user.Info`` in kube-apiserver."""

    name: str
    uid: str = ""
    groups: tuple[str, ...] = ()
    extra: dict[str, tuple[str, ...]] = field(default_factory=dict, compare=False)

    def to_json(self) -> dict[str, Any]:
        """The ``UserInfo`` of authentication.k8s.io (SelfSubjectReview, TokenReview)."""
        body: dict[str, Any] = {"username": self.name, "groups": list(self.groups)}
        if self.uid:
            body["uid"] = self.uid
        if self.extra:
            body["extra"] = {key: list(values) for key, values in self.extra.items()}
        return body


def service_account_username(namespace: str, name: str) -> str:
    return f"{SERVICE_ACCOUNT_PREFIX}{namespace}:{name}"


def parse_service_account(username: str) -> tuple[str, str] | None:
    """``system:serviceaccount:NS:NAME`` -> (NS, NAME); None for any other user name."""
    if not username.startswith(SERVICE_ACCOUNT_PREFIX):
        return None
    namespace, _, name = username[len(SERVICE_ACCOUNT_PREFIX) :].partition(":")
    if not namespace or not name or ":" in name:
        return None
    return namespace, name


def service_account_groups(namespace: str) -> tuple[str, ...]:
    """The groups every ServiceAccount of ``namespace`` belongs to (before authenticated)."""
    return (SERVICE_ACCOUNTS, f"{SERVICE_ACCOUNTS}:{namespace}")
