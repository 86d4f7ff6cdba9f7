"""The direct client: every call goes to the API server; objects are raw dicts.

Objects name themselves (``apiVersion``, ``kind``, ``metadata.name/namespace``), so writes
take just the object; reads take a ``KindLike``. Reads retry transient failures with
backoff (``retry.with_read_retries``); writes retry only when the server certainly did not
apply them: a 429 (after its Retry-After) or a connection that could not be opened
(``retry.with_write_retries``). Conflicts are the caller's to handle (``retry_on_conflict``).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from prometheus_client import CollectorRegistry

from reconcile.client.config import RestConfig
from reconcile.client.patch import APPLY_PATCH, MERGE_PATCH
from reconcile.client.restmapper import RESTMapper, RESTMapping
from reconcile.client.retry import (
    is_safe_to_repeat_write,
    with_read_retries,
    with_write_retries,
)
from reconcile.client.transport import Transport, WatchStream
from reconcile.gvk import GroupVersionKind, KindLike, gvk_of

__all__ = ["Client", "StatusWriter", "label_selector_string"]


def label_selector_string(selector: str | Mapping[str, str] | None) -> str | None:
    """``{"app": "web"}`` -> ``"app=web"``; strings pass through."""
    if selector is None or isinstance(selector, str):
        return selector
    return ",".join(f"{key}={value}" for key, value in sorted(selector.items()))


def _write_query(field_manager: str | None, dry_run: bool, **extra: Any) -> dict[str, Any]:
    query: dict[str, Any] = {"fieldManager": field_manager, **extra}
    if dry_run:
        query["dryRun"] = "All"
    return query


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
        read_retry_deadline: float = 30.0,
        write_retry_deadline: float = 30.0,
    ) -> None:
        """``read_retry_deadline``: seconds reads keep retrying transient failures (0: never);
        ``write_retry_deadline``: seconds writes keep retrying throttling (429) and refused
        connections, the failures that guarantee nothing was applied (0: never)."""
        self.transport = Transport(config, registry=registry)
        self.read_retry_deadline = read_retry_deadline
        self.write_retry_deadline = write_retry_deadline
        self.mapper = RESTMapper(self.transport)
        self.field_manager = field_manager

    def _read(self, path: str, query: Mapping[str, Any] | None = None) -> dict[str, Any]:
        body: dict[str, Any] = with_read_retries(
            lambda: self.transport.request("GET", path, query=query).body,
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
        return self._read(self.mapping(kind).path(namespace, name))

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
        self, obj: dict[str, Any], *, field_manager: str | None = None, dry_run: bool = False
    ) -> dict[str, Any]:
        mapping, namespace, _ = self._object_target(obj)
        query = _write_query(field_manager or self.field_manager, dry_run)
        return self._write("POST", mapping.path(namespace), query=query, body=obj)

    def update(
        self,
        obj: dict[str, Any],
        *,
        field_manager: str | None = None,
        dry_run: bool = False,
        subresource: str = "",
    ) -> dict[str, Any]:
        mapping, namespace, name = self._object_target(obj)
        query = _write_query(field_manager or self.field_manager, dry_run)
        return self._write("PUT", mapping.path(namespace, name, subresource), query=query, body=obj)

    def patch(
        self,
        obj: dict[str, Any],
        patch: Any,
        *,
        patch_type: str = MERGE_PATCH,
        field_manager: str | None = None,
        dry_run: bool = False,
        subresource: str = "",
        force: bool | None = None,
    ) -> dict[str, Any]:
        mapping, namespace, name = self._object_target(obj)
        query = _write_query(
            field_manager or self.field_manager,
            dry_run,
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
        self, obj: dict[str, Any], *, field_manager: str, force: bool = False
    ) -> dict[str, Any]:
        """Server-side apply ``obj`` as ``field_manager``."""
        return self.patch(
            obj, obj, patch_type=APPLY_PATCH, field_manager=field_manager, force=force
        )

    def delete(
        self,
        obj: dict[str, Any],
        *,
        propagation_policy: str | None = None,
        preconditions: Mapping[str, str] | None = None,
        grace_period_seconds: int | None = None,
        dry_run: bool = False,
    ) -> None:
        mapping, namespace, name = self._object_target(obj)
        options: dict[str, Any] = {"kind": "DeleteOptions", "apiVersion": "v1"}
        if propagation_policy:
            options["propagationPolicy"] = propagation_policy
        if preconditions:
            options["preconditions"] = dict(preconditions)
        if grace_period_seconds is not None:
            options["gracePeriodSeconds"] = grace_period_seconds
        if dry_run:
            options["dryRun"] = ["All"]
        self._write("DELETE", mapping.path(namespace, name), body=options)

    def delete_all_of(
        self,
        kind: KindLike,
        *,
        namespace: str | None = None,
        label_selector: str | Mapping[str, str] | None = None,
        field_selector: str | None = None,
    ) -> None:
        mapping = self.mapping(kind)
        query = {
            "labelSelector": label_selector_string(label_selector),
            "fieldSelector": field_selector,
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
