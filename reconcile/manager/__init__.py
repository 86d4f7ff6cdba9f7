"""The manager: shared client, cache and metrics, runnables, probes, leader election."""

from reconcile.manager.manager import Manager
from reconcile.manager.options import ManagerOptions
from reconcile.manager.runnables import Runnable, RunnableGroup, needs_election
from reconcile.manager.signals import setup_signal_handler

__all__ = [
    "Manager",
    "ManagerOptions",
    "Runnable",
    "RunnableGroup",
    "needs_election",
    "setup_signal_handler",
]
