"""The manager: shared client, cache and metrics; runnables started in the right order.

Start order: metrics, probe and (if enabled) profiling servers; the cache; the warm-up of
leader-only controllers with ``enable_warmup`` (their sources start, so their informers list
now rather than after a failover); a wait until the informers requested so far have synced;
runnables that need no election; then, after winning the Lease (or at once without leader
election), the leader-only runnables (controllers).

Stop order is the reverse, within ``graceful_shutdown_timeout``: controllers drain their
in-flight reconciles, the Lease is released (so a standby takes over at once), then the
rest. Losing the Lease stops leader-only runnables immediately and ``start`` raises
``LeaderElectionLost``; the process must exit non-zero (``run`` does). A runnable that
fails (a controller whose worker died on a reconciler bug with ``recover_panic=False``)
stops the manager the same way: logged, raised from ``start``, exit code 1 from ``run``.

Building a manager binds no port and starts no thread; ``start`` does both, and every
thread it starts (servers, cache, informers, elector, event senders) has ended, or been
reported as stuck, when it returns.
"""

from __future__ import annotations

import logging
import threading
import time
from typing import TYPE_CHECKING

from reconcile.cache import InformerCache
from reconcile.client import Client, DelegatingClient, RestConfig
from reconcile.client.aio import AsyncClient
from reconcile.controller.options import ControllerDefaults
from reconcile.errors import ConfigError, KreconcileError, LeaderElectionLost
from reconcile.events import EventsRecorder
from reconcile.healthz import Checker, HealthChecks
from reconcile.leaderelection import (
    LeaderCallbacks,
    LeaderElectionMetrics,
    LeaderElectionOptions,
    LeaderElector,
    LeaseLock,
)
from reconcile.manager.options import ManagerOptions
from reconcile.manager.runnables import Runnable, RunnableGroup, needs_election
from reconcile.manager.signals import setup_signal_handler
from reconcile.metrics import HTTPEndpoint, metrics_route, new_registry, parse_bind_address
from reconcile.metrics.server import Route
from reconcile.profiling import profiling_routes
from reconcile.recorder import EventRecorder
from reconcile.reload import CertWatcher

if TYPE_CHECKING:
    from reconcile.webhook.server import WebhookServer

__all__ = ["Manager"]

log = logging.getLogger(__name__)


class Manager:
    """Owns everything controllers share; ``start`` runs them until stopped."""

    def __init__(self, config: RestConfig, options: ManagerOptions | None = None) -> None:
        self.options = options or ManagerOptions()
        self.config = config
        self.registry = new_registry()
        self.api_reader = Client(config, registry=self.registry)
        self.cache = InformerCache(self.api_reader, self.options.cache)
        self.client = DelegatingClient(self.api_reader, self.cache)
        self.healthz = HealthChecks(self.options.liveness_endpoint_name)
        self.readyz = HealthChecks(self.options.readiness_endpoint_name)
        self.readyz.add("cache-synced", self._cache_synced)
        self._errors: list[tuple[str, BaseException]] = []
        self._failed = threading.Event()
        self._caches = RunnableGroup("caches", self._fail)
        self._others = RunnableGroup("others", self._fail)
        self._leader = RunnableGroup("leader", self._fail)
        self._recorders: dict[str, EventRecorder] = {}
        self._events_recorders: dict[str, EventsRecorder] = {}
        self._async_client: AsyncClient | None = None
        self._names: set[str] = set()
        self.elector: LeaderElector | None = None
        self._election_thread: threading.Thread | None = None
        self.cert_watcher: CertWatcher | None = None
        if self.options.metrics_cert_file and self.options.metrics_key_file:
            self.cert_watcher = CertWatcher(
                self.options.metrics_cert_file, self.options.metrics_key_file
            )
        metrics_filter = self.options.metrics_filter
        metrics_tls = self.cert_watcher.context if self.cert_watcher else None
        serves_metrics = parse_bind_address(self.options.metrics_bind_address) is not None
        if metrics_tls is None and self.options.metrics_secure_serving and serves_metrics:
            # cryptography is imported only by managers that need a certificate made
            from reconcile.metrics.selfsigned import self_signed_context

            metrics_tls = self_signed_context()
        self.metrics_server = HTTPEndpoint(
            "metrics",
            self.options.metrics_bind_address,
            {**self.options.metrics_extra_handlers, "/metrics": metrics_route(self.registry)},
            ssl_context=metrics_tls,
            request_filter=metrics_filter(self.api_reader.transport) if metrics_filter else None,
        )
        self.probe_server = HTTPEndpoint(
            "probes",
            self.options.health_probe_bind_address,
            {
                self.options.liveness_endpoint_name: self.healthz.route(),
                self.options.readiness_endpoint_name: self.readyz.route(),
            },
        )
        self.pprof_server = HTTPEndpoint(
            "pprof", self.options.pprof_bind_address, profiling_routes()
        )
        self._synced = threading.Event()
        self._webhook_server: WebhookServer | None = None

    @classmethod
    def from_kubeconfig(
        cls, path: str | None = None, options: ManagerOptions | None = None
    ) -> Manager:
        return cls(RestConfig.load(path), options)

    # wiring

    def add(self, runnable: Runnable) -> None:
        """Run ``runnable`` with the manager (now, if already started)."""
        name = getattr(runnable, "name", None)
        if isinstance(name, str):
            if name in self._names:
                raise ValueError(
                    f"a controller named {name!r} already exists; give each controller a "
                    "unique name with ControllerBuilder.named()"
                )
            self._names.add(name)
        if needs_election(runnable):
            self._leader.add(runnable)
        else:
            self._others.add(runnable)

    @property
    def controller_defaults(self) -> ControllerDefaults:
        """Defaults of the controllers built on this manager (``ManagerOptions.controller``)."""
        return self.options.controller

    @property
    def async_client(self) -> AsyncClient:
        """``self.client`` for ``async def`` reconcilers (its threads end with the manager)."""
        if self._async_client is None:
            self._async_client = AsyncClient(self.client)
        return self._async_client

    def add_metrics_server_extra_handler(self, path: str, route: Route) -> None:
        """Serve ``route`` at ``path`` on the metrics endpoint (behind its filter); before
        ``start`` only."""
        self.metrics_server.add_route(path, route)

    @property
    def serves_webhooks(self) -> bool:
        """Whether ``ManagerOptions.webhook_server`` asks for a webhook server."""
        return self.options.webhook_server is not None

    @property
    def webhook_server(self) -> WebhookServer:
        """The admission and conversion webhook server, run on every replica (created on
        first use, with a ``webhook`` readiness check that passes once it serves TLS)."""
        if self._webhook_server is None:
            options = self.options.webhook_server
            if options is None:
                raise ConfigError(
                    "this manager serves no webhooks: set ManagerOptions(webhook_server="
                    "WebhookServerOptions(...)) (kreconcile run: --webhook-cert-path)"
                )
            from reconcile.webhook.server import WebhookServer

            server = WebhookServer(options, registry=self.registry)
            self.add(server)
            self.readyz.add("webhook", server.started_checker())
            self._webhook_server = server
        return self._webhook_server

    def add_healthz_check(self, name: str, check: Checker) -> None:
        self.healthz.add(name, check)

    def add_readyz_check(self, name: str, check: Checker) -> None:
        self.readyz.add(name, check)

    def get_event_recorder(self, name: str) -> EventRecorder:
        """One recorder per component name, shared by everything that asks for it."""
        recorder = self._recorders.get(name)
        if recorder is None:
            recorder = self._recorders[name] = EventRecorder(self.api_reader, name)
        return recorder

    def get_events_recorder(self, name: str) -> EventsRecorder:
        """The events.k8s.io/v1 recorder of reporting controller ``name`` (shared)."""
        recorder = self._events_recorders.get(name)
        if recorder is None:
            recorder = self._events_recorders[name] = EventsRecorder(self.api_reader, name)
        return recorder

    def _cache_synced(self) -> str | None:
        return None if self._synced.is_set() else "the cache has not synced yet"

    def _fail(self, where: str, error: BaseException) -> None:
        log.error("runnable failed", extra={"runnable": where, "error": str(error)})
        self._errors.append((where, error))
        self._failed.set()

    # running

    def start(self, stop: threading.Event | None = None) -> None:
        """Run until ``stop`` is set or something fails; raise the failure, if any."""
        stop = stop or threading.Event()
        self._others.add(self.metrics_server)
        self._others.add(self.probe_server)
        self._others.add(self.pprof_server)
        if self.cert_watcher is not None:
            self._others.add(self.cert_watcher)
        self._others.start_all()
        cache_stop = threading.Event()
        cache_thread = threading.Thread(
            target=self.cache.start, args=(cache_stop,), name="cache", daemon=True
        )
        cache_thread.start()
        lost = threading.Event()
        election_stop = threading.Event()
        try:
            self._leader.warmup_all()
            self.cache.wait_for_cache_sync()
            self._synced.set()
            election = self.options.election()
            if election is None:
                self._leader.start_all()
            else:
                self._start_election(election, election_stop, lost)
            while not (stop.is_set() or self._failed.is_set() or lost.is_set()):
                self._failed.wait(0.1)
        finally:
            election_stop.set()
            self._shutdown(cache_stop, lost)
            self._join("cache", cache_thread)
        if lost.is_set():
            raise LeaderElectionLost(
                str(self._errors[0][1]) if self._errors else "leader election lost"
            )
        if self._errors:
            where, error = self._errors[0]
            raise KreconcileError(f"{where} failed: {error}") from error

    def _start_election(
        self, election: LeaderElectionOptions, stop: threading.Event, lost: threading.Event
    ) -> None:
        # The elector bounds each attempt by its own deadline: the lock's client must fail
        # fast instead of retrying reads for 30 s.
        lease_client = Client(self.config, read_retry_deadline=0.0, write_retry_deadline=0.0)
        lock = LeaseLock(lease_client, name=election.name, namespace=election.namespace)
        callbacks = LeaderCallbacks(
            on_started_leading=self._leader.start_all,
            on_stopped_leading=self._leader.stop.set,
        )
        self.elector = LeaderElector(
            lock,
            election,
            callbacks=callbacks,
            metrics=LeaderElectionMetrics.for_registry(self.registry),
        )
        elector = self.elector

        def run() -> None:
            try:
                elector.run(stop)
            except LeaderElectionLost as error:
                self._errors.append(("leader election", error))
                lost.set()

        self._election_thread = threading.Thread(target=run, name="leader-election", daemon=True)
        self._election_thread.start()

    def _shutdown(self, cache_stop: threading.Event, lost: threading.Event) -> None:
        deadline = time.monotonic() + self.options.graceful_shutdown_timeout
        stuck = self._leader.stop_all(deadline)
        if self._election_thread is not None:
            self._join("leader election", self._election_thread, deadline)
        if self.elector is not None:
            if self.options.release_on_cancel and not lost.is_set():
                self.elector.release()
            self.elector.close(max(0.0, deadline - time.monotonic()))
        recorders: list[EventRecorder | EventsRecorder] = [
            *self._recorders.values(),
            *self._events_recorders.values(),
        ]
        for recorder in recorders:
            recorder.close(max(0.0, min(5.0, deadline - time.monotonic())))
        if self._async_client is not None:
            self._async_client.close()
        stuck += self._others.stop_all(deadline)
        cache_stop.set()
        if stuck:
            log.error(
                "runnables did not stop within the graceful shutdown timeout",
                extra={"runnables": stuck, "timeout": self.options.graceful_shutdown_timeout},
            )
            self._errors.append(
                ("shutdown", TimeoutError(f"did not stop in time: {', '.join(stuck)}"))
            )

    def _join(self, what: str, thread: threading.Thread, deadline: float | None = None) -> None:
        if deadline is None:
            deadline = time.monotonic() + self.options.graceful_shutdown_timeout
        thread.join(max(0.0, deadline - time.monotonic()))
        if thread.is_alive():
            log.error("thread did not stop in time", extra={"thread": what})

    def run(self) -> int:
        """``start`` with SIGTERM/SIGINT handling; returns the process exit code."""
        stop = setup_signal_handler()
        try:
            self.start(stop)
        except LeaderElectionLost as error:
            log.error("leader election lost", extra={"error": str(error)})
            return 1
        except KreconcileError as error:
            log.error("manager failed", extra={"error": str(error)})
            return 1
        return 0
