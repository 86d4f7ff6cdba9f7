"""The embedded API server: an aiohttp application on loopback, in its own thread or not.

``APIServer.start()`` runs the server on a private event loop in a daemon thread and
returns once it accepts connections (tests, ``kreconcile dev``); ``serve(stop)`` runs it
in the calling thread until ``stop`` is set (``kreconcile apiserver``). Either way all
storage work happens on that one loop, which is what makes each verb atomic.
"""

from __future__ import annotations

import asyncio
import base64
import json
import os
import tempfile
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from aiohttp import web

from reconcile.apiserver import crds, discovery, openapi
from reconcile.apiserver.admission import (
    ADMISSION_RESOURCES,
    AdmissionFlow,
    ServiceRoutes,
    WebhookCaller,
)
from reconcile.apiserver.admission import install as install_admission
from reconcile.apiserver.api import API, WriteOptions
from reconcile.apiserver.audit import AuditLog, AuditOptions, audit_record
from reconcile.apiserver.auth import (
    REVIEW_RESOURCES,
    SERVING_HOSTS,
    AuthorizationLog,
    CertificatePair,
    Security,
    ServerSecrets,
    UserInfo,
    build_kubeconfig,
    write_kubeconfig,
)
from reconcile.apiserver.faults import Faults
from reconcile.apiserver.flowcontrol import (
    DEFAULT_MAX_MUTATING_REQUESTS_INFLIGHT,
    DEFAULT_MAX_REQUESTS_INFLIGHT,
    FlowControl,
    InflightLimits,
)
from reconcile.apiserver.lifecycle import Lifecycle
from reconcile.apiserver.metrics import ServerMetrics
from reconcile.apiserver.persistence import Persistence
from reconcile.apiserver.registry import BUILTINS, WORKLOAD_BUILTINS, Registry
from reconcile.apiserver.request import MAX_BODY
from reconcile.apiserver.rest import Rest, Target, parse_path, request_verb
from reconcile.apiserver.status import StatusError
from reconcile.apiserver.storage import Store
from reconcile.errors import reason_for

__all__ = ["APIServer", "ServerOptions"]

VERSION_INFO = {
    "major": "1",
    "minor": "32",
    "gitVersion": "v1.32.0+kreconcile",
    "gitCommit": "0000000000000000000000000000000000000000",
    "gitTreeState": "clean",
    "buildDate": "2026-11-24T00:00:00Z",
    "goVersion": "go1.23.0",
    "compiler": "gc",
    "platform": "linux/amd64",
}
_DEFAULT_NAMESPACES = ("default", "kube-system", "kube-public", "kube-node-lease")


@dataclass(frozen=True, kw_only=True, slots=True)
class ServerOptions:
    """How the embedded server listens and what it keeps.

    Usage::

        APIServer(ServerOptions(port=0, data_dir=".kreconcile/dev"))
    """

    host: str = "127.0.0.1"
    """Loopback only by default, as a development server should be."""
    port: int = 0
    """0 picks a free port; read it back from ``APIServer.url``."""
    data_dir: str | None = None
    """Keep objects in ``<data_dir>/objects.sqlite`` across restarts; None keeps them in memory."""
    watch_history: int = 10_000
    """Events kept for watch resumption; older resourceVersions get 410 Gone. Tests use small
    values to provoke compaction."""
    bookmark_interval: float = 60.0
    """Seconds of silence after which a watch that allows bookmarks gets one."""
    min_request_timeout: float = 1800.0
    """Watches without timeoutSeconds end after a random time in [this, 2x this) seconds."""
    insecure_http: bool = False
    """Serve plain HTTP with no authentication or authorization: every request acts as
    ``system:unsecured`` in ``system:masters``. The default is kube-apiserver's: TLS with a
    self-signed CA (kept in ``<data_dir>/pki``), authentication and RBAC."""
    token: str | None = None
    """The admin bearer token (user ``kreconcile-admin``, group ``system:masters``) written
    into kubeconfigs; None: a random one, kept in ``<data_dir>/pki`` when there is one."""
    max_requests_inflight: int = DEFAULT_MAX_REQUESTS_INFLIGHT
    """Read-only requests served at once before the server answers 429 (0: no limit)."""
    max_mutating_requests_inflight: int = DEFAULT_MAX_MUTATING_REQUESTS_INFLIGHT
    """Mutating requests served at once before the server answers 429 (0: no limit)."""
    controllers: bool = False
    """Also run the minimal kube-controller-manager (Deployments, ReplicaSets, Jobs,
    DaemonSets, default ServiceAccounts) against this server, as ``kreconcile dev`` does."""
    namespace_deletion_delay: float = 1.0
    """Seconds a Terminating namespace waits before its contents are deleted, as the
    namespace controller's first pass does; ``kubectl delete -k`` deletes the objects
    inside it meanwhile instead of finding them gone."""
    wall_clock: Callable[[], float] = time.time
    """Seconds since the epoch, for ServiceAccount token issue and expiry; tests pass a
    settable clock to age tokens without waiting."""
    authorization_log: int = 0
    """Keep up to this many distinct authorization decisions (user, verb, resource, ...,
    allowed) in ``APIServer.security.decisions``, so a test can compare what code used
    with what its roles grant; 0 keeps none."""
    owner_references_permission_enforcement: bool = False
    """Run kube's OwnerReferencesPermissionEnforcement admission plugin (off by default, as
    in kube-apiserver): setting ``blockOwnerDeletion`` needs ``update`` on the owner's
    ``finalizers``."""
    audit: AuditOptions | None = None
    """Log every mutating request (``audit.py``); None (the default) logs nothing."""


class APIServer:
    """A Kubernetes API server good enough that kubectl cannot tell the difference."""

    def __init__(self, options: ServerOptions | None = None) -> None:
        self.options = options or ServerOptions()
        self.faults = Faults()
        self.flow_control = FlowControl(
            InflightLimits(
                max_requests_inflight=self.options.max_requests_inflight,
                max_mutating_requests_inflight=self.options.max_mutating_requests_inflight,
            )
        )
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._ready = threading.Event()
        self._stop: asyncio.Event | None = None
        self._error: BaseException | None = None
        self._port = 0
        self.api: API | None = None
        self._rest: Rest | None = None
        self._openapi_cache: tuple[int, dict[str, dict[str, Any]]] | None = None
        self.metrics = ServerMetrics()
        self._controllers: Any = None
        self._controllers_dir: tempfile.TemporaryDirectory[str] | None = None
        self.secrets: ServerSecrets | None = None
        """The CA, serving certificate and admin token; None with ``insecure_http``."""
        self.security: Security | None = None
        self._audit: AuditLog | None = None
        self.service_routes = ServiceRoutes()
        """Where webhooks and conversion webhooks named by a ``service`` are reached: the
        server has no cluster network (``ServiceRoutes.route``)."""

    # lifecycle

    @property
    def url(self) -> str:
        if not self._port:
            raise RuntimeError("the API server is not started: call start() first")
        scheme = "http" if self.options.insecure_http else "https"
        host = f"[{self.options.host}]" if ":" in self.options.host else self.options.host
        return f"{scheme}://{host}:{self._port}"

    def start(self, timeout: float = 30.0) -> None:
        """Serve in a background thread; returns once the port accepts connections."""
        self._thread = threading.Thread(target=self._run_thread, name="apiserver", daemon=True)
        self._thread.start()
        if not self._ready.wait(timeout):
            raise RuntimeError(f"the API server did not start within {timeout}s")
        if self._error is not None:
            raise RuntimeError(f"the API server failed to start: {self._error}") from self._error
        self._start_controllers()

    def _start_controllers(self) -> None:
        """Run the controller manager, a client of this server like any other."""
        if not self.options.controllers or self._controllers is not None:
            return
        from reconcile.apiserver.controllers import ControllerManager
        from reconcile.client import RestConfig

        self._controllers_dir = tempfile.TemporaryDirectory(prefix="kreconcile-kcm-")
        kubeconfig = self.write_kubeconfig(Path(self._controllers_dir.name) / "kubeconfig")
        config = RestConfig.from_kubeconfig(
            kubeconfig, qps=1000.0, burst=2000, user_agent="kube-controller-manager"
        )
        ca_file = getattr(config.configuration, "ssl_ca_cert", None)
        ca_bundle = Path(ca_file).read_text() if ca_file else ""
        self._controllers = ControllerManager(config, ca_bundle=ca_bundle)
        self._controllers.start()

    def _stop_controllers(self) -> None:
        if self._controllers is not None:
            self._controllers.stop()
            self._controllers = None
        if self._controllers_dir is not None:
            self._controllers_dir.cleanup()
            self._controllers_dir = None

    def stop(self, timeout: float = 10.0) -> None:
        """Stop the controllers, close watches, stop serving and release the storage."""
        if self._loop is not None and self._stop is not None:
            self._loop.call_soon_threadsafe(self._stop.set)
        if self._thread is not None:
            self._thread.join(timeout)

    def serve(self, stop: threading.Event, on_ready: Any = None) -> None:
        """Serve in this thread until ``stop`` is set; ``on_ready()`` runs once listening."""

        def ready() -> None:
            threading.Thread(target=self._start_controllers, name="kcm-start", daemon=True).start()
            if on_ready is not None:
                on_ready()

        asyncio.run(self._main(stop_flag=stop, on_ready=ready))

    def _run_thread(self) -> None:
        try:
            asyncio.run(self._main(stop_flag=None, on_ready=None))
        except BaseException as exc:
            self._error = exc
            self._ready.set()

    def call(self, fn: Any, *args: Any) -> Any:
        """Run ``fn(*args)`` on the server's loop and return its result (thread-safe)."""
        if self._loop is None:
            raise RuntimeError("the API server is not started")

        async def run() -> Any:
            return fn(*args)

        return asyncio.run_coroutine_threadsafe(run(), self._loop).result(30)

    def compact(self) -> None:
        """Forget the watch history: older resourceVersions now get 410 Gone."""
        assert self.api is not None
        self.call(self.api.store.compact)

    def write_kubeconfig(
        self,
        path: str | os.PathLike[str],
        *,
        token: str | None = None,
        certificate: CertificatePair | None = None,
    ) -> Path:
        """Write a kubeconfig for this server (atomically, owner-only).

        It trusts the server's CA and authenticates as the admin, unless ``token`` (e.g. a
        ServiceAccount token) or a client ``certificate`` (``issue_client_certificate``) is
        given.
        """
        user: dict[str, Any] = {}
        if certificate is not None:
            user = {
                "client-certificate-data": base64.b64encode(certificate.cert_pem).decode(),
                "client-key-data": base64.b64encode(certificate.key_pem).decode(),
            }
        elif token is not None or self.secrets is not None:
            user = {"token": token or self.admin_token}
        return write_kubeconfig(path, build_kubeconfig(self.url, ca_pem=self.ca_pem, user=user))

    @property
    def admin_token(self) -> str | None:
        """The bearer token of ``system:masters`` admin; None with ``insecure_http``."""
        return self.secrets.admin_token if self.secrets is not None else None

    @property
    def ca_pem(self) -> bytes | None:
        """The CA certificate clients trust (PEM); None with ``insecure_http``."""
        return self.secrets.authority.pair.cert_pem if self.secrets is not None else None

    def issue_client_certificate(self, user: str, groups: tuple[str, ...] = ()) -> CertificatePair:
        """A client certificate signed by the server's CA: CN ``user``, one O per group."""
        if self.secrets is None:
            raise RuntimeError("client certificates need TLS: the server runs insecure_http")
        return self.secrets.authority.issue(user, organizations=groups)

    # serving

    async def _main(self, *, stop_flag: threading.Event | None, on_ready: Any) -> None:
        self._loop = asyncio.get_running_loop()
        self._stop = asyncio.Event()
        options = self.options
        if not options.insecure_http:
            data_dir = Path(options.data_dir) if options.data_dir else None
            hosts = tuple(dict.fromkeys((*SERVING_HOSTS, options.host)))
            self.secrets = ServerSecrets.load_or_create(
                data_dir, hosts=hosts, admin_token=options.token
            )
        persistence = (
            Persistence(
                self.options.data_dir, between_statements=self.faults.between_persistence_statements
            )
            if self.options.data_dir
            else None
        )
        store = Store(history=self.options.watch_history, persistence=persistence)
        self._audit = AuditLog(options.audit) if options.audit is not None else None
        api = API(
            Registry((*BUILTINS, *WORKLOAD_BUILTINS, *REVIEW_RESOURCES, *ADMISSION_RESOURCES)),
            store,
        )
        crds.install(api)
        install_admission(api.admission)
        caller = WebhookCaller(self.service_routes)
        Lifecycle(api, self._loop, namespace_delay=self.options.namespace_deletion_delay)
        security = Security(
            api,
            self._loop,
            secrets=self.secrets,
            clock=options.wall_clock,
            decisions=(
                AuthorizationLog(options.authorization_log) if options.authorization_log else None
            ),
            owner_references_permission_enforcement=options.owner_references_permission_enforcement,
        )
        self.security = security
        self._seed(api)
        security.bootstrap()
        rest = Rest(
            api,
            bookmark_interval=self.options.bookmark_interval,
            min_request_timeout=self.options.min_request_timeout,
            admission=AdmissionFlow(api, caller),
        )
        self.api, self._rest = api, rest
        self.metrics.bind(store)
        self.faults.bind(
            lambda: int(self.call(store.cut_watches)),
            lambda stalled: self.call(self._set_stalled, stalled),
        )
        app = web.Application(client_max_size=MAX_BODY + 1)
        self.flow_control.install(app)
        app.router.add_route("*", "/{tail:.*}", self._dispatch)
        runner = web.AppRunner(app, access_log=None, handle_signals=False, shutdown_timeout=1.0)
        await runner.setup()
        site = web.TCPSite(
            runner,
            self.options.host,
            self.options.port,
            reuse_address=True,
            ssl_context=self.secrets.ssl_context() if self.secrets is not None else None,
        )
        await site.start()
        self._port = int(runner.addresses[0][1])
        self._ready.set()
        if on_ready is not None:
            on_ready()
        try:
            if stop_flag is not None:
                while not stop_flag.is_set() and not self._stop.is_set():
                    await asyncio.sleep(0.1)
            else:
                await self._stop.wait()
        finally:
            await self._loop.run_in_executor(None, self._stop_controllers)
            store.cut_watches()
            await runner.cleanup()
            await caller.close()
            store.close()
            if self._audit is not None:
                self._audit.close()

    def _set_stalled(self, stalled: bool) -> None:
        """On the loop: a lifted stall also ends every stream, which may have dropped events."""
        if self._rest is not None:
            self._rest.stalled = stalled
        if not stalled and self.api is not None:
            self.api.store.cut_watches()

    def _seed(self, api: API) -> None:
        """The namespaces and service account every cluster starts with."""
        namespaces = api.registry.lookup("", "v1", "namespaces")
        accounts = api.registry.lookup("", "v1", "serviceaccounts")
        assert namespaces is not None and accounts is not None
        for name in _DEFAULT_NAMESPACES:
            if api.store.get(("", "namespaces"), "", name) is None:
                api.create(namespaces, "", {"metadata": {"name": name}}, WriteOptions())
            if api.store.get(("", "serviceaccounts"), name, "default") is None:
                api.create(accounts, name, {"metadata": {"name": "default"}}, WriteOptions())

    async def _dispatch(self, request: web.Request) -> web.StreamResponse:
        received = time.time()
        admitted: list[tuple[Target, UserInfo]] = []
        with self.metrics.measure(request) as outcome:
            outcome.response = await self._serve(request, admitted)
            if self._audit is not None and admitted:
                record = audit_record(request, outcome.response, *admitted[0], received)
                if record is not None:
                    self._audit.record(record)
            return outcome.response

    async def _serve(
        self, request: web.Request, admitted: list[tuple[Target, UserInfo]]
    ) -> web.StreamResponse:
        """Serve ``request``; a resource request that passed authentication is added to
        ``admitted`` with its user (for the audit log)."""
        try:
            parts = [p for p in request.path.split("/") if p]
            target = parse_path(parts)
            assert self.security is not None
            user = self.security.admit(request, target)
            if target is not None:
                admitted.append((target, user))
            response = self._non_resource(request, parts)
            if response is not None:
                return response
            if target is None:
                raise StatusError(
                    404, "NotFound", "the server could not find the requested resource"
                )
            if self.security.reviews.handles(target):
                return await self.security.reviews.serve(request, target, user)
            await self._inject(request, target, user.name)
            assert self._rest is not None
            with self.security.watching(request):
                return await self._rest.handle(request, target)
        except StatusError as error:
            response = web.json_response(error.body(), status=error.code)
            for key, value in error.headers.items():
                response.headers[key] = value
            return response

    async def _inject(self, request: web.Request, target: Target, user: str) -> None:
        resource = target.resource
        verb = request_verb(request, bool(target.name))
        rule = self.faults.take(
            verb, resource, request.query_string, user=user, name=target.name or ""
        )
        if rule is None:
            return
        if rule.delay:
            await asyncio.sleep(rule.delay)
        if rule.code:
            details: dict[str, Any] = {}
            headers = {}
            if rule.retry_after is not None:
                details["retryAfterSeconds"] = rule.retry_after
                headers["Retry-After"] = str(rule.retry_after)
            raise StatusError(
                rule.code,
                reason_for(rule.code) or "InternalError",
                f"injected failure for {verb} {resource}",
                details or None,
                headers,
            )

    def _non_resource(self, request: web.Request, parts: list[str]) -> web.StreamResponse | None:
        assert self.api is not None
        registry = self.api.registry
        accept = request.headers.get("Accept", "")
        if parts in (["version"], ["version", ""]):
            return web.json_response(VERSION_INFO)
        if parts and parts[0] in ("healthz", "livez", "readyz"):
            return web.Response(text="ok")
        if parts == ["metrics"]:
            return self.metrics.response()
        if parts in (["api"], ["apis"]):
            media = discovery.wants_aggregated(accept)
            if media is not None:
                body = discovery.aggregated(registry, core=parts == ["api"], media_type=media)
                return web.Response(body=json.dumps(body), headers={"Content-Type": media})
            if parts == ["api"]:
                return web.json_response(
                    discovery.api_versions(f"{self.options.host}:{self._port}")
                )
            return web.json_response(discovery.api_group_list(registry))
        if len(parts) == 2 and parts[0] == "api":
            return self._json_or_404(discovery.resource_list(registry, "", parts[1]))
        if len(parts) == 2 and parts[0] == "apis":
            return self._json_or_404(discovery.api_group(registry, parts[1]))
        if len(parts) == 3 and parts[0] == "apis":
            return self._json_or_404(discovery.resource_list(registry, parts[1], parts[2]))
        if parts[:2] == ["openapi", "v3"]:
            return self._openapi_v3("/".join(parts[2:]))
        if parts == ["openapi", "v2"]:
            if "protobuf" in accept:
                return web.Response(
                    body=openapi.v2_protobuf(), headers={"Content-Type": openapi.V2_PROTOBUF}
                )
            return web.json_response(
                {
                    "swagger": "2.0",
                    "info": {"title": "Kubernetes", "version": "v1.32.0"},
                    "paths": {},
                }
            )
        if parts[:1] == ["openapi"]:
            raise StatusError(404, "NotFound", "the server could not find the requested resource")
        return None

    def _json_or_404(self, body: dict[str, Any] | None) -> web.Response:
        if body is None:
            raise StatusError(404, "NotFound", "the server could not find the requested resource")
        return web.json_response(body)

    def _openapi_documents(self) -> dict[str, dict[str, Any]]:
        assert self.api is not None
        registry = self.api.registry
        if self._openapi_cache is not None and self._openapi_cache[0] == registry.generation:
            return self._openapi_cache[1]
        infos = list(registry)
        documents = {
            openapi.group_version_path(group, version): openapi.v3_group_version(
                infos, group, version
            )
            for group, versions in registry.group_versions().items()
            for version in versions
        }
        self._openapi_cache = (registry.generation, documents)
        return documents

    def _openapi_v3(self, path: str) -> web.Response:
        documents = self._openapi_documents()
        if not path:
            return web.json_response(openapi.v3_root(documents))
        document = documents.get(path)
        if document is None:
            raise StatusError(404, "NotFound", "the server could not find the requested resource")
        return web.json_response(document, headers={"ETag": f'"{openapi.etag(document)}"'})
