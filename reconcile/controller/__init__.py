"""Controllers: a work queue, sources feeding it and workers calling a reconciler."""

from reconcile.controller.controller import (
    PANIC_TYPES,
    Controller,
    WorkerDied,
    reconcile_deadline,
)
from reconcile.controller.metrics import ControllerMetrics
from reconcile.controller.options import ControllerDefaults, ControllerOptions

__all__ = [
    "PANIC_TYPES",
    "Controller",
    "ControllerDefaults",
    "ControllerMetrics",
    "ControllerOptions",
    "WorkerDied",
    "reconcile_deadline",
]
