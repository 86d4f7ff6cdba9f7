"""The admissionregistration.k8s.io/v1 kinds: served, defaulted and validated as in 1.32.

``MutatingWebhookConfiguration``, ``ValidatingWebhookConfiguration``,
``ValidatingAdmissionPolicy`` and ``ValidatingAdmissionPolicyBinding`` are cluster-scoped
built-ins. Their writes get kube's defaults (failurePolicy Fail, matchPolicy Equivalent,
timeoutSeconds 10, empty selectors, rule scope ``*``, reinvocationPolicy Never, service
port 443) and the checks of kube's validation that protect the server from calling
something it cannot: a webhook name that is a qualified domain, exactly one of ``url`` and
``service`` (``https`` only), sideEffects ``None``/``NoneOnDryRun``, a known review
version, a timeout in 1..30 s, known operations and scopes, and CEL that compiles.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from typing import Any
from urllib.parse import urlparse

from reconcile.apiserver import semantic
from reconcile.apiserver.admission.expressions import compile_error
from reconcile.apiserver.resources import ResourceInfo
from reconcile.apiserver.status import invalid

__all__ = [
    "ADMISSION_GROUP",
    "ADMISSION_RESOURCES",
    "BINDINGS",
    "MUTATING",
    "POLICIES",
    "VALIDATING",
    "install",
]

ADMISSION_GROUP = "admissionregistration.k8s.io"
MUTATING = (ADMISSION_GROUP, "mutatingwebhookconfigurations")
VALIDATING = (ADMISSION_GROUP, "validatingwebhookconfigurations")
POLICIES = (ADMISSION_GROUP, "validatingadmissionpolicies")
BINDINGS = (ADMISSION_GROUP, "validatingadmissionpolicybindings")


def _info(resource: str, kind: str, *, status: bool = False) -> ResourceInfo:
    return ResourceInfo(
        group=ADMISSION_GROUP,
        version="v1",
        resource=resource,
        kind=kind,
        singular=kind.lower(),
        namespaced=False,
        categories=("api-extensions",),
        status_subresource=status,
    )


ADMISSION_RESOURCES: tuple[ResourceInfo, ...] = (
    _info(MUTATING[1], "MutatingWebhookConfiguration"),
    _info(VALIDATING[1], "ValidatingWebhookConfiguration"),
    _info(POLICIES[1], "ValidatingAdmissionPolicy", status=True),
    _info(BINDINGS[1], "ValidatingAdmissionPolicyBinding"),
)

Cause = dict[str, str]
_DNS1123_SUBDOMAIN = re.compile(
    r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$"
)
_OPERATIONS = ("*", "CONNECT", "CREATE", "DELETE", "UPDATE")
_SCOPES = ("*", "Cluster", "Namespaced")
_REVIEW_VERSIONS = ("v1", "v1beta1")
_MAX_MATCH_CONDITIONS = 64
_ACTIONS = ("Audit", "Deny", "Warn")


def _default_selectors(holder: dict[str, Any]) -> None:
    holder.setdefault("namespaceSelector", {})
    holder.setdefault("objectSelector", {})
    holder.setdefault("matchPolicy", "Equivalent")


def default_webhook(webhook: dict[str, Any], *, mutating: bool) -> None:
    """SetDefaults_ValidatingWebhook / SetDefaults_MutatingWebhook."""
    webhook.setdefault("failurePolicy", "Fail")
    _default_selectors(webhook)
    webhook.setdefault("timeoutSeconds", 10)
    if mutating:
        webhook.setdefault("reinvocationPolicy", "Never")
    for rule in webhook.get("rules") or []:
        if isinstance(rule, dict):
            rule.setdefault("scope", "*")
    service = (webhook.get("clientConfig") or {}).get("service")
    if isinstance(service, dict):
        service.setdefault("port", 443)


def _client_config(path: str, config: Any) -> Iterator[Cause]:
    if not isinstance(config, dict):
        yield semantic.required(path)
        return
    url, service = config.get("url"), config.get("service")
    if (url is None) == (service is None):
        yield semantic.required(path, "exactly one of url or service is required")
        return
    if url is not None:
        parsed = urlparse(str(url))
        if parsed.scheme != "https":
            yield semantic.invalid(f"{path}.url", url, "'https' is the only allowed URL scheme")
        elif not parsed.hostname:
            yield semantic.invalid(f"{path}.url", url, "host must be specified")
        if parsed.username or parsed.password:
            yield semantic.invalid(f"{path}.url", url, "user information is not permitted")
        if parsed.fragment or parsed.query:
            yield semantic.invalid(
                f"{path}.url", url, "fragments and query parameters are not permitted"
            )
        return
    if not isinstance(service, dict):
        yield semantic.required(f"{path}.service")
        return
    for key in ("namespace", "name"):
        if not service.get(key):
            yield semantic.required(f"{path}.service.{key}", f"service {key} is required")
    port = service.get("port", 443)
    if not isinstance(port, int) or not 1 <= port <= 65535:
        yield semantic.invalid(f"{path}.service.port", port, "must be between 1 and 65535")


def _match_conditions(path: str, conditions: Any) -> Iterator[Cause]:
    if len(conditions or []) > _MAX_MATCH_CONDITIONS:
        yield {"reason": "FieldValueTooMany", "field": path,
               "message": f"Too many: {len(conditions)}: must have at most 64 items"}  # fmt: skip
    names: set[str] = set()
    for index, condition in enumerate(conditions or []):
        field = f"{path}[{index}]"
        name = str((condition or {}).get("name") or "")
        if not name:
            yield semantic.required(f"{field}.name")
        elif name in names:
            yield semantic.duplicate(f"{field}.name", name)
        names.add(name)
        yield from _expression(f"{field}.expression", (condition or {}).get("expression"))


def _expression(field: str, expression: Any) -> Iterator[Cause]:
    if not expression:
        yield semantic.required(field)
        return
    error = compile_error(str(expression))
    if error is not None:
        yield semantic.invalid(field, expression, f"compilation failed: {error}")


def _enum(field: str, value: Any, allowed: tuple[str, ...]) -> Iterator[Cause]:
    if value not in allowed:
        yield semantic.unsupported(field, value, allowed)


def _rules(path: str, rules: Any, *, resource_key: str = "resources") -> Iterator[Cause]:
    for index, rule in enumerate(rules or []):
        field = f"{path}[{index}]"
        for operation in rule.get("operations") or []:
            yield from _enum(f"{field}.operations", operation, _OPERATIONS)
        yield from _enum(f"{field}.scope", rule.get("scope", "*"), _SCOPES)
        for key in ("apiGroups", "apiVersions", resource_key):
            if not rule.get(key):
                yield semantic.required(f"{field}.{key}")


def _webhook(
    path: str, webhook: dict[str, Any], names: set[str], *, mutating: bool
) -> Iterator[Cause]:
    name = str(webhook.get("name") or "")
    if not _DNS1123_SUBDOMAIN.match(name) or name.count(".") < 2:
        yield semantic.invalid(
            f"{path}.name",
            name,
            "should be a domain with at least three segments separated by dots",
        )
    elif name in names:
        yield semantic.duplicate(f"{path}.name", name)
    names.add(name)
    yield from _client_config(f"{path}.clientConfig", webhook.get("clientConfig"))
    yield from _enum(f"{path}.sideEffects", webhook.get("sideEffects"), ("None", "NoneOnDryRun"))
    versions = webhook.get("admissionReviewVersions") or []
    if not any(v in _REVIEW_VERSIONS for v in versions):
        yield semantic.invalid(
            f"{path}.admissionReviewVersions", versions,
            "must include at least one of v1, v1beta1",
        )  # fmt: skip
    timeout = webhook.get("timeoutSeconds")
    if not isinstance(timeout, int) or not 1 <= timeout <= 30:
        yield semantic.invalid(
            f"{path}.timeoutSeconds", timeout, "the timeout value must be between 1 and 30 seconds"
        )
    yield from _enum(f"{path}.failurePolicy", webhook.get("failurePolicy"), ("Fail", "Ignore"))
    yield from _enum(f"{path}.matchPolicy", webhook.get("matchPolicy"), ("Equivalent", "Exact"))
    if mutating:
        yield from _enum(
            f"{path}.reinvocationPolicy", webhook.get("reinvocationPolicy"), ("IfNeeded", "Never")
        )
    yield from _rules(f"{path}.rules", webhook.get("rules"))
    yield from _match_conditions(f"{path}.matchConditions", webhook.get("matchConditions"))


def _webhook_configuration(obj: dict[str, Any], *, mutating: bool) -> list[Cause]:
    causes: list[Cause] = []
    names: set[str] = set()
    for index, webhook in enumerate(obj.get("webhooks") or []):
        default_webhook(webhook, mutating=mutating)
        causes.extend(_webhook(f"webhooks[{index}]", webhook, names, mutating=mutating))
    return causes


def _match_resources(path: str, match: dict[str, Any]) -> list[Cause]:
    causes = list(_rules(f"{path}.resourceRules", match.get("resourceRules")))
    causes.extend(_rules(f"{path}.excludeResourceRules", match.get("excludeResourceRules")))
    causes.extend(_enum(f"{path}.matchPolicy", match.get("matchPolicy"), ("Equivalent", "Exact")))
    return causes


def _policy(obj: dict[str, Any]) -> list[Cause]:
    spec = obj.setdefault("spec", {})
    spec.setdefault("failurePolicy", "Fail")
    match = spec.setdefault("matchConstraints", {})
    _default_selectors(match)
    for rule in match.get("resourceRules") or []:
        rule.setdefault("scope", "*")
    causes = list(_enum("spec.failurePolicy", spec["failurePolicy"], ("Fail", "Ignore")))
    if not match.get("resourceRules"):
        causes.append(semantic.required("spec.matchConstraints.resourceRules"))
    causes.extend(_match_resources("spec.matchConstraints", match))
    causes.extend(_match_conditions("spec.matchConditions", spec.get("matchConditions")))
    for index, variable in enumerate(spec.get("variables") or []):
        if not (variable or {}).get("name"):
            causes.append(semantic.required(f"spec.variables[{index}].name"))
        causes.extend(
            _expression(f"spec.variables[{index}].expression", variable.get("expression"))
        )
    if not spec.get("validations") and not spec.get("auditAnnotations"):
        causes.append(
            semantic.required("spec.validations", "validations or auditAnnotations must contain "
                              "at least one item")
        )  # fmt: skip
    for index, validation in enumerate(spec.get("validations") or []):
        field = f"spec.validations[{index}]"
        causes.extend(_expression(f"{field}.expression", (validation or {}).get("expression")))
        if validation.get("messageExpression"):
            causes.extend(
                _expression(f"{field}.messageExpression", validation["messageExpression"])
            )
    return causes


def _binding(obj: dict[str, Any]) -> list[Cause]:
    spec = obj.setdefault("spec", {})
    causes: list[Cause] = []
    if not spec.get("policyName"):
        causes.append(semantic.required("spec.policyName"))
    actions = spec.get("validationActions") or []
    if not actions:
        causes.append(semantic.required("spec.validationActions"))
    for action in actions:
        causes.extend(_enum("spec.validationActions", action, _ACTIONS))
    if "Deny" in actions and "Warn" in actions:
        causes.append(
            semantic.invalid("spec.validationActions", actions,
                             "must not contain both Deny and Warn (repeating the same validation "
                             "failure information in the API response and headers serves no "
                             "purpose)")
        )  # fmt: skip
    match = spec.get("matchResources")
    if isinstance(match, dict):
        _default_selectors(match)
        for rule in match.get("resourceRules") or []:
            rule.setdefault("scope", "*")
        causes.extend(_match_resources("spec.matchResources", match))
    param_ref = spec.get("paramRef")
    if isinstance(param_ref, dict):
        action = param_ref.get("parameterNotFoundAction")
        if action is None:
            causes.append(semantic.required("spec.paramRef.parameterNotFoundAction"))
        else:
            causes.extend(_enum("spec.paramRef.parameterNotFoundAction", action, ("Allow", "Deny")))
        if param_ref.get("name") and param_ref.get("selector"):
            causes.append(semantic.forbidden("spec.paramRef", "name and selector are mutually "
                                             "exclusive"))  # fmt: skip
    return causes


_CHECKS: dict[tuple[str, str], Callable[[dict[str, Any]], list[Cause]]] = {
    MUTATING: lambda obj: _webhook_configuration(obj, mutating=True),
    VALIDATING: lambda obj: _webhook_configuration(obj, mutating=False),
    POLICIES: _policy,
    BINDINGS: _binding,
}


def install(admission_hooks: dict[tuple[str, str], Any]) -> None:
    """Default and validate the four kinds on every write (the API's admission hooks)."""
    infos = {(i.group, i.resource): i for i in ADMISSION_RESOURCES}
    for key, check in _CHECKS.items():
        admission_hooks[key] = _hook(infos[key], check)


def _hook(
    info: ResourceInfo, check: Callable[[dict[str, Any]], list[Cause]]
) -> Callable[[dict[str, Any], dict[str, Any] | None], None]:
    def admit(obj: dict[str, Any], _old: dict[str, Any] | None) -> None:
        causes = check(obj)
        if causes:
            raise invalid(info, str(obj.get("metadata", {}).get("name", "")), causes)

    return admit
