"""Hot reload of mounted files: serving certificates and operator configuration.

``FileWatcher`` notices content changes (watchdog events on the parent directory, debounced,
with a polling backstop) and survives Kubernetes' ``..data`` symlink swaps; ``ConfigWatcher``
keeps the last good config when a new one fails to parse; ``CertWatcher`` rotates a live
``ssl.SSLContext``. All three are manager Runnables that run on every replica.
"""

from reconcile.reload.certwatcher import CertWatcher
from reconcile.reload.config import ConfigMetrics, ConfigWatcher
from reconcile.reload.watcher import FileWatcher, FileWatcherOptions, fingerprint

__all__ = [
    "CertWatcher",
    "ConfigMetrics",
    "ConfigWatcher",
    "FileWatcher",
    "FileWatcherOptions",
    "fingerprint",
]
