"""Acting as someone else: the ``Impersonate-*`` headers (``kubectl --as``, ``--as-group``).

Each requested attribute is authorized for the real user with the ``impersonate`` verb, as
kube-apiserver does: the user name on ``users`` (or, for ``system:serviceaccount:NS:NAME``,
on ``serviceaccounts`` NAME in NS), each group on ``groups``, the UID on
``uids.authentication.k8s.io`` and each extra value on ``userextras/KEY`` in
``authentication.k8s.io``. The first refusal is a 403 naming it. The resulting user is in
``system:authenticated`` unless the groups say otherwise; a ServiceAccount impersonated
without groups gets its fixed ServiceAccount groups.
"""

from __future__ import annotations

from collections.abc import Callable
from urllib.parse import unquote

from multidict import CIMultiDictProxy

from reconcile.apiserver.auth.messages import forbidden
from reconcile.apiserver.auth.rbac import Attributes, Decision
from reconcile.apiserver.auth.user import (
    ANONYMOUS,
    AUTHENTICATED,
    UNAUTHENTICATED,
    UserInfo,
    parse_service_account,
    service_account_groups,
)
from reconcile.apiserver.status import StatusError

__all__ = ["impersonate", "wants_impersonation"]

_EXTRA_PREFIX = "impersonate-extra-"
_AUTHENTICATION_GROUP = "authentication.k8s.io"


def wants_impersonation(headers: CIMultiDictProxy[str]) -> bool:
    return any(key.lower().startswith("impersonate-") for key in headers)


def impersonate(
    headers: CIMultiDictProxy[str], user: UserInfo, authorize: Callable[[Attributes], Decision]
) -> UserInfo:
    """The user to act as, after checking that ``user`` may impersonate each part of it."""
    name = headers.get("Impersonate-User", "")
    groups = tuple(headers.getall("Impersonate-Group", ()))
    uid = headers.get("Impersonate-Uid", "")
    extra: dict[str, tuple[str, ...]] = {}
    for key in headers:
        if key.lower().startswith(_EXTRA_PREFIX):
            extra_key = unquote(key[len(_EXTRA_PREFIX) :]).lower()
            extra[extra_key] = tuple(headers.getall(key))
    if not name:
        raise StatusError(
            500,
            "InternalError",
            "Internal Server Error: requested impersonation of groups, uid or extra without "
            "impersonating a user",
        )
    checks = [_user_attributes(user, name)]
    checks += [_attributes(user, "groups", group) for group in groups]
    if uid:
        checks.append(_attributes(user, "uids", uid, group=_AUTHENTICATION_GROUP))
    for key, values in extra.items():
        checks += [
            _attributes(user, "userextras", value, group=_AUTHENTICATION_GROUP, subresource=key)
            for value in values
        ]
    for attributes in checks:
        decision = authorize(attributes)
        if not decision.allowed:
            raise forbidden(attributes, decision.reason)
    account = parse_service_account(name)
    if account is not None and not groups:
        groups = service_account_groups(account[0])
    if name == ANONYMOUS:
        if UNAUTHENTICATED not in groups:
            groups = (*groups, UNAUTHENTICATED)
    elif AUTHENTICATED not in groups and UNAUTHENTICATED not in groups:
        groups = (*groups, AUTHENTICATED)
    return UserInfo(name=name, uid=uid, groups=groups, extra=extra)


def _user_attributes(user: UserInfo, name: str) -> Attributes:
    account = parse_service_account(name)
    if account is None:
        return _attributes(user, "users", name)
    return Attributes(
        user=user,
        verb="impersonate",
        resource="serviceaccounts",
        namespace=account[0],
        name=account[1],
    )


def _attributes(
    user: UserInfo, resource: str, name: str, *, group: str = "", subresource: str = ""
) -> Attributes:
    return Attributes(
        user=user,
        verb="impersonate",
        api_group=group,
        resource=resource,
        subresource=subresource,
        name=name,
    )
