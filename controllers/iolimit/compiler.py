"""A policy's spec compiled once per generation: its rules and its pod selection.

The controller and the node agents evaluate every policy on every pod event and sample;
parsing the spec each time would be the hot path's main cost, so the compiled form is kept
per (name, generation, uid) and dropped when the policy changes or goes.
"""

from __future__ import annotations

import threading
from collections.abc import Mapping, Sequence
from typing import Any

from controllers.iolimit.rules import CompiledPolicy, compile_policy
from controllers.iolimit.selection import PodSelection

__all__ = ["PolicyCompiler"]


class PolicyCompiler:
    """Compiles each policy's spec once per generation (and watch-namespace setting).

    Safe to share between threads: the controller's event handlers (informer threads) and
    its workers compile through one instance.
    """

    def __init__(self, watch_namespaces: Sequence[str] = ()) -> None:
        self.watch_namespaces = tuple(watch_namespaces)
        self._compiled: dict[tuple[str, Any, Any], tuple[CompiledPolicy, PodSelection]] = {}
        self._lock = threading.Lock()

    def compile(self, raw: Mapping[str, Any]) -> tuple[CompiledPolicy, PodSelection]:
        meta = raw.get("metadata") or {}
        key = (str(meta.get("name")), meta.get("generation"), meta.get("uid"))
        with self._lock:
            found = self._compiled.get(key)
        if found is not None:
            return found
        spec = raw.get("spec") or {}
        found = (compile_policy(spec), PodSelection.of(spec, self.watch_namespaces))
        with self._lock:
            for old in [k for k in self._compiled if k[0] == key[0]]:
                del self._compiled[old]
            self._compiled[key] = found
        return found

    def forget_except(self, names: set[str]) -> None:
        with self._lock:
            for key in [k for k in self._compiled if k[0] not in names]:
                del self._compiled[key]
