"""Writes that go through admission webhooks, policies or a conversion webhook.

kube-apiserver's order, for a create or an update (``PUT``, any ``PATCH``, ``/status``,
``/scale``): decode and apply the patch, mutating webhooks (``webhooks.py``), then the
object's own defaulting and schema validation (the API's verb, run as a dry run to prepare
the object), then ValidatingAdmissionPolicies (``policies.py``) and validating webhooks,
and only then storage. A DELETE calls the webhooks with the object being deleted.

The verbs of ``API`` are atomic because each runs in one step of the event loop; admission
awaits network calls, so a write here is prepared, admitted, and committed with
``API.commit``, which refuses (``Stale``) if the object changed in between. Like kube's
``GuaranteedUpdate``, the write is then prepared and admitted again on the new object,
unless the client named the resourceVersion it wrote against (409). Fields a mutating
webhook set are recorded in ``managedFields`` under the webhook's name, so ownership says
who set them (kube-apiserver 1.32 updates managedFields before mutating admission and
leaves such fields without an owner; this is the one place the server differs on purpose).
Warnings of webhooks and policies reach the client in ``Warning`` headers, with the error
too when the request is refused.

Objects of a CRD converted by webhook are admitted in the request's version and stored in
the storage version (``crdconversion.py``); the answer is converted back.
"""

from __future__ import annotations

import copy
import dataclasses
import json
from collections.abc import Callable
from typing import Any

from aiohttp import web

from reconcile.apiserver import fieldmanager
from reconcile.apiserver.admission.caller import WebhookCaller
from reconcile.apiserver.admission.configurations import ADMISSION_GROUP
from reconcile.apiserver.admission.matching import Attributes
from reconcile.apiserver.admission.policies import PolicyEvaluator
from reconcile.apiserver.admission.reads import serve_converted_read
from reconcile.apiserver.admission.review import review_request
from reconcile.apiserver.admission.webhooks import Mutation, WebhookDispatcher
from reconcile.apiserver.api import API, Stale, WriteOptions
from reconcile.apiserver.applying import (
    applied_body,
    patch_type,
    patched,
    server_side_apply,
)
from reconcile.apiserver.auth.escalation import CURRENT_USER
from reconcile.apiserver.auth.user import ANONYMOUS, UNAUTHENTICATED, UserInfo
from reconcile.apiserver.conversion import from_storage, raw_for, to_storage
from reconcile.apiserver.crdconversion import Versions, webhook_converted
from reconcile.apiserver.patch import APPLY_PATCH
from reconcile.apiserver.request import (
    decode_body,
    delete_options,
    json_response,
    read_raw,
    warning_value,
    write_options,
)
from reconcile.apiserver.resources import ResourceInfo
from reconcile.apiserver.rest import Target, delete_response
from reconcile.apiserver.scale import to_scale, with_replicas
from reconcile.apiserver.selectors import FieldSelector, LabelSelector
from reconcile.apiserver.status import StatusError, bad_request, conflict, method_not_allowed
from reconcile.apiserver.storage import Stored, encode
from reconcile.apiserver.validation import check_kind

__all__ = ["AdmissionFlow"]

_MAX_ATTEMPTS = 8
"""Prepare-admit-commit rounds before a write that keeps losing races answers 409."""
_OPERATIONS = ("CREATE", "UPDATE", "DELETE")
_WRITES = frozenset({"POST", "PUT", "PATCH", "DELETE"})
_ANONYMOUS = UserInfo(ANONYMOUS, groups=(UNAUTHENTICATED,))

Build = Callable[[dict[str, Any]], dict[str, Any]]
"""The stored object in the request's version -> the object the client asks for."""


def _options(kind: str, options: WriteOptions) -> dict[str, Any]:
    body: dict[str, Any] = {"kind": kind, "apiVersion": "meta.k8s.io/v1"}
    if options.field_manager:
        body["fieldManager"] = options.field_manager
    if options.dry_run:
        body["dryRun"] = ["All"]
    return body


class AdmissionFlow:
    """Serves the requests ``handles`` accepts; one per API server, on its event loop."""

    def __init__(self, api: API, caller: WebhookCaller) -> None:
        self.api = api
        self.versions = Versions(api.registry, caller)
        self.webhooks = WebhookDispatcher(api.store, api.registry, caller, self.versions.one)
        self.policies = PolicyEvaluator(api.store, api.registry)

    def handles(self, request: web.Request, info: ResourceInfo, target: Target) -> bool:
        """Whether the request needs admission or conversion (else the plain path serves)."""
        if info.group == ADMISSION_GROUP:
            return False  # never admitted, so a broken webhook cannot lock itself in
        if webhook_converted(info):
            return True
        if request.method not in _WRITES:
            return False
        probe = Attributes(
            operation="",
            info=info,
            namespace=target.namespace or "",
            name=target.name,
            subresource=target.subresource,
        )
        return self.webhooks.any_rules_match(probe, _OPERATIONS) or (
            self.policies.any_rules_match(probe, _OPERATIONS)
        )

    async def serve(
        self,
        request: web.Request,
        info: ResourceInfo,
        target: Target,
        watch_options: dict[str, Any],
    ) -> web.StreamResponse:
        method = request.method
        if method == "GET":
            return await serve_converted_read(
                self.api, self.versions, request, info, target, watch_options
            )
        if info.namespaced and target.namespace is None and target.name:
            raise StatusError(404, "NotFound", "the server could not find the requested resource")
        user = CURRENT_USER.get() or _ANONYMOUS
        if method == "DELETE":
            body = await delete_options(request)
            if target.name:
                return await self._delete(info, target, body, user)
            return await self._delete_collection(request, info, target, body, user)
        raw = await read_raw(request)
        options = write_options(request)
        options.subresource = target.subresource
        try:
            if method == "POST" and not target.name:
                body = decode_body(request, info, raw)
                return await self._create(info, target.namespace or "", body, options, user)
            if method == "PUT" and target.name:
                return await self._put(request, info, target, raw, options, user)
            if method == "PATCH" and target.name:
                return await self._patch(request, info, target, raw, options, user)
        except StatusError as error:
            _attach(error, options.warnings)
            raise
        raise method_not_allowed(f"{method} is not supported on {request.path}")

    # create

    async def _create(
        self,
        info: ResourceInfo,
        namespace: str,
        obj: dict[str, Any],
        options: WriteOptions,
        user: UserInfo,
    ) -> web.Response:
        check_kind(info, obj)
        meta = obj.get("metadata")
        if not isinstance(meta, dict):
            meta = obj["metadata"] = {}
        if info.namespaced:
            if meta.get("namespace") and meta["namespace"] != namespace:
                raise bad_request(
                    "the namespace of the provided object does not match the namespace sent on "
                    "the request"
                )
            meta["namespace"] = namespace
        attributes = Attributes(
            operation="CREATE",
            info=info,
            namespace=namespace if info.namespaced else "",
            name=str(meta.get("name") or ""),
            obj=obj,
            user=user,
            dry_run=options.dry_run,
            options=_options("CreateOptions", options),
        )
        mutations = await self.webhooks.mutate(attributes, options.warnings)
        assert attributes.obj is not None
        prepared = self.api.create(
            info, namespace, to_storage(info, copy.deepcopy(attributes.obj)), _prepare(options)
        ).obj
        rv = prepared["metadata"].pop("resourceVersion", None)
        self._attribute(info, prepared, mutations, options)
        attributes.name = prepared["metadata"]["name"]
        attributes.obj = from_storage(info, prepared)
        await self._validate(attributes, options.warnings)
        if options.dry_run:
            prepared["metadata"]["resourceVersion"] = rv
            return json_response(from_storage(info, prepared), 201, options.warnings)
        stored = self.api.commit(info, await self._to_storage(info, prepared), base_rv=None)
        return json_response(await self._answer(info, stored), 201, options.warnings)

    # update

    async def _put(
        self,
        request: web.Request,
        info: ResourceInfo,
        target: Target,
        raw: bytes,
        options: WriteOptions,
        user: UserInfo,
    ) -> web.Response:
        body = decode_body(request, info, raw)
        pinned = bool((body.get("metadata") or {}).get("resourceVersion"))
        if target.subresource == "scale":
            return await self._update(info, target, options, user, lambda _: body, pinned=pinned)
        check_kind(info, body)
        return await self._update(
            info, target, options, user, lambda _: copy.deepcopy(body), pinned=pinned
        )

    async def _patch(
        self,
        request: web.Request,
        info: ResourceInfo,
        target: Target,
        raw: bytes,
        options: WriteOptions,
        user: UserInfo,
    ) -> web.Response:
        kind = patch_type(request)
        namespace = target.namespace or ""
        if kind == APPLY_PATCH:
            applied = applied_body(request, info, namespace, target.name, raw)
            stored = self.api.store.get(self.api.key(info), namespace, target.name)
            if stored is None:
                created = server_side_apply(request, info, None, applied, options)
                return await self._create(info, namespace, created, options, user)
            requested = (applied.get("metadata") or {}).get("resourceVersion")

            def apply(view: dict[str, Any]) -> dict[str, Any]:
                result = server_side_apply(request, info, view, applied, options)
                result["metadata"]["resourceVersion"] = (
                    requested or view["metadata"]["resourceVersion"]
                )
                return result

            return await self._update(info, target, options, user, apply, pinned=bool(requested))
        options.patching = True
        scale = target.subresource == "scale"
        pinned = _pins_resource_version(kind, raw)

        def build(view: dict[str, Any]) -> dict[str, Any]:
            result = patched(kind, info, to_scale(info, view) if scale else view, raw)
            if not scale:
                result.setdefault("metadata", {})
                if not result["metadata"].get("resourceVersion"):
                    result["metadata"]["resourceVersion"] = view["metadata"]["resourceVersion"]
            return result

        return await self._update(info, target, options, user, build, pinned=pinned)

    async def _update(
        self,
        info: ResourceInfo,
        target: Target,
        options: WriteOptions,
        user: UserInfo,
        build: Build,
        *,
        pinned: bool,
    ) -> web.Response:
        namespace, name = target.namespace or "", target.name
        scale = target.subresource == "scale"
        first_warning = len(options.warnings)
        for _ in range(_MAX_ATTEMPTS):
            del options.warnings[first_warning:]
            current = self.api.get_stored(info, namespace, name)
            view = await self._view(info, current)
            old = from_storage(info, view.obj)
            attributes = Attributes(
                operation="UPDATE",
                info=info,
                namespace=namespace,
                name=name,
                subresource=target.subresource,
                obj=build(copy.deepcopy(old)),
                old=to_scale(info, old) if scale else old,
                user=user,
                dry_run=options.dry_run,
                options=_options("UpdateOptions", options),
            )
            mutations = await self.webhooks.mutate(attributes, options.warnings)
            assert attributes.obj is not None
            if scale:
                mutations = []  # a Scale's fields are not the object's
            wanted = (
                with_replicas(info, view.obj, attributes.obj)
                if scale
                else to_storage(info, copy.deepcopy(attributes.obj))
            )
            prepared = self.api.update(
                info,
                namespace,
                name,
                wanted,
                _prepare(options),
                subresource="" if scale else target.subresource,
                require_rv=False if scale or options.patching else None,
                current=view,
            )
            if prepared is view:
                return await self._respond(info, target, current, options)
            obj = prepared.obj
            self._attribute(info, obj, mutations, options)
            attributes.obj = (
                to_scale(info, from_storage(info, obj)) if scale else from_storage(info, obj)
            )
            await self._validate(attributes, options.warnings)
            if options.dry_run:
                return await self._respond(info, target, Stored.of(obj), options)
            try:
                stored = self.api.commit(
                    info, await self._to_storage(info, obj), base_rv=current.rv
                )
            except Stale:
                if pinned:
                    raise conflict(info, name) from None
                continue
            return await self._respond(info, target, stored, options)
        raise conflict(info, name)

    async def _respond(
        self, info: ResourceInfo, target: Target, stored: Stored, options: WriteOptions
    ) -> web.Response:
        if target.subresource == "scale":
            view = await self.versions.one(stored.obj, info)
            return json_response(to_scale(info, from_storage(info, view)), 200, options.warnings)
        return json_response(await self._answer(info, stored), 200, options.warnings)

    # delete

    async def _delete(
        self, info: ResourceInfo, target: Target, body: dict[str, Any], user: UserInfo
    ) -> web.Response:
        warnings: list[str] = []
        try:
            stored, gone = await self._delete_one(
                info, target.namespace or "", target.name, body, user, warnings
            )
        except StatusError as error:
            _attach(error, warnings)
            raise
        response = delete_response(info, stored, gone, await self._answer(info, stored))
        for warning in warnings:
            response.headers.add("Warning", warning_value(warning))
        return response

    async def _delete_one(
        self,
        info: ResourceInfo,
        namespace: str,
        name: str,
        body: dict[str, Any],
        user: UserInfo,
        warnings: list[str],
    ) -> tuple[Stored, bool]:
        given = dict(body.get("preconditions") or {})
        dry_run = "All" in (body.get("dryRun") or [])
        options = {k: v for k, v in body.items() if k not in ("kind", "apiVersion")}
        for _ in range(_MAX_ATTEMPTS):
            current = self.api.get_stored(info, namespace, name)
            view = await self._view(info, current)
            attributes = Attributes(
                operation="DELETE",
                info=info,
                namespace=namespace,
                name=name,
                old=from_storage(info, view.obj),
                user=user,
                dry_run=dry_run,
                options={"kind": "DeleteOptions", "apiVersion": "meta.k8s.io/v1", **options},
            )
            await self.webhooks.mutate(attributes, warnings)
            await self._validate(attributes, warnings)
            preconditions = {"resourceVersion": current.obj["metadata"]["resourceVersion"]}
            preconditions.update(given)
            try:
                return self.api.delete(
                    info,
                    namespace,
                    name,
                    propagation=body.get("propagationPolicy"),
                    preconditions=preconditions,
                    dry_run=dry_run,
                )
            except StatusError as error:
                if error.code != 409 or "resourceVersion" in given:
                    raise
        raise conflict(info, name)

    async def _delete_collection(
        self,
        request: web.Request,
        info: ResourceInfo,
        target: Target,
        body: dict[str, Any],
        user: UserInfo,
    ) -> web.Response:
        labels = LabelSelector(request.query.get("labelSelector"))
        fields = FieldSelector(request.query.get("fieldSelector"), info)
        deleted = []
        warnings: list[str] = []
        for stored in self.api.store.list_objects(self.api.key(info), target.namespace):
            if labels.matches(stored.obj) and fields.matches(stored.obj):
                meta = stored.obj["metadata"]
                removed, _ = await self._delete_one(
                    info, meta.get("namespace", ""), meta["name"], body, user, warnings
                )
                deleted.append(await self.versions.one(from_storage(info, removed.obj), info))
        listed = {
            "kind": info.list_kind,
            "apiVersion": info.api_version,
            "metadata": {"resourceVersion": str(self.api.store.rv)},
            "items": deleted,
        }
        return json_response(listed, 200, warnings)

    # steps

    async def _validate(self, attributes: Attributes, warnings: list[str]) -> None:
        """ValidatingAdmissionPolicies, then validating webhooks."""
        request = review_request(attributes, attributes.info, None, None)["request"]
        self.policies.validate(attributes, request, warnings)
        await self.webhooks.validate(attributes, warnings)

    @staticmethod
    def _attribute(
        info: ResourceInfo, obj: dict[str, Any], mutations: list[Mutation], options: WriteOptions
    ) -> None:
        """Give each mutating webhook the fields it set (in managedFields)."""
        for mutation in mutations:
            paths = fieldmanager.changed_fields(
                to_storage(info, mutation.before), to_storage(info, mutation.after), info.schema
            )
            fieldmanager.record_update(
                None, obj, mutation.manager, info.schema, changed=paths,
                subresource=options.subresource if options.subresource == "status" else "",
            )  # fmt: skip

    async def _view(self, info: ResourceInfo, current: Stored) -> Stored:
        """The stored object in the request's version (a conversion webhook's answer)."""
        if webhook_converted(info) and current.obj.get("apiVersion") != info.api_version:
            return Stored.of(await self.versions.one(current.obj, info))
        return current

    async def _to_storage(self, info: ResourceInfo, obj: dict[str, Any]) -> dict[str, Any]:
        if webhook_converted(info):
            return await self.versions.one(obj, self.versions.storage_info(info))
        return obj

    async def _answer(self, info: ResourceInfo, stored: Stored) -> bytes:
        if webhook_converted(info) and stored.obj.get("apiVersion") != info.api_version:
            return encode(await self.versions.one(stored.obj, info))
        return raw_for(info, stored)


def _attach(error: StatusError, warnings: list[str]) -> None:
    """Send the warnings gathered so far with the refusal (one header, comma-separated)."""
    if warnings:
        error.headers["Warning"] = ", ".join(warning_value(w) for w in warnings)


def _pins_resource_version(kind: str, raw: bytes) -> bool:
    """Whether a patch sets metadata.resourceVersion (a precondition: 409, never a retry)."""
    try:
        patch = json.loads(raw or b"null")
    except ValueError:
        return False
    if isinstance(patch, dict):
        return bool((patch.get("metadata") or {}).get("resourceVersion"))
    if isinstance(patch, list):
        return any(
            isinstance(op, dict) and op.get("path") == "/metadata/resourceVersion" for op in patch
        )
    return False


def _prepare(options: WriteOptions) -> WriteOptions:
    """The request's options for preparing the object without storing it."""
    return dataclasses.replace(options, dry_run=True)
