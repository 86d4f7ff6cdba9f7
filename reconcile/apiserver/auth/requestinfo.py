"""What an HTTP request asks to do, in authorization terms (kube's ``RequestInfo``).

Resource URLs give group, version, resource, subresource, namespace and name; the verb
comes from the method (GET is get, list or watch). Two rules of kube-apiserver that
matter for RBAC: a namespace object's own namespace is its name (so a RoleBinding in
``team-a`` can grant ``get namespaces`` on ``team-a``), and a list or watch narrowed by
``fieldSelector=metadata.name=X`` is checked against the name X (so ``resourceNames`` rules
allow ``kubectl get pod X -w``). Anything else is a non-resource request: the verb is the
lowercased method and the path is checked against ``nonResourceURLs``.
"""

from __future__ import annotations

from collections.abc import Mapping

from reconcile.apiserver.auth.rbac import Attributes
from reconcile.apiserver.auth.user import UserInfo
from reconcile.apiserver.rest import Target

__all__ = ["request_attributes", "resource_verb"]

_WRITE_VERBS = {"POST": "create", "PUT": "update", "PATCH": "patch"}


def resource_verb(method: str, path: str, query: Mapping[str, str], named: bool) -> str:
    if method in ("GET", "HEAD"):
        if query.get("watch", "").lower() in ("true", "1") or "/watch/" in path:
            return "watch"
        return "get" if named else "list"
    if method == "DELETE":
        return "delete" if named else "deletecollection"
    return _WRITE_VERBS.get(method, method.lower())


def _name_from_field_selector(query: Mapping[str, str]) -> str:
    for term in query.get("fieldSelector", "").split(","):
        key, _, value = term.replace("==", "=").partition("=")
        if key.strip() == "metadata.name" and not key.endswith("!"):
            return value.strip()
    return ""


def request_attributes(
    user: UserInfo,
    method: str,
    path: str,
    query: Mapping[str, str],
    target: Target | None,
) -> Attributes:
    """The authorization attributes of one request (``target`` None: non-resource)."""
    if target is None:
        return Attributes(user=user, verb=method.lower(), resource_request=False, path=path)
    verb = resource_verb(method, path, query, bool(target.name))
    name = target.name
    if not name and verb in ("list", "watch"):
        name = _name_from_field_selector(query)
    namespace = target.namespace or ""
    if target.resource == "namespaces" and target.name:
        namespace = target.name
    return Attributes(
        user=user,
        verb=verb,
        api_group=target.group,
        api_version=target.version,
        resource=target.resource,
        subresource=target.subresource,
        namespace=namespace,
        name=name,
    )
