"""The embedded server's own metrics on ``/metrics``, with kube-apiserver's names.

``apiserver_request_total{verb,group,resource,subresource,code}`` and
``apiserver_request_duration_seconds{verb,group,resource,subresource}`` count and time
every request (watches are timed until they end, as kube-apiserver does with its
``WATCH`` verb); ``apiserver_storage_objects{resource}`` is read from the store at scrape
time. The registry is the server's own, never the process-wide default, so two servers in
one process (tests) never share counters.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Iterator
from dataclasses import dataclass

from aiohttp import web
from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector

from reconcile.apiserver.rest import parse_path, request_verb
from reconcile.apiserver.storage import Store

__all__ = ["ServerMetrics"]

_CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"
_BUCKETS = (0.005, 0.025, 0.05, 0.1, 0.2, 0.4, 0.6, 0.8, 1.0, 1.25, 1.5, 2, 3, 4, 5, 6, 8,
            10, 15, 20, 30, 45, 60)  # fmt: skip
"""kube-apiserver's request-duration buckets (seconds)."""


@dataclass(slots=True)
class _Outcome:
    response: web.StreamResponse | None = None


class _StorageObjects(Collector):
    def __init__(self) -> None:
        self.store: Store | None = None

    def collect(self) -> Iterator[GaugeMetricFamily]:
        family = GaugeMetricFamily(
            "apiserver_storage_objects",
            "Number of stored objects at the time of last check split by kind.",
            labels=["resource"],
        )
        if self.store is not None:
            for (group, resource), count in sorted(self.store.counts().items()):
                family.add_metric([f"{resource}.{group}" if group else resource], count)
        yield family


class ServerMetrics:
    """Request counters and latencies, plus stored-object counts, in one registry."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        labels = ["verb", "group", "resource", "subresource"]
        self.requests = Counter(
            "apiserver_request",
            "Counter of apiserver requests broken out for each verb, group, resource and "
            "HTTP response code.",
            [*labels, "code"],
            registry=self.registry,
        )
        self.duration = Histogram(
            "apiserver_request_duration_seconds",
            "Response latency distribution in seconds for each verb, group, resource.",
            labels,
            buckets=_BUCKETS,
            registry=self.registry,
        )
        self._objects = _StorageObjects()
        self.registry.register(self._objects)

    def bind(self, store: Store) -> None:
        self._objects.store = store

    def response(self) -> web.Response:
        return web.Response(
            body=generate_latest(self.registry), headers={"Content-Type": _CONTENT_TYPE}
        )

    @contextlib.contextmanager
    def measure(self, request: web.Request) -> Iterator[_Outcome]:
        """Time the request served inside the block; it sets ``outcome.response``."""
        start = time.perf_counter()
        outcome = _Outcome()
        try:
            yield outcome
        finally:
            code = outcome.response.status if outcome.response is not None else 500
            self._observe(request, code, time.perf_counter() - start)

    def _observe(self, request: web.Request, code: int, seconds: float) -> None:
        target = parse_path([p for p in request.path.split("/") if p])
        if target is None:
            labels = (request.method.lower(), "", "", "")
        else:
            verb = request_verb(request, bool(target.name))
            labels = (verb, target.group, target.resource, target.subresource)
        self.requests.labels(*labels, str(code)).inc()
        self.duration.labels(*labels).observe(seconds)
