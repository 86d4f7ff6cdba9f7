"""The direct client: every call goes to the API server; objects are raw dicts.

Objects name themselves (``apiVersion``, ``kind``, ``metadata.name/namespace``), so writes
take just the object; reads take a ``KindLike``. Reads retry transient failures with
backoff (``retry.with_read_retries``); writes retry only when the server certainly did not
apply them: a 429 (after its Retry-After) or a connection that could not be opened
(``retry.with_write_retries``). Conflicts are the caller's to handle (``retry_on_conflict``).

Write options have client-wide defaults that each call may override: the field manager
(``field_manager``, controller-runtime's FieldOwner), ``field_validation`` (Strict, Warn or
Ignore; None lets the server decide, which is Warn) and ``dry_run``. ``with_options``
returns a client sharing this one's connections with other defaults, e.g. one field
manager per controller for server-side apply. Kinds wrapped in ``PartialObjectMetadata``
are read as metadata only (``metadata.py``). Server warnings go to ``warnings``, which by
default logs each distinct text once.
"""

from __future__ import annotations

import copy
import functools
from collections.abc import Mapping
from typing import Any

from prometheus_client import CollectorRegistry

from reconcile.client.config import RestConfig
from reconcile.client.metadata import (
    METADATA_ACCEPT,
    METADATA_LIST_ACCEPT,
    partial_list,
    to_partial,
)
from reconcile.client.patch import APPLY_PATCH, MERGE_PATCH
from reconcile.client.restmapper import RESTMapper, RESTMapping
from reconcile.client.retry import (
    is_safe_to_repeat_write,
    with_read_retries,
    with_write_retries,
)
from reconcile.client.transport import Transport, WatchStream
from reconcile.client.warnings import WarningHandler
from reconcile.gvk import GroupVersionKind, KindLike, gvk_of, is_metadata_only

__all__ = ["FIELD_VALIDATIONS", "Client", "StatusWriter", "label_selector_string"]

FIELD_VALIDATIONS = ("Strict", "Warn", "Ignore")
"""The ``fieldValidation`` values kube-apiserver accepts."""


def label_selector_string(selector: str | Mapping[str, str] | None) -> str | None:
    """``{"app": "web"}`` -> ``"app=web"``; strings pass through."""
    if selector is None or isinstance(selector, str):
        return selector
    return ",".join(f"{key}={value}" for key, value in sorted(selector.items()))


def _check_field_validation(value: str | None) -> None:
    if value is not None and value not in FIELD_VALIDATIONS:
        raise ValueError(
            f"field_validation must be one of {', '.join(FIELD_VALIDATIONS)} (or None for the "
            f"server's default, Warn), got {value!r}"
        )


class Client:
    """get/list/create/update/patch/apply/delete against the API server.

    Usage::

        client = Client(RestConfig.from_kubeconfig())
        pod = client.get(GroupVersionKind("", "v1", "Pod"), "web-0", "default")
    """

    def __init__(
        self,
        config: RestConfig,
        *,
        registry: CollectorRegistry | None = None,
        field_manager: str = "kreconcile",
        field_validation: str | None = None,
        dry_run: bool = False,
        read_retry_deadline: float = 30.0,
        write_retry_deadline: float = 30.0,
        warnings: WarningHandler | None = None,
    ) -> None:
        """``field_manager``, ``field_validation``, ``dry_run``: defaults of every write
        (see the module docstring); ``read_retry_deadline``: seconds reads keep retrying
        transient failures (0: never); ``write_retry_deadline``: seconds writes keep
        retrying throttling (429) and refused connections, the failures that guarantee
        nothing was applied (0: never); ``warnings``: where server warnings go."""
        _check_field_validation(field_validation)
        self.transport = Transport(config, registry=registry, warnings=warnings)
        self.read_retry_deadline = read_retry_deadline
        self.write_retry_deadline = write_retry_deadline
        self.mapper = RESTMapper(self.transport)
        self.field_manager = field_manager
        self.field_validation = field_validation
        self.dry_run = dry_run

    def with_options(
        self,
        *,
        field_manager: str | None = None,
        field_validation: str | None = None,
        dry_run: bool | None = None,
    ) -> Client:
        """A client with other write defaults, sharing this one's connections and discovery:
        ``mgr.client.direct.with_options(field_manager="agentpool-controller")``."""
        _check_field_validation(field_validation)
        other = copy.copy(self)
        if field_manager is not None:
            other.field_manager = field_manager
        if field_validation is not None:
            other.field_validation = field_validation
        if dry_run is not None:
            other.dry_run = dry_run
        return other

    def _write_query(
        self,
        field_manager: str | None,
        dry_run: bool | None,
        field_validation: str | None,
        **extra: Any,
    ) -> dict[str, Any]:
        _check_field_validation(field_validation)
        query: dict[str, Any] = {
            "fieldManager": field_manager or self.field_manager,
            "fieldValidation": field_validation or self.field_validation,
            **extra,
        }
        if self.dry_run if dry_run is None else dry_run:
            query["dryRun"] = "All"
        return query

    def _read(
        self, path: str, query: Mapping[str, Any] | None = None, accept: str | None = None
    ) -> dict[str, Any]:
        body: dict[str, Any] = with_read_retries(
            lambda: self.transport.request("GET", path, query=query, accept=accept).body,
            deadline=self.read_retry_deadline,
            on_throttled=self.transport.throttle_log.server_side,
        )
        return body

    def mapping(self, kind: KindLike) -> RESTMapping:
        return self.mapper.mapping(gvk_of(kind))

    def _object_target(self, obj: Mapping[str, Any]) -> tuple[RESTMapping, str | None, str]:
        mapping = self.mapping(GroupVersionKind.of_object(obj))
        meta = obj.get("metadata") or {}
        namespace = meta.get("namespace") if mapping.namespaced else None
        if mapping.namespaced and not namespace:
            raise ValueError(
                f"{mapping.gvk.kind} {meta.get('name')!r} is namespaced: set metadata.namespace"
            )
        return mapping, namespace, str(meta.get("name") or "")

    # reads

    def get(self, kind: KindLike, name: str, namespace: str | None = None) -> dict[str, Any]:
        path = self.mapping(kind).path(namespace, name)
        if is_metadata_only(kind):
            return to_partial(self._read(path, accept=METADATA_ACCEPT), gvk_of(kind))
        return self._read(path)

    def list(
        self,
        kind: KindLike,
        *,
        namespace: str | None = None,
        label_selector: str | Mapping[str, str] | None = None,
        field_selector: str | None = None,
        limit: int | None = None,
        continue_token: str | None = None,
        resource_version: str | None = None,
    ) -> dict[str, Any]:
        """A List object; each item carries apiVersion and kind (the server omits them)."""
        gvk = gvk_of(kind)
        mapping = self.mapping(gvk)
        query = {
            "labelSelector": label_selector_string(label_selector),
            "fieldSelector": field_selector,
            "limit": limit,
            "continue": continue_token,
            "resourceVersion": resource_version,
        }
        if is_metadata_only(kind):
            return partial_list(
                self._read(mapping.path(namespace), query, accept=METADATA_LIST_ACCEPT), gvk
            )
        body = self._read(mapping.path(namespace), query)
        for item in body.get("items") or []:
            item.setdefault("apiVersion", gvk.api_version)
            item.setdefault("kind", gvk.kind)
        return body

    def watch(
        self,
        kind: KindLike,
        *,
        namespace: str | None = None,
        resource_version: str = "",
        label_selector: str | None = None,
        field_selector: str | None = None,
        timeout_seconds: int = 300,
        read_timeout: float = 360.0,
        bookmarks: bool = True,
    ) -> WatchStream:
        """Raw watch events (``{"type", "object"}``); ends when the server closes the stream."""
        mapping = self.mapping(kind)
        query = {
            "watch": "true",
            "resourceVersion": resource_version,
            "allowWatchBookmarks": "true" if bookmarks else None,
            "labelSelector": label_selector,
            "fieldSelector": field_selector,
            "timeoutSeconds": timeout_seconds,
        }
        if is_metadata_only(kind):
            return self.transport.stream(
                mapping.path(namespace),
                query=query,
                read_timeout=read_timeout,
                accept=METADATA_ACCEPT,
                convert=functools.partial(to_partial, gvk=gvk_of(kind)),
            )
        return self.transport.stream(
            mapping.path(namespace), query=query, read_timeout=read_timeout
        )

    # writes

    def _write(self, method: str, path: str, **kwargs: Any) -> dict[str, Any]:
        def send() -> dict[str, Any]:
            body: dict[str, Any] = self.transport.request(method, path, **kwargs).body
            return body

        try:
            return send()
        except Exception as error:
            if not is_safe_to_repeat_write(error) or self.write_retry_deadline <= 0:
                raise
            first_failure: list[Exception] = [error]

        def again() -> dict[str, Any]:
            # Replays the first failure so its Retry-After sets the wait before the resend.
            if first_failure:
                raise first_failure.pop()
            return send()

        # The server did nothing (429, or no connection): repeat after its Retry-After.
        return with_write_retries(
            again,
            deadline=self.write_retry_deadline,
            on_throttled=self.transport.throttle_log.server_side,
        )

    def create(
        self,
        obj: dict[str, Any],
        *,
        field_manager: str | None = None,
        dry_run: bool | None = None,
        field_validation: str | None = None,
    ) -> dict[str, Any]:
        mapping, namespace, _ = self._object_target(obj)
        query = self._write_query(field_manager, dry_run, field_validation)
        return self._write("POST", mapping.path(namespace), query=query, body=obj)

    def update(
        self,
        obj: dict[str, Any],
        *,
        field_manager: str | None = None,
        dry_run: bool | None = None,
        subresource: str = "",
        field_validation: str | None = None,
    ) -> dict[str, Any]:
        mapping, namespace, name = self._object_target(obj)
        query = self._write_query(field_manager, dry_run, field_validation)
        return self._write("PUT", mapping.path(namespace, name, subresource), query=query, body=obj)

    def patch(
        self,
        obj: dict[str, Any],
        patch: Any,
        *,
        patch_type: str = MERGE_PATCH,
        field_manager: str | None = None,
        dry_run: bool | None = None,
        subresource: str = "",
        force: bool | None = None,
        field_validation: str | None = None,
    ) -> dict[str, Any]:
        mapping, namespace, name = self._object_target(obj)
        query = self._write_query(
            field_manager,
            dry_run,
            field_validation,
            force=None if force is None else str(force).lower(),
        )
        return self._write(
            "PATCH",
            mapping.path(namespace, name, subresource),
            query=query,
            body=patch,
            content_type=patch_type,
        )

    def apply(
        self,
        obj: dict[str, Any],
        *,
        field_manager: str | None = None,
        force: bool = False,
        dry_run: bool | None = None,
        field_validation: str | None = None,
        subresource: str = "",
    ) -> dict[str, Any]:
        """Server-side apply ``obj`` as ``field_manager`` (default: the client's)."""
        return self.patch(
            obj,
            obj,
            patch_type=APPLY_PATCH,
            field_manager=field_manager,
            force=force,
            dry_run=dry_run,
            field_validation=field_validation,
            subresource=subresource,
        )

    def delete(
        self,
        obj: dict[str, Any],
        *,
        propagation_policy: str | None = None,
        preconditions: Mapping[str, str] | None = None,
        grace_period_seconds: int | None = None,
        dry_run: bool | None = None,
    ) -> None:
        mapping, namespace, name = self._object_target(obj)
        options: dict[str, Any] = {"kind": "DeleteOptions", "apiVersion": "v1"}
        if propagation_policy:
            options["propagationPolicy"] = propagation_policy
        if preconditions:
            options["preconditions"] = dict(preconditions)
        if grace_period_seconds is not None:
            options["gracePeriodSeconds"] = grace_period_seconds
        if self.dry_run if dry_run is None else dry_run:
            options["dryRun"] = ["All"]
        self._write("DELETE", mapping.path(namespace, name), body=options)

    def delete_all_of(
        self,
        kind: KindLike,
        *,
        namespace: str | None = None,
        label_selector: str | Mapping[str, str] | None = None,
        field_selector: str | None = None,
        dry_run: bool | None = None,
    ) -> None:
        mapping = self.mapping(kind)
        query = {
            "labelSelector": label_selector_string(label_selector),
            "fieldSelector": field_selector,
            "dryRun": "All" if (self.dry_run if dry_run is None else dry_run) else None,
        }
        self._write("DELETE", mapping.path(namespace), query=query)

    def status(self) -> StatusWriter:
        """Writes to the ``/status`` subresource."""
        return StatusWriter(self)

    def scale(self, obj: dict[str, Any], replicas: int | None = None) -> dict[str, Any]:
        """Read the ``/scale`` subresource (autoscaling/v1 Scale), or set ``replicas`` first."""
        mapping, namespace, name = self._object_target(obj)
        path = mapping.path(namespace, name, "scale")
        if replicas is None:
            return self._read(path)
        return self._write(
            "PATCH", path, body={"spec": {"replicas": replicas}}, content_type=MERGE_PATCH
        )


class StatusWriter:
    """``client.status().update(obj)`` / ``.patch(obj, patch)``: only status changes."""

    def __init__(self, client: Client) -> None:
        self._client = client

    def update(self, obj: dict[str, Any], **options: Any) -> dict[str, Any]:
        return self._client.update(obj, subresource="status", **options)

    def patch(
        self, obj: dict[str, Any], patch: Any, *, patch_type: str = MERGE_PATCH, **options: Any
    ) -> dict[str, Any]:
        return self._client.patch(
            obj, patch, patch_type=patch_type, subresource="status", **options
        )
