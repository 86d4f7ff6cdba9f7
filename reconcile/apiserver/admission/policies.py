"""ValidatingAdmissionPolicy and its bindings, evaluated in process with CEL (1.32, GA).

A binding puts a policy to work: the request must match the policy's ``matchConstraints``
(resource rules minus ``excludeResourceRules``, ``resourceNames``, namespace and object
selectors) and, when set, the binding's ``matchResources``; then every policy
``matchConditions`` expression must be true. Parameters come from the binding's
``paramRef`` (one object by name, or every object its selector picks, of the policy's
``paramKind``; in the request's namespace unless the ref names one), and a missing one
either lets the request through or refuses it (``parameterNotFoundAction``).

Each ``validations`` expression must be true over ``object``, ``oldObject``, ``request``,
``params``, ``namespaceObject`` and ``variables`` (the policy's named expressions). A false
one yields its ``message``, its ``messageExpression`` or ``failed expression: <expr>``; the
binding's ``validationActions`` decide: ``Deny`` refuses (422 for the default reason
Invalid, kube's wording ``ValidatingAdmissionPolicy '<p>' with binding '<b>' denied request:
...``), ``Warn`` adds a warning, ``Audit`` records nothing here (the server's audit log,
``audit.py``, keeps no annotations). An
expression that fails to evaluate follows the policy's ``failurePolicy``.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from reconcile.apiserver.admission.configurations import BINDINGS, POLICIES
from reconcile.apiserver.admission.expressions import CELError, evaluate, to_cel
from reconcile.apiserver.admission.matching import (
    Attributes,
    Equivalents,
    namespace_matches,
    object_matches,
    rule_matches,
)
from reconcile.apiserver.registry import Registry
from reconcile.apiserver.resources import ResourceInfo
from reconcile.apiserver.status import StatusError
from reconcile.apiserver.storage import Store
from reconcile.labels import selector_from_label_selector

__all__ = ["PolicyEvaluator"]

_CODES = {"Unauthorized": 401, "Forbidden": 403, "Invalid": 422, "RequestEntityTooLarge": 413}


@dataclass(frozen=True, slots=True)
class _Decision:
    policy: str
    binding: str
    message: str
    reason: str
    actions: tuple[str, ...]


class PolicyEvaluator:
    """Evaluates every binding of every policy for a request; one per API server."""

    def __init__(self, store: Store, registry: Registry) -> None:
        self._store = store
        self._registry = registry
        self._equivalents = Equivalents(registry)

    def _bindings(self) -> Iterable[tuple[dict[str, Any], dict[str, Any]]]:
        policies = {s.obj["metadata"]["name"]: s.obj for s in self._store.list_objects(POLICIES)}
        for stored in self._store.list_objects(BINDINGS):
            policy = policies.get(str((stored.obj.get("spec") or {}).get("policyName")))
            if policy is not None:
                yield policy, stored.obj

    def any_rules_match(self, attributes: Attributes, operations: tuple[str, ...]) -> bool:
        """Cheap pre-check: could any binding concern this request (rules only)?"""
        for policy, binding in self._bindings():
            for operation in operations:
                attributes.operation = operation
                if self._matches(policy, binding, attributes, rules_only=True):
                    return True
        return False

    # matching

    def _matches(
        self,
        policy: dict[str, Any],
        binding: dict[str, Any],
        attributes: Attributes,
        *,
        rules_only: bool = False,
    ) -> bool:
        constraints = [(policy.get("spec") or {}).get("matchConstraints") or {}]
        resources = (binding.get("spec") or {}).get("matchResources")
        if isinstance(resources, dict):
            constraints.append(resources)
        return all(
            self._constraint_matches(c, attributes, rules_only=rules_only, narrowing=i > 0)
            for i, c in enumerate(constraints)
        )

    def _constraint_matches(
        self,
        constraint: dict[str, Any],
        attributes: Attributes,
        *,
        rules_only: bool,
        narrowing: bool,
    ) -> bool:
        rules = constraint.get("resourceRules")
        if rules or not narrowing:
            infos = self._equivalents.of(attributes.info, constraint.get("matchPolicy"))
            if not any(self._named_rule(r, attributes, i) for r in rules or [] for i in infos):
                return False
        excluded = constraint.get("excludeResourceRules") or []
        if any(self._named_rule(r, attributes, attributes.info) for r in excluded):
            return False
        if rules_only:
            return True
        return namespace_matches(
            constraint.get("namespaceSelector"), attributes, self._store
        ) and object_matches(constraint.get("objectSelector"), attributes)

    @staticmethod
    def _named_rule(rule: dict[str, Any], attributes: Attributes, info: ResourceInfo) -> bool:
        names = rule.get("resourceNames") or []
        return rule_matches(rule, attributes, info) and (not names or attributes.name in names)

    # evaluation

    def validate(
        self, attributes: Attributes, request: dict[str, Any], warnings: list[str]
    ) -> None:
        """Evaluate every matching binding; raise the first Deny, add Warn warnings."""
        denied: list[_Decision] = []
        for policy, binding in self._bindings():
            if not self._matches(policy, binding, attributes):
                continue
            for decision in self._evaluate(policy, binding, attributes, request):
                if "Deny" in decision.actions:
                    denied.append(decision)
                if "Warn" in decision.actions:
                    warnings.append(
                        f"Validation failed for ValidatingAdmissionPolicy '{decision.policy}' "
                        f"with binding '{decision.binding}': {decision.message}"
                    )
        if denied:
            raise _forbidden(attributes, denied[0])

    def _evaluate(
        self,
        policy: dict[str, Any],
        binding: dict[str, Any],
        attributes: Attributes,
        request: dict[str, Any],
    ) -> list[_Decision]:
        spec = policy.get("spec") or {}
        binding_spec = binding.get("spec") or {}
        actions = tuple(binding_spec.get("validationActions") or [])
        policy_name, binding_name = policy["metadata"]["name"], binding["metadata"]["name"]

        def decision(message: str, reason: str = "Invalid") -> _Decision:
            return _Decision(policy_name, binding_name, message, reason, actions)

        try:
            params_list = self._params(spec, binding_spec, attributes)
        except _ParamsMissing as missing:
            return [decision(str(missing))] if missing.deny else []
        decisions: list[_Decision] = []
        base = {
            "object": to_cel(attributes.obj),
            "oldObject": to_cel(attributes.old),
            "request": to_cel(request),
            "namespaceObject": to_cel(self._namespace_object(attributes)),
        }
        for params in params_list:
            activation = {**base, "params": to_cel(params)}
            try:
                if not self._conditions_hold(spec, activation):
                    continue
                activation["variables"] = to_cel(self._variables(spec, activation))
                decisions.extend(decision(m, r) for m, r in self._violations(spec, activation))
            except CELError as error:
                if spec.get("failurePolicy", "Fail") == "Fail":
                    decisions.append(decision(str(error)))
        return decisions

    @staticmethod
    def _conditions_hold(spec: dict[str, Any], activation: dict[str, Any]) -> bool:
        return all(
            bool(evaluate(str(c.get("expression")), activation))
            for c in spec.get("matchConditions") or []
        )

    @staticmethod
    def _variables(spec: dict[str, Any], activation: dict[str, Any]) -> dict[str, Any]:
        values: dict[str, Any] = {}
        for variable in spec.get("variables") or []:
            scope = {**activation, "variables": to_cel(values)}
            value = evaluate(str(variable.get("expression")), scope)
            values[str(variable.get("name"))] = _plain(value)
        return values

    @staticmethod
    def _violations(spec: dict[str, Any], activation: dict[str, Any]) -> list[tuple[str, str]]:
        found = []
        for validation in spec.get("validations") or []:
            expression = str(validation.get("expression"))
            if bool(evaluate(expression, activation)):
                continue
            message = str(validation.get("message") or f"failed expression: {expression}")
            if validation.get("messageExpression"):
                with contextlib.suppress(CELError):
                    message = str(evaluate(str(validation["messageExpression"]), activation))
            found.append((message, str(validation.get("reason") or "Invalid")))
        return found

    def _namespace_object(self, attributes: Attributes) -> dict[str, Any] | None:
        if not attributes.namespace:
            return None
        stored = self._store.get(("", "namespaces"), "", attributes.namespace)
        return None if stored is None else stored.obj

    def _params(
        self, spec: dict[str, Any], binding_spec: dict[str, Any], attributes: Attributes
    ) -> list[dict[str, Any] | None]:
        kind = spec.get("paramKind")
        if not kind:
            return [None]
        ref = binding_spec.get("paramRef")
        if not isinstance(ref, dict):
            raise _ParamsMissing("failed to configure binding: paramRef is required", deny=True)
        deny = ref.get("parameterNotFoundAction") == "Deny"
        group, _, version = str(kind.get("apiVersion", "")).rpartition("/")
        info = self._registry.by_kind(group, version, str(kind.get("kind", "")))
        if info is None:
            raise _ParamsMissing(f"failed to find resource referenced by paramKind: '{kind}'",
                                 deny=True)  # fmt: skip
        namespace = ""
        if info.namespaced:
            namespace = str(ref.get("namespace") or attributes.namespace)
        key = (info.group, info.resource)
        if ref.get("name"):
            stored = self._store.get(key, namespace, str(ref["name"]))
            found = [] if stored is None else [stored.obj]
        else:
            selector = selector_from_label_selector(ref.get("selector") or {})
            found = [
                s.obj
                for s in self._store.list_objects(key, namespace if info.namespaced else None)
                if selector.matches_object(s.obj)
            ]
        if not found:
            raise _ParamsMissing(
                "no params found for policy binding with `Deny` parameterNotFoundAction", deny=deny
            )
        return list(found)


class _ParamsMissing(Exception):
    def __init__(self, message: str, *, deny: bool) -> None:
        super().__init__(message)
        self.deny = deny


def _plain(value: Any) -> Any:
    """A CEL value back as JSON-like Python, so later expressions can read it."""
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    if isinstance(value, bool):
        return bool(value)
    if isinstance(value, int):
        return int(value)
    if isinstance(value, float):
        return float(value)
    if isinstance(value, str):
        return str(value)
    return value


def _forbidden(attributes: Attributes, decision: _Decision) -> StatusError:
    info = attributes.info
    message = (
        f"ValidatingAdmissionPolicy '{decision.policy}' with binding '{decision.binding}' "
        f"denied request: {decision.message}"
    )
    name = attributes.name
    head = f'{info.group_resource} "{name}"' if name else info.group_resource
    details = {
        "name": name,
        "group": info.group,
        "kind": info.resource,
        "causes": [{"message": message}],
    }
    code = _CODES.get(decision.reason, 422)
    return StatusError(code, decision.reason, f"{head} is forbidden: {message}", details)
