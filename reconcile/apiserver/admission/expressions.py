"""CEL in admission: webhook ``matchConditions`` and ValidatingAdmissionPolicy expressions.

The variables are kube-apiserver's: ``object`` and ``oldObject`` (null where the operation
has none), ``request`` (the AdmissionRequest as a map: ``request.operation``,
``request.userInfo.username``, ``request.namespace``, ...), and, for policies, ``params``,
``namespaceObject`` and ``variables``. ``authorizer`` is not offered: an expression that
uses it fails to evaluate, and the failure policy decides.

Programs are compiled once per expression text and cached, as the CRD rules are.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping
from typing import Any

import celpy
from celpy.adapter import json_to_cel
from celpy.evaluation import CELEvalError

__all__ = ["CELError", "compile_error", "evaluate", "to_cel"]

_ENV = celpy.Environment()


class CELError(Exception):
    """An expression that does not compile or does not evaluate."""


@functools.lru_cache(maxsize=4096)
def _program(expression: str) -> Any:
    return _ENV.program(_ENV.compile(expression))


def compile_error(expression: str) -> str | None:
    """Why ``expression`` does not compile, or None."""
    try:
        _program(expression)
    except Exception as error:
        return str(error)
    return None


def to_cel(value: Any) -> Any:
    return json_to_cel(value)


def evaluate(expression: str, activation: Mapping[str, Any]) -> Any:
    """The expression's value over ``activation`` (values already ``to_cel``); CELError."""
    try:
        result = _program(expression).evaluate(dict(activation))
    except Exception as error:
        raise CELError(f"expression '{expression}' resulted in error: {error}") from error
    if isinstance(result, CELEvalError):
        raise CELError(f"expression '{expression}' resulted in error: {result.args[0]}")
    return result
