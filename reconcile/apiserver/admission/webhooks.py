"""Calling the Mutating- and ValidatingWebhookConfigurations, in kube-apiserver's way.

Webhooks are taken from the stored configurations on every request (parsed once per
resourceVersion), ordered by configuration name, then by position. A webhook is called
when its namespace and object selectors and one of its rules match the request (with
``matchPolicy: Equivalent``, a rule naming another served version of the same resource
matches too, and that webhook gets the object converted to its version) and every
``matchConditions`` CEL expression is true.

Mutating webhooks run one after the other; each JSON patch is applied before the next is
called. A webhook with ``reinvocationPolicy: IfNeeded`` is called once more, after all
others, when a webhook after it changed the object. Validating webhooks run concurrently.
On a dry run only webhooks declaring ``sideEffects: None`` or ``NoneOnDryRun`` are called;
others refuse the request. When a call fails (refused, TLS, timeout, bad answer) the
webhook's ``failurePolicy`` decides: ``Ignore`` goes on without it, ``Fail`` answers 500.
Warnings of every webhook reach the client.
"""

from __future__ import annotations

import asyncio
import copy
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from reconcile.apiserver.admission.caller import CallError, WebhookCaller
from reconcile.apiserver.admission.configurations import MUTATING, VALIDATING
from reconcile.apiserver.admission.expressions import CELError, evaluate, to_cel
from reconcile.apiserver.admission.matching import (
    Attributes,
    Equivalents,
    namespace_matches,
    object_matches,
    rules_match,
)
from reconcile.apiserver.admission.review import (
    Answer,
    InvalidAnswer,
    denial,
    review_request,
    verify_answer,
)
from reconcile.apiserver.patch import PatchError, json_patch
from reconcile.apiserver.registry import Registry
from reconcile.apiserver.resources import ResourceInfo
from reconcile.apiserver.status import StatusError, bad_request
from reconcile.apiserver.storage import Store

__all__ = ["Hook", "Mutation", "WebhookDispatcher"]

log = logging.getLogger(__name__)

Convert = Callable[[dict[str, Any], ResourceInfo], Awaitable[dict[str, Any]]]
"""An object (any version) in the version of ``info``."""


@dataclass(frozen=True, slots=True)
class Hook:
    """One webhook of one configuration, with kube's defaults applied."""

    configuration: str
    index: int
    spec: dict[str, Any]
    mutating: bool

    @property
    def name(self) -> str:
        return str(self.spec.get("name", ""))

    @property
    def uid(self) -> tuple[str, int]:
        return (self.configuration, self.index)

    @property
    def fails_open(self) -> bool:
        return self.spec.get("failurePolicy") == "Ignore"

    @property
    def timeout(self) -> float:
        return float(self.spec.get("timeoutSeconds") or 10)


@dataclass(slots=True)
class Mutation:
    """What one mutating webhook changed (for managedFields)."""

    manager: str
    before: dict[str, Any]
    after: dict[str, Any]


@dataclass(slots=True)
class _Invocation:
    hook: Hook
    matched: ResourceInfo


class _Index:
    """Parsed webhooks of one configuration kind, refreshed per resourceVersion."""

    def __init__(self, key: tuple[str, str], *, mutating: bool) -> None:
        self._key = key
        self._mutating = mutating
        self._parsed: dict[str, tuple[str, list[Hook]]] = {}

    def hooks(self, store: Store) -> list[Hook]:
        hooks: list[Hook] = []
        seen = set()
        for stored in store.list_objects(self._key):
            name = stored.obj["metadata"]["name"]
            rv = stored.obj["metadata"].get("resourceVersion", "")
            seen.add(name)
            cached = self._parsed.get(name)
            if cached is None or cached[0] != rv:
                parsed = [
                    Hook(name, index, webhook, self._mutating)
                    for index, webhook in enumerate(stored.obj.get("webhooks") or [])
                ]
                cached = self._parsed[name] = (rv, parsed)
            hooks.extend(cached[1])
        for gone in set(self._parsed) - seen:
            del self._parsed[gone]
        return hooks


class WebhookDispatcher:
    """Finds and calls the webhooks of a request; one per API server."""

    def __init__(
        self, store: Store, registry: Registry, caller: WebhookCaller, convert: Convert
    ) -> None:
        self._store = store
        self._equivalents = Equivalents(registry)
        self._caller = caller
        self._convert = convert
        self._mutating = _Index(MUTATING, mutating=True)
        self._validating = _Index(VALIDATING, mutating=False)

    def any_rules_match(self, attributes: Attributes, operations: tuple[str, ...]) -> bool:
        """Cheap pre-check: could any webhook concern this request (rules only)?"""
        hooks = [*self._mutating.hooks(self._store), *self._validating.hooks(self._store)]
        for hook in hooks:
            rules = hook.spec.get("rules") or []
            for info in self._equivalents.of(attributes.info, hook.spec.get("matchPolicy")):
                for operation in operations:
                    attributes.operation = operation
                    if rules_match(rules, attributes, info):
                        return True
        return False

    # selection

    def _invocation(self, hook: Hook, attributes: Attributes) -> _Invocation | None:
        spec = hook.spec
        if not namespace_matches(spec.get("namespaceSelector"), attributes, self._store):
            return None
        if not object_matches(spec.get("objectSelector"), attributes):
            return None
        for info in self._equivalents.of(attributes.info, spec.get("matchPolicy")):
            if rules_match(spec.get("rules") or [], attributes, info):
                return _Invocation(hook, info)
        return None

    def _conditions_hold(
        self, hook: Hook, attributes: Attributes, obj: Any, old: Any, request: dict[str, Any]
    ) -> bool:
        conditions = hook.spec.get("matchConditions") or []
        if not conditions:
            return True
        activation = {"object": to_cel(obj), "oldObject": to_cel(old), "request": to_cel(request)}
        errors = []
        for condition in conditions:
            try:
                if not bool(evaluate(str(condition.get("expression")), activation)):
                    return False
            except CELError as error:
                errors.append(str(error))
        if not errors:
            return True
        if hook.fails_open:
            return False
        info = attributes.info
        raise StatusError(
            403,
            "Forbidden",
            f'{info.group_resource} "{attributes.name}" is forbidden: {"; ".join(errors)}',
        )

    # calls

    async def _call(
        self,
        invocation: _Invocation,
        attributes: Attributes,
        obj: Any,
        old: Any,
        warnings: list[str],
    ) -> dict[str, Any] | None:
        """The patched object (None: unchanged); warnings added; StatusError to refuse."""
        hook = invocation.hook
        if attributes.dry_run and hook.spec.get("sideEffects") not in ("None", "NoneOnDryRun"):
            raise bad_request(f'admission webhook "{hook.name}" does not support dry run')
        converted = _converts(invocation, attributes)
        if converted:
            obj = None if obj is None else await self._convert(obj, invocation.matched)
            old = None if old is None else await self._convert(old, invocation.matched)
        review = review_request(attributes, invocation.matched, obj, old)
        if not self._conditions_hold(hook, attributes, obj, old, review["request"]):
            return None
        answer = await self._answer(hook, review)
        if answer is None:
            return None
        warnings.extend(answer.warnings)
        if not answer.allowed:
            raise denial(hook.name, answer.result)
        if answer.patch is None:
            return None
        if obj is None:
            raise _internal(
                f'admission webhook "{hook.name}" attempted to modify the object, which is not '
                "supported for this operation"
            )
        try:
            patched = json_patch(copy.deepcopy(obj), answer.patch)
        except PatchError as error:
            raise _internal(error.message) from None
        if converted:
            patched = await self._convert(patched, attributes.info)
        return dict(patched)

    async def _answer(self, hook: Hook, review: dict[str, Any]) -> Answer | None:
        """The verified answer; None when the call failed and the webhook fails open."""
        uid = review["request"]["uid"]
        try:
            raw = await self._caller.post(hook.spec.get("clientConfig") or {}, review, hook.timeout)
            return verify_answer(raw, uid, mutating=hook.mutating)
        except CallError as error:
            reason = str(error)
        except InvalidAnswer as error:
            reason = f"received invalid webhook response: {error}"
        extra = {"webhook": hook.name, "error": reason}
        if hook.fails_open:
            log.warning("failed calling webhook, failing open", extra=extra)
            return None
        log.warning("failed calling webhook, failing closed", extra=extra)
        raise _internal(f'failed calling webhook "{hook.name}": {reason}')

    async def mutate(self, attributes: Attributes, warnings: list[str]) -> list[Mutation]:
        """Call the mutating webhooks in order; ``attributes.obj`` becomes the result."""
        hooks = self._mutating.hooks(self._store)
        mutations: list[Mutation] = []
        invoked: dict[tuple[str, int], _Invocation] = {}
        reinvocable: list[tuple[str, int]] = []
        again: set[tuple[str, int]] = set()
        for hook in hooks:
            invocation = self._invocation(hook, attributes)
            if invocation is None:
                continue
            invoked[hook.uid] = invocation
            if await self._mutate_once(invocation, attributes, mutations, warnings):
                again.update(reinvocable)  # earlier IfNeeded webhooks see the new object
            if hook.spec.get("reinvocationPolicy") == "IfNeeded":
                reinvocable.append(hook.uid)
        for hook in hooks:
            if hook.uid in again and self._invocation(hook, attributes) is not None:
                await self._mutate_once(invoked[hook.uid], attributes, mutations, warnings)
        return mutations

    async def _mutate_once(
        self,
        invocation: _Invocation,
        attributes: Attributes,
        mutations: list[Mutation],
        warnings: list[str],
    ) -> bool:
        before = attributes.obj
        patched = await self._call(invocation, attributes, before, attributes.old, warnings)
        if patched is None or before is None or patched == before:
            return False
        if (patched.get("apiVersion"), patched.get("kind")) != (
            before.get("apiVersion"),
            before.get("kind"),
        ):
            raise _internal(
                f'admission webhook "{invocation.hook.name}" changed the object\'s apiVersion '
                "or kind"
            )
        mutations.append(Mutation(invocation.hook.name, before, patched))
        attributes.obj = patched
        return True

    async def validate(self, attributes: Attributes, warnings: list[str]) -> None:
        """Call the validating webhooks concurrently; raise the first refusal (in order)."""
        invocations = [
            invocation
            for hook in self._validating.hooks(self._store)
            if (invocation := self._invocation(hook, attributes)) is not None
        ]
        if not invocations:
            return
        results = await asyncio.gather(
            *(self._call(i, attributes, attributes.obj, attributes.old, warnings)
              for i in invocations),
            return_exceptions=True,
        )  # fmt: skip
        for result in results:
            if isinstance(result, BaseException):
                raise result


def _converts(invocation: _Invocation, attributes: Attributes) -> bool:
    """Whether the webhook gets the objects in another version than the request's."""
    return (
        invocation.matched.version != attributes.info.version and attributes.subresource != "scale"
    )


def _internal(message: str) -> StatusError:
    return StatusError(500, "InternalError", f"Internal error occurred: {message}")
