"""Who sent a request: client certificate, bearer token, or nobody.

kube-apiserver's order: a client certificate signed by the cluster CA wins (CN is the user,
each O a group); otherwise a bearer token is tried against the static admin token and then
as a ServiceAccount JWT; a token that matches nothing is a 401 even where anonymous access
would be allowed. Without credentials a request is ``system:anonymous`` only on the health
and version endpoints (kube 1.32 with anonymous access limited to those paths); anywhere
else it is a 401.

With ``insecure`` (plain HTTP, today's ``--insecure-http``) every request is
``system:unsecured`` in ``system:masters``, as kube-apiserver's old insecure port was.
"""

from __future__ import annotations

import hmac
from collections.abc import Mapping
from typing import Any

from reconcile.apiserver.auth.messages import unauthorized
from reconcile.apiserver.auth.tokens import InvalidToken, ServiceAccountTokens, looks_like_jwt
from reconcile.apiserver.auth.user import (
    ANONYMOUS,
    AUTHENTICATED,
    SYSTEM_MASTERS,
    UNAUTHENTICATED,
    UserInfo,
)

__all__ = ["ADMIN_USER", "ANONYMOUS_PATHS", "UNSECURED_USER", "Authenticator"]

ANONYMOUS_PATHS = frozenset({"/healthz", "/livez", "/readyz", "/version"})
ADMIN_USER = UserInfo(name="kreconcile-admin", groups=(SYSTEM_MASTERS, AUTHENTICATED))
"""Who the static admin token (written into kubeconfigs) authenticates as."""
UNSECURED_USER = UserInfo(name="system:unsecured", groups=(SYSTEM_MASTERS, AUTHENTICATED))
_ANONYMOUS_USER = UserInfo(name=ANONYMOUS, groups=(UNAUTHENTICATED,))


class Authenticator:
    """Turns a request's credentials into a ``UserInfo`` or a 401."""

    def __init__(
        self, *, admin_token: str, tokens: ServiceAccountTokens | None, insecure: bool = False
    ) -> None:
        self._admin_token = admin_token.encode()
        self._tokens = tokens
        self._insecure = insecure

    def authenticate(
        self, headers: Mapping[str, str], peer_certificate: dict[str, Any] | None, path: str
    ) -> UserInfo:
        if self._insecure:
            return UNSECURED_USER
        if peer_certificate:
            user = _certificate_user(peer_certificate)
            if user is not None:
                return user
        authorization = headers.get("Authorization", "")
        if authorization:
            scheme, _, token = authorization.partition(" ")
            if scheme.lower() != "bearer" or not token.strip():
                raise unauthorized()
            return self.authenticate_token(token.strip())
        if path in ANONYMOUS_PATHS:
            return _ANONYMOUS_USER
        raise unauthorized()

    def authenticate_token(self, token: str, audiences: tuple[str, ...] = ()) -> UserInfo:
        """The user a bearer token stands for; 401 when it stands for no one."""
        try:
            return self.review_token(token, audiences)
        except InvalidToken as exc:
            raise unauthorized() from exc

    def review_token(self, token: str, audiences: tuple[str, ...] = ()) -> UserInfo:
        """Like ``authenticate_token`` but says why (TokenReview reports it)."""
        if hmac.compare_digest(token.encode(), self._admin_token):
            return ADMIN_USER
        if self._tokens is not None and looks_like_jwt(token):
            return self._tokens.authenticate(token, audiences)
        raise InvalidToken("invalid bearer token")


def _certificate_user(certificate: dict[str, Any]) -> UserInfo | None:
    """CN and O of a verified client certificate (ssl's ``getpeercert()`` shape)."""
    common_name = ""
    groups: list[str] = []
    for rdn in certificate.get("subject") or ():
        for key, value in rdn:
            if key == "commonName":
                common_name = value
            elif key == "organizationName":
                groups.append(value)
    if not common_name:
        return None
    if AUTHENTICATED not in groups:
        groups.append(AUTHENTICATED)
    return UserInfo(name=common_name, groups=tuple(groups))
