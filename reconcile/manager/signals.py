"""SIGTERM/SIGINT handling like controller-runtime's SetupSignalHandler.

The first signal sets the returned event (graceful shutdown); a second one exits at once
with status 1, for an operator who does not want to wait.
"""

from __future__ import annotations

import logging
import os
import signal
import threading
from types import FrameType

__all__ = ["setup_signal_handler"]

log = logging.getLogger(__name__)


def setup_signal_handler() -> threading.Event:
    """Install handlers (main thread only) and return the stop event they set."""
    stop = threading.Event()

    def handle(signum: int, _frame: FrameType | None) -> None:
        if stop.is_set():
            log.warning("second signal, exiting now", extra={"signal": signal.Signals(signum).name})
            os._exit(1)
        log.info("signal received, shutting down", extra={"signal": signal.Signals(signum).name})
        stop.set()

    signal.signal(signal.SIGTERM, handle)
    signal.signal(signal.SIGINT, handle)
    return stop
