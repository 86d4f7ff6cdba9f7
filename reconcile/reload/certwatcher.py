"""Serving certificates that rotate without a restart (controller-runtime's certwatcher).

cert-manager and Kubernetes Secrets rotate a certificate by swapping the mounted files. A
server built on one ``ssl.SSLContext`` keeps that context for its listening socket, so the
watcher loads the new pair *into the same context*: every handshake after the reload serves
the new certificate, connections already open keep theirs.

A rotation is two files written one after the other. Loading a new certificate with the old
key fails; the watcher first loads the pair into a scratch context and only touches the live
one when the pair matches, so a half-written rotation never breaks serving. It simply waits
for the next change (or poll) to complete the pair.
"""

from __future__ import annotations

import logging
import ssl
import threading
from collections.abc import Callable
from pathlib import Path

from reconcile.errors import ConfigError
from reconcile.reload.watcher import FileWatcher, FileWatcherOptions

__all__ = ["CertWatcher"]

log = logging.getLogger(__name__)


def _load_pair(context: ssl.SSLContext, cert: Path, key: Path) -> None:
    try:
        context.load_cert_chain(certfile=str(cert), keyfile=str(key))
    except (OSError, ssl.SSLError) as exc:
        raise ConfigError(
            f"cannot load the serving certificate {cert} with key {key}: {exc}; "
            "check that both files are PEM and belong together"
        ) from exc


class CertWatcher:
    """An ``ssl.SSLContext`` whose certificate follows the files on disk.

    Usage::

        certs = CertWatcher("/tmp/k8s-webhook-server/serving-certs/tls.crt", ".../tls.key")
        server = make_server(..., ssl_context=certs.context)
        manager.add(certs)   # a Runnable; runs on every replica
    """

    def __init__(
        self,
        cert_path: str | Path,
        key_path: str | Path,
        *,
        options: FileWatcherOptions | None = None,
        on_reload: Callable[[], None] | None = None,
    ) -> None:
        """Loads the pair now; raises ConfigError if it cannot (nothing to serve otherwise)."""
        self._cert = Path(cert_path)
        self._key = Path(key_path)
        self._on_reload = on_reload
        self._lock = threading.Lock()
        self._context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        self._context.minimum_version = ssl.TLSVersion.TLSv1_2
        _load_pair(self._context, self._cert, self._key)
        self._reloads = 0
        self._watcher = FileWatcher([self._cert, self._key], self._changed, options=options)

    @property
    def context(self) -> ssl.SSLContext:
        """The live server context; hand it to the HTTP server once."""
        return self._context

    @property
    def reloads(self) -> int:
        """How many rotations were taken since start."""
        return self._reloads

    def need_leader_election(self) -> bool:
        """Every replica serves with its own mounted certificate."""
        return False

    def wait_ready(self, timeout: float | None = None) -> bool:
        """Block until ``start`` watches the file (changes from then on are seen)."""
        return self._watcher.wait_ready(timeout)

    def start(self, stop: threading.Event) -> None:
        """Watch until ``stop`` is set (a manager Runnable)."""
        self._watcher.start(stop)

    def reload(self) -> bool:
        """Load the files now if they form a valid pair; returns whether they were taken."""
        scratch = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        try:
            _load_pair(scratch, self._cert, self._key)
        except ConfigError as error:
            log.warning(
                "certificate not reloaded, still serving the previous one",
                extra={"cert": str(self._cert), "error": str(error)},
            )
            return False
        with self._lock:
            _load_pair(self._context, self._cert, self._key)
            self._reloads += 1
        log.info("serving certificate reloaded", extra={"cert": str(self._cert)})
        if self._on_reload is not None:
            self._on_reload()
        return True

    def _changed(self, _paths: list[Path]) -> None:
        self.reload()
