"""Policies are compiled once per generation."""

from __future__ import annotations

from controllers.iolimit.compiler import PolicyCompiler
from tests.unit.controllers.iolimit.builders import policy


def test_compiled_once_per_generation() -> None:
    compiler = PolicyCompiler()
    obj = policy()
    first = compiler.compile(obj)
    assert compiler.compile(obj) is first
    obj["metadata"]["generation"] = 2
    second = compiler.compile(obj)
    assert second is not first
    compiler.forget_except(set())
    assert compiler.compile(obj) is not second
