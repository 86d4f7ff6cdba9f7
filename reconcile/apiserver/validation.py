"""Object-level checks kube-apiserver applies before storing anything.

Names must be DNS-1123 subdomains (labels for namespaces and services), the body must
name the kind the URL serves, namespaces must agree. Each failure is a Status error whose
wording matches kube-apiserver's, so nothing is stored half-way.
"""

from __future__ import annotations

import re
from typing import Any

from reconcile.apiserver.resources import ResourceInfo
from reconcile.apiserver.status import StatusError, bad_request, invalid

__all__ = [
    "DNS_LABEL",
    "DNS_LABEL_MESSAGE",
    "DNS_SUBDOMAIN",
    "check_kind",
    "check_name",
    "decode_error",
]

DNS_SUBDOMAIN = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$")
DNS_LABEL = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")
_SUBDOMAIN_MESSAGE = (
    "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, "
    "'-' or '.', and must start and end with an alphanumeric character (e.g. 'example.com', "
    "regex used for validation is "
    "'[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')"
)
DNS_LABEL_MESSAGE = (
    "a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', "
    "and must start and end with an alphanumeric character (e.g. 'my-name',  or '123-abc', "
    "regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?')"
)
_LABEL_KINDS = {("", "namespaces"), ("", "services")}
_PATH_SEGMENT_KINDS = {
    ("rbac.authorization.k8s.io", r)
    for r in ("roles", "rolebindings", "clusterroles", "clusterrolebindings")
}
"""RBAC names only need to be one URL path segment (``system:aggregate-to-view`` is fine)."""


def _path_segment_problems(name: str) -> list[str]:
    problems = [f"may not be '{name}'"] if name in (".", "..") else []
    return problems + [f"may not contain '{c}'" for c in ("/", "%") if c in name]


def decode_error(info: ResourceInfo, detail: str) -> StatusError:
    return bad_request(
        f'{info.kind} in version "{info.version}" cannot be handled as a {info.kind}: {detail}'
    )


def check_kind(info: ResourceInfo, obj: dict[str, Any]) -> None:
    """The body's apiVersion/kind must be the URL's (empty means "the URL's")."""
    kind = obj.get("kind")
    api_version = obj.get("apiVersion")
    if kind is None and api_version is None:
        obj["kind"], obj["apiVersion"] = info.kind, info.api_version
        return
    if api_version != info.api_version:
        raise bad_request(
            f"the API version in the data ({api_version}) does not match the expected API "
            f"version ({info.api_version})"
        )
    if kind != info.kind:
        raise bad_request(
            f"the kind in the data ({kind}) does not match the expected kind ({info.kind})"
        )


def check_name(info: ResourceInfo, name: str) -> None:
    """422 naming metadata.name when it is not a valid object name for this resource."""
    label = (info.group, info.resource) in _LABEL_KINDS
    limit = 63 if label else 253
    pattern, message = (
        (DNS_LABEL, DNS_LABEL_MESSAGE) if label else (DNS_SUBDOMAIN, _SUBDOMAIN_MESSAGE)
    )
    problems = []
    if (info.group, info.resource) in _PATH_SEGMENT_KINDS:
        problems = _path_segment_problems(name)
    else:
        if len(name) > limit:
            problems.append(f"must be no more than {limit} characters")
        if not pattern.match(name):
            problems.append(message)
    if problems:
        raise invalid(
            info,
            name,
            [
                {
                    "reason": "FieldValueInvalid",
                    "message": f'Invalid value: "{name}": {problem}',
                    "field": "metadata.name",
                }
                for problem in problems
            ],
        )
