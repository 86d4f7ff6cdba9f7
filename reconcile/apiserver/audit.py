"""The audit log: who changed what, and when, one JSON line per mutating request.

As kube-apiserver with ``--audit-log-path``, each line is an ``audit.k8s.io/v1`` Event at
stage ``ResponseComplete``: the verb, the user (name and groups), the user agent, the
object reference (resource, namespace, name, subresource), the response code and the
times the request arrived and completed (RFC 3339, microseconds). The policy is fixed,
the one an audit of changes needs: every ``create``, ``update``, ``patch``, ``delete`` and
``deletecollection`` of a resource is logged at level ``Metadata`` (no bodies), reads
and watches are not, so the log stays small and cheap to keep on.

Bounded, as ``--audit-log-maxsize`` / ``--audit-log-maxbackup`` bound kube-apiserver's:
once the file passes ``max_size_mb`` it becomes ``<path>.1`` (older backups shift to
``.2``...), and only ``max_backups`` backups are kept. Lines are written whole and flushed
as they are recorded, so a killed server leaves every completed request in the file, and
a restarted one appends to it.

``read_audit_log(path)`` returns the events of the backups and the file, oldest first.
"""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

from aiohttp import web

from reconcile.apiserver.auth import UserInfo
from reconcile.apiserver.rest import Target, request_verb
from reconcile.timestamps import micro_time

__all__ = [
    "AUDITED_VERBS",
    "AuditLog",
    "AuditOptions",
    "AuditRecord",
    "audit_record",
    "read_audit_log",
]

AUDITED_VERBS = frozenset({"create", "update", "patch", "delete", "deletecollection"})
"""The verbs the fixed policy logs: everything that changes stored state."""
_MB = 1024 * 1024


@dataclass(frozen=True, kw_only=True, slots=True)
class AuditOptions:
    """Where the audit log goes and how much of it is kept.

    Usage::

        ServerOptions(audit=AuditOptions(path="state/audit.log", max_size_mb=10))
    """

    path: str
    """The log file; created (with its directory) if missing, appended to if present."""
    max_size_mb: int = 100
    """Megabytes after which the file is rotated (kube-apiserver's ``--audit-log-maxsize``)."""
    max_backups: int = 1
    """Rotated files kept (``--audit-log-maxbackup``); older ones are deleted."""

    def __post_init__(self) -> None:
        if self.max_size_mb < 1 or self.max_backups < 0:
            raise ValueError(
                f"audit log needs max_size_mb >= 1 and max_backups >= 0, got "
                f"{self.max_size_mb} and {self.max_backups}"
            )


@dataclass(frozen=True, kw_only=True, slots=True)
class AuditRecord:
    """One completed request, as the server saw it."""

    verb: str
    group: str
    version: str
    resource: str
    namespace: str | None
    name: str
    subresource: str
    username: str
    groups: tuple[str, ...]
    user_agent: str
    uri: str
    source_ip: str
    code: int
    received: float
    completed: float
    """Seconds since the epoch."""


def _event(record: AuditRecord) -> dict[str, Any]:
    reference: dict[str, Any] = {
        "resource": record.resource,
        "apiGroup": record.group,
        "apiVersion": record.version,
    }
    if record.namespace:
        reference["namespace"] = record.namespace
    if record.name:
        reference["name"] = record.name
    if record.subresource:
        reference["subresource"] = record.subresource
    return {
        "kind": "Event",
        "apiVersion": "audit.k8s.io/v1",
        "level": "Metadata",
        "auditID": str(uuid.uuid4()),
        "stage": "ResponseComplete",
        "requestURI": record.uri,
        "verb": record.verb,
        "user": {"username": record.username, "groups": list(record.groups)},
        "sourceIPs": [record.source_ip] if record.source_ip else [],
        "userAgent": record.user_agent,
        "objectRef": reference,
        "responseStatus": {"metadata": {}, "code": record.code},
        "requestReceivedTimestamp": micro_time(record.received),
        "stageTimestamp": micro_time(record.completed),
    }


def audit_record(
    request: web.Request,
    response: web.StreamResponse,
    target: Target,
    user: UserInfo,
    received: float,
) -> AuditRecord | None:
    """The record of a served resource request, or None when the policy skips its verb."""
    verb = request_verb(request, bool(target.name))
    if verb not in AUDITED_VERBS:
        return None
    name = target.name
    if verb == "create" and not name and 200 <= response.status < 300:
        name = _created_name(response)
    return AuditRecord(
        verb=verb,
        group=target.group,
        version=target.version,
        resource=target.resource,
        namespace=target.namespace,
        name=name,
        subresource=target.subresource,
        username=user.name,
        groups=tuple(user.groups),
        user_agent=request.headers.get("User-Agent", ""),
        uri=request.path_qs,
        source_ip=request.remote or "",
        code=response.status,
        received=received,
        completed=time.time(),
    )


def _created_name(response: web.StreamResponse) -> str:
    """The name the server gave a created object (it may come from ``generateName``)."""
    body = getattr(response, "body", None)
    if not isinstance(body, bytes):
        return ""
    try:
        return str(json.loads(body).get("metadata", {}).get("name", ""))
    except (ValueError, AttributeError):
        return ""


class AuditLog:
    """Appends audit events to a size-bounded file. Not thread-safe: the server records
    from its one event loop."""

    def __init__(self, options: AuditOptions) -> None:
        self.options = options
        self.path = Path(options.path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._file: IO[str] = self.path.open("a", encoding="utf-8")
        self._size = self.path.stat().st_size

    def record(self, record: AuditRecord) -> None:
        """Append ``record`` (flushed at once)."""
        line = json.dumps(_event(record), separators=(",", ":")) + "\n"
        self._file.write(line)
        self._file.flush()
        self._size += len(line)
        if self._size >= self.options.max_size_mb * _MB:
            self._rotate()

    def _rotate(self) -> None:
        self._file.close()
        backups = self.options.max_backups
        if backups == 0:
            self.path.unlink(missing_ok=True)
        else:
            Path(f"{self.path}.{backups}").unlink(missing_ok=True)
            for index in range(backups - 1, 0, -1):
                older = Path(f"{self.path}.{index}")
                if older.exists():
                    older.rename(f"{self.path}.{index + 1}")
            self.path.rename(f"{self.path}.1")
        self._file = self.path.open("a", encoding="utf-8")
        self._size = 0

    def close(self) -> None:
        self._file.close()


def read_audit_log(path: str | Path) -> Iterator[dict[str, Any]]:
    """Every event in the file and its backups, oldest first (a torn last line skipped)."""
    base = Path(path)
    backups = sorted(
        (p for p in base.parent.glob(f"{base.name}.*") if p.suffix[1:].isdigit()),
        key=lambda p: int(p.suffix[1:]),
        reverse=True,
    )
    for file in [*backups, base]:
        if not file.exists():
            continue
        with file.open(encoding="utf-8") as lines:
            for line in lines:
                try:
                    yield json.loads(line)
                except ValueError:
                    continue
