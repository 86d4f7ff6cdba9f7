"""A policy's spec compiled once per generation: its rules and its pod selection.

The controller and the node agents evaluate every policy on every pod event and sample;
parsing the spec each time would be the hot path's main cost, so the compiled form is kept
per (name, generation, uid) and dropped when the policy changes or goes.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from controllers.iolimit.rules import CompiledPolicy, compile_policy
from controllers.iolimit.selection import PodSelection

__all__ = ["PolicyCompiler"]


class PolicyCompiler:
    """Compiles each policy's spec once per generation (and watch-namespace setting)."""

    def __init__(self, watch_namespaces: Sequence[str] = ()) -> None:
        self.watch_namespaces = tuple(watch_namespaces)
        self._compiled: dict[tuple[str, Any, Any], tuple[CompiledPolicy, PodSelection]] = {}

    def compile(self, raw: Mapping[str, Any]) -> tuple[CompiledPolicy, PodSelection]:
        meta = raw.get("metadata") or {}
        key = (str(meta.get("name")), meta.get("generation"), meta.get("uid"))
        found = self._compiled.get(key)
        if found is None:
            spec = raw.get("spec") or {}
            found = (compile_policy(spec), PodSelection.of(spec, self.watch_namespaces))
            stale = [k for k in self._compiled if k[0] == key[0]]
            for old in stale:
                del self._compiled[old]
            self._compiled[key] = found
        return found

    def forget_except(self, names: set[str]) -> None:
        for key in [k for k in self._compiled if k[0] not in names]:
            del self._compiled[key]
