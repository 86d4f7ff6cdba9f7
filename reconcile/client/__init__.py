"""Talking to the API server with raw JSON dicts: config, transport, REST mapping, retries.

The names below load lazily: ``reconcile.client.patch`` alone does not import the transport.
"""

from typing import TYPE_CHECKING

from reconcile._lazy import lazy_exports

if TYPE_CHECKING:
    from reconcile.client.aio import AsyncClient
    from reconcile.client.client import (
        FIELD_VALIDATIONS,
        Client,
        StatusWriter,
        label_selector_string,
    )
    from reconcile.client.config import RestConfig
    from reconcile.client.delegating import DelegatingClient
    from reconcile.client.ignore import ignore_already_exists, ignore_not_found
    from reconcile.client.interfaces import ObjectClient, Reader, StatusWriterLike, Writer
    from reconcile.client.metadata import MetadataClient
    from reconcile.client.namespaced import NamespacedClient
    from reconcile.client.patch import (
        APPLY_PATCH,
        JSON_PATCH,
        MERGE_PATCH,
        STRATEGIC_MERGE_PATCH,
        merge_from,
    )
    from reconcile.client.restmapper import NoKindMatch, RESTMapper, RESTMapping
    from reconcile.client.retry import (
        is_safe_to_repeat_write,
        is_transient,
        retry_on_conflict,
        with_read_retries,
        with_write_retries,
    )
    from reconcile.client.warnings import WarningLogger

_EXPORTS = {
    "AsyncClient": "reconcile.client.aio",
    "FIELD_VALIDATIONS": "reconcile.client.client",
    "MetadataClient": "reconcile.client.metadata",
    "NamespacedClient": "reconcile.client.namespaced",
    "WarningLogger": "reconcile.client.warnings",
    "ignore_already_exists": "reconcile.client.ignore",
    "ignore_not_found": "reconcile.client.ignore",
    "APPLY_PATCH": "reconcile.client.patch",
    "Client": "reconcile.client.client",
    "DelegatingClient": "reconcile.client.delegating",
    "JSON_PATCH": "reconcile.client.patch",
    "MERGE_PATCH": "reconcile.client.patch",
    "NoKindMatch": "reconcile.client.restmapper",
    "ObjectClient": "reconcile.client.interfaces",
    "RESTMapper": "reconcile.client.restmapper",
    "RESTMapping": "reconcile.client.restmapper",
    "Reader": "reconcile.client.interfaces",
    "RestConfig": "reconcile.client.config",
    "STRATEGIC_MERGE_PATCH": "reconcile.client.patch",
    "StatusWriter": "reconcile.client.client",
    "StatusWriterLike": "reconcile.client.interfaces",
    "Writer": "reconcile.client.interfaces",
    "is_safe_to_repeat_write": "reconcile.client.retry",
    "is_transient": "reconcile.client.retry",
    "label_selector_string": "reconcile.client.client",
    "merge_from": "reconcile.client.patch",
    "retry_on_conflict": "reconcile.client.retry",
    "with_read_retries": "reconcile.client.retry",
    "with_write_retries": "reconcile.client.retry",
}

__all__ = [
    "APPLY_PATCH",
    "FIELD_VALIDATIONS",
    "JSON_PATCH",
    "MERGE_PATCH",
    "STRATEGIC_MERGE_PATCH",
    "AsyncClient",
    "Client",
    "DelegatingClient",
    "MetadataClient",
    "NamespacedClient",
    "NoKindMatch",
    "ObjectClient",
    "RESTMapper",
    "RESTMapping",
    "Reader",
    "RestConfig",
    "StatusWriter",
    "StatusWriterLike",
    "WarningLogger",
    "Writer",
    "ignore_already_exists",
    "ignore_not_found",
    "is_safe_to_repeat_write",
    "is_transient",
    "label_selector_string",
    "merge_from",
    "retry_on_conflict",
    "with_read_retries",
    "with_write_retries",
]
__getattr__, __dir__ = lazy_exports(__name__, globals(), _EXPORTS)
