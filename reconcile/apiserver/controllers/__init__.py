"""A minimal kube-controller-manager, written with kreconcile's own framework.

The embedded API server stores Deployments, ReplicaSets, Jobs and DaemonSets; these
controllers make them do what kubectl expects (``rollout status|history|undo|restart``,
``create job`` + ``wait --for=condition=complete``, ``scale``, ``drain``), and give every
namespace its ``default`` ServiceAccount and ``kube-root-ca.crt``. They are ordinary
controllers (``ControllerBuilder``, a ``Manager``, a client over HTTP), a real user of the
framework; garbage collection and namespace termination stay inside the server
(``lifecycle.py``) because they must work even when no controller runs.

Usage::

    manager = ControllerManager(RestConfig.from_kubeconfig(path))
    manager.start()
    ...
    manager.stop()
"""

from __future__ import annotations

import logging
import threading
from typing import Any

from reconcile.apiserver.controllers import daemonset, deployment, job, replicaset, serviceaccount
from reconcile.client import RestConfig
from reconcile.manager import Manager, ManagerOptions

__all__ = ["ControllerManager", "setup"]

log = logging.getLogger(__name__)


def setup(manager: Any, *, ca_bundle: str = "") -> None:
    """Register every controller of the minimal kube-controller-manager with ``manager``."""
    serviceaccount.setup(manager, ca_bundle)
    replicaset.setup(manager)
    deployment.setup(manager)
    job.setup(manager)
    daemonset.setup(manager)


class ControllerManager:
    """The controllers in a manager of their own, run in a background thread."""

    def __init__(self, config: RestConfig, *, ca_bundle: str = "") -> None:
        options = ManagerOptions(
            metrics_bind_address="0", health_probe_bind_address="0", graceful_shutdown_timeout=5.0
        )
        self.manager = Manager(config, options)
        setup(self.manager, ca_bundle=ca_bundle)
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        self._thread = threading.Thread(
            target=self._run, name="kube-controller-manager", daemon=True
        )
        self._thread.start()

    def _run(self) -> None:
        try:
            self.manager.start(self._stop)
        except Exception as error:  # the server keeps serving; the failure is logged
            log.error("controller manager stopped", extra={"error": str(error)})

    def stop(self, timeout: float = 10.0) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout)
            self._thread = None
