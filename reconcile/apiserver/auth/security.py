"""Authentication, impersonation and authorization in front of every request.

The server calls ``admit`` first for every request, as kube-apiserver's filter chain does:
authenticate (401), apply ``Impersonate-*`` headers (403 if not allowed), then authorize the
request's attributes with RBAC (403 with kube's message). The review APIs and TokenRequest
are answered by ``reviews``; everything else goes on to the resource handlers.

Watches are authorized when they start, like every request, and stay registered here: when
any RBAC object changes, each open watch is authorized again and one that is no longer
allowed is ended at once, so revoking a permission also closes the stream it opened.

With an ``AuthorizationLog`` (``audit``), every decision made for a request, an
impersonation or an admission check on the requester's behalf is recorded there.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable, Iterator

from aiohttp import web

from reconcile.apiserver.api import API
from reconcile.apiserver.auth import policy
from reconcile.apiserver.auth.aggregation import ClusterRoleAggregator
from reconcile.apiserver.auth.audit import AuthorizationLog, recording
from reconcile.apiserver.auth.authn import Authenticator
from reconcile.apiserver.auth.escalation import CURRENT_USER, EscalationCheck
from reconcile.apiserver.auth.impersonation import impersonate, wants_impersonation
from reconcile.apiserver.auth.messages import forbidden
from reconcile.apiserver.auth.ownerrefs import OwnerReferencesPermissionEnforcement
from reconcile.apiserver.auth.pki import ServerSecrets
from reconcile.apiserver.auth.rbac import Attributes, RBACAuthorizer
from reconcile.apiserver.auth.requestinfo import request_attributes
from reconcile.apiserver.auth.reviews import Reviews
from reconcile.apiserver.auth.tokens import ServiceAccountTokens
from reconcile.apiserver.auth.user import UserInfo
from reconcile.apiserver.rest import Target

__all__ = ["Security"]

_WATCH = web.RequestKey("kreconcile.watch", Attributes)
_AGGREGATION_ROUNDS = 10


class Security:
    """Everything between a request arriving and a handler serving it, for one server."""

    def __init__(
        self,
        api: API,
        loop: asyncio.AbstractEventLoop,
        *,
        secrets: ServerSecrets | None,
        clock: Callable[[], float],
        decisions: AuthorizationLog | None = None,
        owner_references_permission_enforcement: bool = False,
    ) -> None:
        """``secrets`` None: insecure mode, every request is an unchecked administrator.
        ``decisions`` records every authorization decision (see ``audit``)."""
        self._api = api
        self.tokens = (
            ServiceAccountTokens(secrets.signing_key, api.store, clock=clock)
            if secrets is not None
            else None
        )
        self.authenticator = Authenticator(
            admin_token=secrets.admin_token if secrets is not None else "",
            tokens=self.tokens,
            insecure=secrets is None,
        )
        self.authorizer = RBACAuthorizer(api.store)
        self.decisions = decisions
        self._authorize = recording(self.authorizer.authorize, decisions)
        EscalationCheck(self.authorizer).install(api)
        if owner_references_permission_enforcement:
            OwnerReferencesPermissionEnforcement(api, self._authorize).install()
        self._aggregator = ClusterRoleAggregator(api, loop)
        self.reviews = Reviews(
            api, authenticator=self.authenticator, authorizer=self.authorizer, tokens=self.tokens
        )
        self._watches: dict[asyncio.Task[object], Attributes] = {}
        self.authorizer.on_change.append(self._recheck_watches)

    def bootstrap(self) -> None:
        """Install the default roles and bindings and settle aggregated roles (before serving)."""
        policy.bootstrap(self._api)
        for _ in range(_AGGREGATION_ROUNDS):
            if not self._aggregator.aggregate():
                return

    def admit(self, request: web.Request, target: Target | None) -> UserInfo:
        """The request's effective user, once authenticated and authorized; else 401/403."""
        transport = request.transport
        peer = transport.get_extra_info("peercert") if transport is not None else None
        user = self.authenticator.authenticate(request.headers, peer, request.path)
        if wants_impersonation(request.headers):
            user = impersonate(request.headers, user, self._authorize)
        CURRENT_USER.set(user)
        attributes = request_attributes(user, request.method, request.path, request.query, target)
        decision = self._authorize(attributes)
        if not decision.allowed:
            raise forbidden(attributes, decision.reason)
        if attributes.verb == "watch":
            request[_WATCH] = attributes
        return user

    @contextlib.contextmanager
    def watching(self, request: web.Request) -> Iterator[None]:
        """Keep an admitted watch revocable while its handler streams."""
        attributes = request.get(_WATCH)
        task = asyncio.current_task()
        if attributes is None or task is None:
            yield
            return
        self._watches[task] = attributes
        try:
            yield
        finally:
            self._watches.pop(task, None)

    def _recheck_watches(self) -> None:
        for task, attributes in list(self._watches.items()):
            if not self.authorizer.authorize(attributes).allowed:
                del self._watches[task]
                task.cancel()
