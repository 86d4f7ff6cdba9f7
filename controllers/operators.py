"""How an operator plugs into ``kreconcile run``, ``kreconcile agent`` and ``kreconcile dev``.

An operator is a package ``controllers/<name>/`` whose ``__init__.py`` defines::

    def setup(manager: Manager, options: OperatorOptions) -> None:
        # build controllers with ControllerBuilder(manager)...; add runnables
    def setup_agent(manager: Manager, options: AgentOptions) -> None:     # optional
        # the node-agent part, run by ``kreconcile agent`` on every node
    def parse_config(section: Mapping[str, Any]) -> object:             # optional
        # validate this operator's section of the --config file; raise ValueError naming
        # the field. The result is what ``options.config.current`` returns.

and is listed once in ``OPERATORS`` below. Nothing registers itself on import: the entry
points load this list and call each function with the manager they built, so a test can run
any subset by passing its own list.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from controllers.config import ConfigSection

if TYPE_CHECKING:
    from reconcile.manager import Manager

__all__ = [
    "OPERATORS",
    "AgentOptions",
    "Operator",
    "OperatorOptions",
    "load_operators",
]

OPERATORS: tuple[tuple[str, str], ...] = (
    ("restarts", "controllers.restarts"),
    ("iolimit", "controllers.iolimit"),
    ("agentpool", "controllers.agentpool"),
)
"""(config section name, package) of every operator, in start order.

The operators' packages (``restarts``, ``iolimit``, ``agentpool``) add their line here.
"""


@dataclass(frozen=True, kw_only=True)
class OperatorOptions:
    """What ``kreconcile run`` gives each operator's ``setup``."""

    config: ConfigSection
    """This operator's section of the --config file, hot-reloaded (``current``, ``subscribe``)."""
    watch_namespaces: tuple[str, ...] = ()
    """Namespaces to act in; empty means all. With one namespace the manager's cache is
    already restricted to it; with several the cache watches all and the operator filters."""


@dataclass(frozen=True, kw_only=True)
class AgentOptions:
    """What ``kreconcile agent`` gives each operator's ``setup_agent``."""

    config: ConfigSection
    """This operator's section of the --config file, hot-reloaded."""
    node_name: str
    """The node this agent runs on; the manager's Pod cache holds only this node's pods."""
    cgroup_root: Path = Path("/sys/fs/cgroup")
    """Where the node's cgroup filesystem is mounted (a mimic tree under ``kreconcile dev``)."""


SetupFunc = Callable[["Manager", OperatorOptions], None]
AgentSetupFunc = Callable[["Manager", AgentOptions], None]
ParseConfigFunc = Callable[[Mapping[str, Any]], object]


def _no_config(section: Mapping[str, Any]) -> object:
    if section:
        raise ValueError(f"this operator takes no configuration, got keys {sorted(section)}")
    return {}


@dataclass(frozen=True, kw_only=True)
class Operator:
    """One operator's entry points (from its package, or built directly by a test)."""

    name: str
    """Its section name in the config file and its name in logs."""
    setup: SetupFunc | None = None
    setup_agent: AgentSetupFunc | None = None
    parse_config: ParseConfigFunc = field(default=_no_config)

    @classmethod
    def from_package(cls, name: str, package: str) -> Operator:
        """Load ``package`` and pick up the functions it defines."""
        module = importlib.import_module(package)
        setup = getattr(module, "setup", None)
        setup_agent = getattr(module, "setup_agent", None)
        if setup is None and setup_agent is None:
            raise TypeError(
                f"operator package {package} defines neither setup(manager, options) nor "
                "setup_agent(manager, options); define at least one in its __init__.py"
            )
        return cls(
            name=name,
            setup=setup,
            setup_agent=setup_agent,
            parse_config=getattr(module, "parse_config", _no_config),
        )


def load_operators(entries: tuple[tuple[str, str], ...] = OPERATORS) -> list[Operator]:
    """The operators of ``entries`` (default: all of kreconcile's)."""
    return [Operator.from_package(name, package) for name, package in entries]
