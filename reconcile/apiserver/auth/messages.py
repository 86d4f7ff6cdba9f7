"""The 401 and 403 bodies, worded exactly as kube-apiserver words them.

kubectl prints the message as is (``Error from server (Forbidden): pods is forbidden: User
"x" cannot list resource "pods" in API group "" in the namespace "y"``), and people grep
for these phrases, so they follow kube-apiserver's format strings to the character.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any

from reconcile.apiserver.auth.rbac import Attributes
from reconcile.apiserver.status import StatusError

__all__ = ["forbidden", "forbidden_message", "go_quote", "unauthorized"]


def go_quote(values: Iterable[str]) -> str:
    """A string slice as Go's ``%q`` prints it: ``["a" "b"]``."""
    return "[" + " ".join(json.dumps(v) for v in values) + "]"


def unauthorized() -> StatusError:
    return StatusError(401, "Unauthorized", "Unauthorized")


def forbidden_message(attributes: Attributes) -> str:
    """Why ``attributes`` was refused, without the resource prefix."""
    user = attributes.user.name
    if not attributes.resource_request:
        return f'User "{user}" cannot {attributes.verb} path "{attributes.path}"'
    resource = attributes.resource
    if attributes.subresource:
        resource = f"{resource}/{attributes.subresource}"
    head = (
        f'User "{user}" cannot {attributes.verb} resource "{resource}" in API group '
        f'"{attributes.api_group}"'
    )
    if attributes.namespace:
        return f'{head} in the namespace "{attributes.namespace}"'
    return f"{head} at the cluster scope"


def forbidden(attributes: Attributes, reason: str = "") -> StatusError:
    """403 for a refused request, as ``responsewriters.Forbidden`` builds it."""
    why = forbidden_message(attributes)
    if reason:
        why = f"{why}: {reason}"
    details: dict[str, Any] = {}
    if not attributes.resource_request or not attributes.resource:
        return StatusError(403, "Forbidden", f"forbidden: {why}", details or None)
    qualified = attributes.resource
    if attributes.api_group:
        qualified = f"{qualified}.{attributes.api_group}"
        details["group"] = attributes.api_group
    details["kind"] = attributes.resource
    if attributes.name:
        details["name"] = attributes.name
        return StatusError(
            403, "Forbidden", f'{qualified} "{attributes.name}" is forbidden: {why}', details
        )
    return StatusError(403, "Forbidden", f"{qualified} is forbidden: {why}", details)
