"""Request decoding: bodies, query parameters and the responses built from them.

Every malformed input is a 400 Status naming what was wrong, as kube-apiserver's parameter
codec answers (``?limit=abc`` never becomes a 500): the body must be JSON, YAML or a
protobuf of a kind this server can decode, and integer parameters must be integers. Body
size limits are kube-apiserver's: 3 MiB for any request, and the stored-object limit for
a single object.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

import yaml
from aiohttp import web

from reconcile.apiserver import protobuf
from reconcile.apiserver.api import WriteOptions
from reconcile.apiserver.resources import ResourceInfo
from reconcile.apiserver.status import StatusError, bad_request
from reconcile.apiserver.storage import encode

__all__ = [
    "MAX_BODY",
    "MAX_OBJECT",
    "decode_body",
    "delete_options",
    "flag",
    "int_param",
    "json_response",
    "read_raw",
    "too_large",
    "wants_table",
    "warning_value",
    "write_options",
]

MAX_BODY = 3 * 1024 * 1024
"""Bytes accepted in a request body (kube-apiserver's limit is 3 MiB)."""
MAX_OBJECT = 1536 * 1024
"""Bytes of one stored object (etcd's default request limit, 1.5 MiB)."""


def too_large(limit: int) -> StatusError:
    """413 stating the limit that was actually exceeded."""
    return StatusError(413, "RequestEntityTooLarge", f"Request entity too large: limit is {limit}")


def warning_value(warning: str) -> str:
    """One ``Warning`` header value (RFC 7234, code 299, as kube-apiserver sends it)."""
    escaped = warning.replace("\\", "\\\\").replace('"', '\\"')
    return f'299 - "{escaped}"'


def json_response(body: Any, status: int = 200, warnings: list[str] | None = None) -> web.Response:
    raw = body if isinstance(body, bytes) else encode(body)
    response = web.Response(body=raw, status=status, content_type="application/json")
    for warning in warnings or []:
        response.headers.add("Warning", warning_value(warning))
    return response


def wants_table(accept: str) -> bool:
    return "as=Table" in accept.replace(" ", "")


def flag(query: Mapping[str, str], name: str) -> bool:
    return str(query.get(name, "")).lower() in ("true", "1")


def int_param(query: Mapping[str, str], name: str, default: int = 0) -> int:
    """An integer query parameter; 400 like kube's parameter codec when it is not one."""
    raw = query.get(name)
    if raw is None or raw == "":
        return default
    try:
        return int(raw)
    except ValueError:
        raise bad_request(
            f'invalid value for query parameter {name}: strconv.ParseInt: parsing "{raw}": '
            "invalid syntax"
        ) from None


async def read_raw(request: web.Request) -> bytes:
    try:
        raw = await request.read()
    except web.HTTPRequestEntityTooLarge:
        raise too_large(MAX_BODY) from None
    if len(raw) > MAX_BODY:
        raise too_large(MAX_BODY)
    return raw


def decode_body(request: web.Request, info: ResourceInfo, raw: bytes) -> dict[str, Any]:
    """The request's object as a dict, whatever wire format it came in."""
    if len(raw) > MAX_OBJECT:
        raise too_large(MAX_OBJECT)
    content_type = request.content_type or ""
    if "protobuf" in content_type:
        return protobuf.decode_request(raw)
    try:
        body = yaml.safe_load(raw) if "yaml" in content_type else json.loads(raw)
    except (ValueError, yaml.YAMLError) as exc:
        raise bad_request(
            f"Object 'Kind' is missing in '{raw[:200].decode(errors='replace')}': {exc}"
        ) from exc
    if not isinstance(body, dict):
        raise bad_request("the request body must be a JSON object")
    return body


async def delete_options(request: web.Request) -> dict[str, Any]:
    """DeleteOptions from the body (JSON or protobuf) merged with the query parameters."""
    raw = await read_raw(request)
    options: dict[str, Any] = {}
    if raw.strip():
        if "protobuf" in (request.content_type or "") or raw.startswith(protobuf.MAGIC):
            options = protobuf.decode_request(raw)
        else:
            try:
                parsed = json.loads(raw)
            except ValueError as exc:
                raise bad_request(f"invalid DeleteOptions: {exc}") from exc
            if isinstance(parsed, dict):
                options = parsed
    query = request.query
    if "propagationPolicy" in query:
        options["propagationPolicy"] = query["propagationPolicy"]
    if "orphanDependents" in query and "propagationPolicy" not in options:
        options["propagationPolicy"] = "Orphan" if flag(query, "orphanDependents") else "Background"
    if options.get("orphanDependents") is True and "propagationPolicy" not in options:
        options["propagationPolicy"] = "Orphan"
    if query.get("dryRun") == "All":
        options["dryRun"] = ["All"]
    if "gracePeriodSeconds" in query:
        options["gracePeriodSeconds"] = int_param(query, "gracePeriodSeconds")
    return options


def write_options(request: web.Request) -> WriteOptions:
    query = request.query
    validation = query.get("fieldValidation", "Warn")
    if validation not in ("Strict", "Warn", "Ignore"):
        raise bad_request(
            f'fieldValidation must be one of "Ignore", "Warn", or "Strict", got "{validation}"'
        )
    agent = request.headers.get("User-Agent", "unknown").split("/")[0]
    return WriteOptions(
        dry_run=query.get("dryRun") == "All",
        field_validation=validation,
        field_manager=query.get("fieldManager") or agent,
    )
