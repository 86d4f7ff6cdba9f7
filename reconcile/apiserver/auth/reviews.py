"""The create-only review APIs and TokenRequest: asking the server about identities and access.

- ``authentication.k8s.io/v1``: ``selfsubjectreviews`` (``kubectl auth whoami``) and
  ``tokenreviews`` (is this bearer token valid, and whose is it);
- ``authorization.k8s.io/v1``: ``selfsubjectaccessreviews`` (``kubectl auth can-i``),
  ``subjectaccessreviews`` (may user X ...), ``localsubjectaccessreviews`` (the same within
  one namespace) and ``selfsubjectrulesreviews`` (``kubectl auth can-i --list``);
- ``serviceaccounts/token`` (``kubectl create token``): a signed, expiring JWT.

Nothing here is stored: each POST is answered with the request object plus its status, as
kube-apiserver does. Who may call them is decided by RBAC like any other request (the
default ``system:basic-user`` role lets everyone ask about themselves).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from aiohttp import web

from reconcile.apiserver.api import API
from reconcile.apiserver.auth.authn import Authenticator
from reconcile.apiserver.auth.rbac import Attributes, RBACAuthorizer
from reconcile.apiserver.auth.tokens import (
    DEFAULT_EXPIRATION,
    MAX_EXPIRATION,
    MIN_EXPIRATION,
    InvalidToken,
    ServiceAccountTokens,
    bound_object_key,
)
from reconcile.apiserver.auth.user import UserInfo
from reconcile.apiserver.request import decode_body, read_raw
from reconcile.apiserver.resources import ResourceInfo
from reconcile.apiserver.rest import Target
from reconcile.apiserver.status import StatusError, bad_request, conflict, invalid
from reconcile.apiserver.storage import encode
from reconcile.timestamps import rfc3339

__all__ = ["REVIEW_RESOURCES", "Reviews"]

_AUTHN = "authentication.k8s.io"
_AUTHZ = "authorization.k8s.io"


def _review(group: str, resource: str, kind: str, *, namespaced: bool = False) -> ResourceInfo:
    return ResourceInfo(
        group=group,
        version="v1",
        resource=resource,
        kind=kind,
        singular=kind.lower(),
        namespaced=namespaced,
        verbs=("create",),
    )


REVIEW_RESOURCES: tuple[ResourceInfo, ...] = (
    _review(_AUTHN, "selfsubjectreviews", "SelfSubjectReview"),
    _review(_AUTHN, "tokenreviews", "TokenReview"),
    _review(_AUTHZ, "localsubjectaccessreviews", "LocalSubjectAccessReview", namespaced=True),
    _review(_AUTHZ, "selfsubjectaccessreviews", "SelfSubjectAccessReview"),
    _review(_AUTHZ, "selfsubjectrulesreviews", "SelfSubjectRulesReview"),
    _review(_AUTHZ, "subjectaccessreviews", "SubjectAccessReview"),
)
"""Served for discovery (verbs: create) and answered here, never stored."""
_TOKEN_SUBRESOURCE = ("", "serviceaccounts", "token")
_TOO_LONG = "larger than 2^32 seconds"
_NOT_ALLOWED = "the server does not allow this method on the requested resource"
_TOKEN_REQUEST = _review(_AUTHN, "tokenrequests", "TokenRequest")

Handler = Callable[[dict[str, Any], Target, UserInfo], tuple[dict[str, Any], int]]


class Reviews:
    """Answers review and TokenRequest POSTs for one server."""

    def __init__(
        self,
        api: API,
        *,
        authenticator: Authenticator,
        authorizer: RBACAuthorizer,
        tokens: ServiceAccountTokens | None,
    ) -> None:
        self._api = api
        self._authenticator = authenticator
        self._authorizer = authorizer
        self._tokens = tokens
        self._handlers: dict[tuple[str, str], Handler] = {
            (_AUTHN, "selfsubjectreviews"): self._self_subject_review,
            (_AUTHN, "tokenreviews"): self._token_review,
            (_AUTHZ, "selfsubjectaccessreviews"): self._self_access_review,
            (_AUTHZ, "subjectaccessreviews"): self._access_review,
            (_AUTHZ, "localsubjectaccessreviews"): self._local_access_review,
            (_AUTHZ, "selfsubjectrulesreviews"): self._rules_review,
        }

    def handles(self, target: Target) -> bool:
        if (target.group, target.resource) in self._handlers:
            served = self._api.registry.lookup(target.group, target.version, target.resource)
            return served is not None
        return (target.group, target.resource, target.subresource) == _TOKEN_SUBRESOURCE

    async def serve(self, request: web.Request, target: Target, user: UserInfo) -> web.Response:
        if request.method != "POST" or (target.name and target.subresource != "token"):
            raise StatusError(405, "MethodNotAllowed", _NOT_ALLOWED)
        info = _TOKEN_REQUEST if target.subresource == "token" else None
        info = info or self._api.registry.lookup(target.group, target.version, target.resource)
        assert info is not None, "handles() checked that the resource is served"
        body = decode_body(request, info, await read_raw(request))
        if target.subresource == "token":
            result, code = self._token_request(body, target, user)
        else:
            result, code = self._handlers[(target.group, target.resource)](body, target, user)
        return web.Response(body=encode(result), status=code, content_type="application/json")

    # authentication.k8s.io

    def _self_subject_review(
        self, body: dict[str, Any], target: Target, user: UserInfo
    ) -> tuple[dict[str, Any], int]:
        return _answer(body, target, "SelfSubjectReview", {"userInfo": user.to_json()}), 201

    def _token_review(
        self, body: dict[str, Any], target: Target, user: UserInfo
    ) -> tuple[dict[str, Any], int]:
        spec = body.get("spec") or {}
        audiences = tuple(spec.get("audiences") or ())
        try:
            reviewed = self._authenticator.review_token(str(spec.get("token") or ""), audiences)
        except InvalidToken as exc:
            status: dict[str, Any] = {"user": {}, "error": str(exc)}
        else:
            default = self._tokens.api_audiences if self._tokens is not None else ()
            status = {
                "authenticated": True,
                "user": reviewed.to_json(),
                "audiences": list(audiences or default),
            }
        return _answer(body, target, "TokenReview", status), 201

    # authorization.k8s.io

    def _self_access_review(
        self, body: dict[str, Any], target: Target, user: UserInfo
    ) -> tuple[dict[str, Any], int]:
        return self._decide(body, target, "SelfSubjectAccessReview", user), 201

    def _access_review(
        self, body: dict[str, Any], target: Target, user: UserInfo
    ) -> tuple[dict[str, Any], int]:
        return self._decide(body, target, "SubjectAccessReview", _subject(body, target)), 201

    def _local_access_review(
        self, body: dict[str, Any], target: Target, user: UserInfo
    ) -> tuple[dict[str, Any], int]:
        spec = body.get("spec") or {}
        if spec.get("nonResourceAttributes"):
            raise bad_request("nonResourceAttributes disallowed on this kind of request")
        namespace = (spec.get("resourceAttributes") or {}).get("namespace", "")
        if namespace != target.namespace:
            raise bad_request(
                f"spec.resourceAttributes.namespace must match namespace: {target.namespace}"
            )
        return self._decide(body, target, "LocalSubjectAccessReview", _subject(body, target)), 201

    def _decide(
        self, body: dict[str, Any], target: Target, kind: str, subject: UserInfo
    ) -> dict[str, Any]:
        spec = body.get("spec") or {}
        resource = spec.get("resourceAttributes") or {}
        non_resource = spec.get("nonResourceAttributes") or {}
        if bool(resource) == bool(non_resource):
            raise _invalid(
                target,
                "spec.resourceAttributes",
                "exactly one of nonResourceAttributes or resourceAttributes must be specified",
            )
        if resource:
            attributes = Attributes(
                user=subject,
                verb=resource.get("verb", ""),
                api_group=resource.get("group", ""),
                api_version=resource.get("version", ""),
                resource=resource.get("resource", ""),
                subresource=resource.get("subresource", ""),
                namespace=resource.get("namespace", ""),
                name=resource.get("name", ""),
            )
        else:
            attributes = Attributes(
                user=subject,
                verb=non_resource.get("verb", ""),
                resource_request=False,
                path=non_resource.get("path", ""),
            )
        decision = self._authorizer.authorize(attributes)
        status: dict[str, Any] = {"allowed": decision.allowed}
        if decision.reason:
            status["reason"] = decision.reason
        return _answer(body, target, kind, status)

    def _rules_review(
        self, body: dict[str, Any], target: Target, user: UserInfo
    ) -> tuple[dict[str, Any], int]:
        namespace = (body.get("spec") or {}).get("namespace", "")
        rules, errors = self._authorizer.rules_for(user, namespace)
        status: dict[str, Any] = {
            "resourceRules": [_resource_rule(r) for r in rules if r.get("resources")],
            "nonResourceRules": [
                {"verbs": r.get("verbs") or [], "nonResourceURLs": r["nonResourceURLs"]}
                for r in rules
                if r.get("nonResourceURLs")
            ],
            "incomplete": bool(errors),
        }
        if errors:
            status["evaluationError"] = "; ".join(errors)
        return _answer(body, target, "SelfSubjectRulesReview", status), 201

    # serviceaccounts/token

    def _token_request(
        self, body: dict[str, Any], target: Target, user: UserInfo
    ) -> tuple[dict[str, Any], int]:
        if self._tokens is None:
            raise StatusError(404, "NotFound", "the server could not find the requested resource")
        namespace = target.namespace or ""
        accounts = self._api.registry.lookup("", "v1", "serviceaccounts")
        assert accounts is not None
        account = self._api.get_stored(accounts, namespace, target.name).obj
        spec = dict(body.get("spec") or {})
        seconds = int(spec.get("expirationSeconds") or DEFAULT_EXPIRATION)
        if seconds < MIN_EXPIRATION or seconds > MAX_EXPIRATION:
            bound = "less than 10 minutes" if seconds < MIN_EXPIRATION else _TOO_LONG
            cause = {
                "reason": "FieldValueInvalid",
                "message": f"Invalid value: {seconds}: may not specify a duration {bound}",
                "field": "spec.expirationSeconds",
            }
            raise invalid(_TOKEN_REQUEST, target.name, [cause])
        bound_ref = self._bound_object(spec.get("boundObjectRef"), namespace, target.name)
        audiences = list(spec.get("audiences") or self._tokens.api_audiences)
        issued = self._tokens.issue(
            account, audiences=audiences, expiration_seconds=seconds, bound=bound_ref
        )
        spec.update(audiences=audiences, expirationSeconds=seconds, boundObjectRef=bound_ref)
        return {
            "kind": "TokenRequest",
            "apiVersion": f"{_AUTHN}/v1",
            "metadata": {
                "name": target.name,
                "namespace": namespace,
                "creationTimestamp": rfc3339(),
            },
            "spec": spec,
            "status": {"token": issued.token, "expirationTimestamp": rfc3339(issued.expires)},
        }, 201

    def _bound_object(
        self, ref: dict[str, Any] | None, namespace: str, account: str
    ) -> dict[str, Any] | None:
        if not ref:
            return None
        kind = str(ref.get("kind") or "")
        key = bound_object_key(kind)
        if key is None or not ref.get("name"):
            raise bad_request(
                f'cannot bind token for serviceaccount "{account}" to object of kind "{kind}": '
                "supported kinds are Pod and Secret, with a name"
            )
        info = self._api.registry.lookup(key[0], "v1", key[1])
        assert info is not None
        live = self._api.get_stored(info, namespace, ref["name"]).obj
        uid = live["metadata"].get("uid", "")
        if ref.get("uid") and ref["uid"] != uid:
            raise conflict(
                info,
                ref["name"],
                f"the UID in the bound object reference ({ref['uid']}) does not match the UID "
                "in record. The object might have been deleted and then recreated",
            )
        return {"kind": kind, "apiVersion": "v1", "name": ref["name"], "uid": uid}


def _subject(body: dict[str, Any], target: Target) -> UserInfo:
    spec = body.get("spec") or {}
    name, groups = str(spec.get("user") or ""), tuple(spec.get("groups") or ())
    if not name and not groups:
        raise _invalid(target, "spec.user", "at least one of user or group must be specified")
    extra = {k: tuple(v) for k, v in (spec.get("extra") or {}).items()}
    return UserInfo(name=name, uid=str(spec.get("uid") or ""), groups=groups, extra=extra)


def _invalid(target: Target, field: str, message: str) -> StatusError:
    info = next(i for i in REVIEW_RESOURCES if i.resource == target.resource)
    cause = {"reason": "FieldValueInvalid", "message": f'Invalid value: "": {message}'}
    return invalid(info, "", [{**cause, "field": field}])


def _resource_rule(rule: dict[str, Any]) -> dict[str, Any]:
    out = {
        "verbs": rule.get("verbs") or [],
        "apiGroups": rule.get("apiGroups") or [],
        "resources": rule.get("resources") or [],
    }
    if rule.get("resourceNames"):
        out["resourceNames"] = rule["resourceNames"]
    return out


def _answer(
    body: dict[str, Any], target: Target, kind: str, status: dict[str, Any]
) -> dict[str, Any]:
    metadata = dict(body.get("metadata") or {})
    metadata.setdefault("creationTimestamp", None)
    answer: dict[str, Any] = {
        "kind": kind,
        "apiVersion": f"{target.group}/{target.version}",
        "metadata": metadata,
    }
    if "spec" in body:
        answer["spec"] = body["spec"]
    answer["status"] = status
    return answer
