"""An InformerCache running in a thread for the duration of a ``with`` block."""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

from reconcile.cache import CacheOptions, InformerCache, ReflectorOptions
from reconcile.client import Client, RestConfig

FAST = ReflectorOptions(initial_backoff=0.05, max_backoff=0.2)


@contextlib.contextmanager
def running_cache(kubeconfig: Path, options: CacheOptions | None = None) -> Iterator[InformerCache]:
    options = replace(options or CacheOptions(), reflector=FAST, sync_timeout=15.0)
    cache = InformerCache(Client(RestConfig.from_kubeconfig(kubeconfig)), options)
    stop = threading.Event()
    thread = threading.Thread(target=cache.start, args=(stop,), daemon=True)
    thread.start()
    try:
        yield cache
    finally:
        stop.set()
        thread.join(15)
        assert not thread.is_alive(), "the cache did not stop"
