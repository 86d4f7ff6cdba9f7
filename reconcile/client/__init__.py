"""Talking to the API server with raw JSON dicts: config, transport, REST mapping, retries."""

from reconcile.client.client import Client, StatusWriter, label_selector_string
from reconcile.client.config import RestConfig
from reconcile.client.delegating import DelegatingClient
from reconcile.client.patch import (
    APPLY_PATCH,
    JSON_PATCH,
    MERGE_PATCH,
    STRATEGIC_MERGE_PATCH,
    merge_from,
)
from reconcile.client.restmapper import NoKindMatch, RESTMapper, RESTMapping
from reconcile.client.retry import is_transient, retry_on_conflict, with_read_retries

__all__ = [
    "APPLY_PATCH",
    "JSON_PATCH",
    "MERGE_PATCH",
    "STRATEGIC_MERGE_PATCH",
    "Client",
    "DelegatingClient",
    "NoKindMatch",
    "RESTMapper",
    "RESTMapping",
    "RestConfig",
    "StatusWriter",
    "is_transient",
    "label_selector_string",
    "merge_from",
    "retry_on_conflict",
    "with_read_retries",
]
