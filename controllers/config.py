"""The operators' configuration file (``--config``): one section per operator, hot-reloaded.

The file is YAML mapping each operator's name to its settings::

    restarts:
      retention: 168h
    iolimit: {...}

One ``ConfigWatcher`` (``reconcile.reload``) watches the whole file; its parser validates
every section with the operator's own ``parse_config``, so a mistake anywhere rejects the new
file as a whole and the last good configuration stays in force (logged, and counted in
``kreconcile_config_last_reload_successful{name="operators"}``). An unknown section is a
mistake too: a typo must not silently leave an operator on its defaults.

Each operator sees only its ``ConfigSection``: the validated value of its section and a
subscription that fires when that section (not the file) changed.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import yaml

from reconcile.reload import ConfigMetrics, ConfigWatcher, FileWatcherOptions

if TYPE_CHECKING:
    from controllers.operators import Operator
    from reconcile.manager import Manager

__all__ = ["CONFIG_NAME", "ConfigSection", "ConfigSource", "attach_config", "parse_sections"]

log = logging.getLogger(__name__)

CONFIG_NAME = "operators"
"""The ``name`` label of the reload metrics."""


def parse_sections(raw: bytes, operators: Sequence[Operator]) -> dict[str, object]:
    """Validate the whole file: ``{operator name: its parsed section}``; raise ValueError."""
    data = yaml.safe_load(raw) if raw.strip() else None
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise ValueError(
            f"the file must map operator names to their settings, got a {type(data).__name__}"
        )
    names = [op.name for op in operators]
    unknown = sorted(str(key) for key in data if key not in names)
    if unknown:
        raise ValueError(
            f"unknown section(s) {', '.join(unknown)}; sections are the operators' names: "
            f"{', '.join(names) or '(no operators are installed)'}"
        )
    parsed: dict[str, object] = {}
    for operator in operators:
        section = data.get(operator.name)
        if section is None:
            section = {}
        if not isinstance(section, dict):
            raise ValueError(f"{operator.name}: must be a mapping of settings")
        try:
            parsed[operator.name] = operator.parse_config(section)
        except (ValueError, TypeError) as exc:
            raise ValueError(f"{operator.name}: {exc}") from exc
    return parsed


class ConfigSource:
    """All sections, from a watched file or (without one) every operator's defaults."""

    def __init__(
        self,
        operators: Sequence[Operator],
        path: str | Path | None = None,
        *,
        metrics: ConfigMetrics | None = None,
        watch_options: FileWatcherOptions | None = None,
    ) -> None:
        """Reads the file now: raises ``ConfigError`` (naming the file and why) if invalid."""
        self._lock = threading.Lock()
        self._subscribers: dict[str, list[Callable[[Any], None]]] = {}
        self.watcher: ConfigWatcher[dict[str, object]] | None = None
        if path is None:
            self._current = parse_sections(b"", operators)
            return
        self.watcher = ConfigWatcher(
            CONFIG_NAME,
            path,
            parse=lambda raw: parse_sections(raw, operators),
            metrics=metrics,
            options=watch_options,
        )
        self._current = self.watcher.current
        self.watcher.subscribe(self._changed)

    def section(self, name: str) -> ConfigSection:
        if name not in self._current:
            raise KeyError(f"no config section {name!r}; sections: {sorted(self._current)}")
        return ConfigSection(name, self)

    def current(self, name: str) -> Any:
        with self._lock:
            return self._current[name]

    def subscribe(self, name: str, callback: Callable[[Any], None]) -> None:
        with self._lock:
            self._subscribers.setdefault(name, []).append(callback)

    def _changed(self, new: dict[str, object]) -> None:
        with self._lock:
            old, self._current = self._current, new
            calls = [
                (name, callback, new[name])
                for name, callbacks in self._subscribers.items()
                if new.get(name) != old.get(name)
                for callback in callbacks
            ]
        for name, callback, value in calls:
            log.info("config section changed", extra={"section": name})
            callback(value)


class ConfigSection:
    """One operator's view of the configuration."""

    def __init__(self, name: str, source: ConfigSource) -> None:
        self.name = name
        self._source = source

    @property
    def current(self) -> Any:
        """The section in force: what the operator's ``parse_config`` returned for it."""
        return self._source.current(self.name)

    def subscribe(self, callback: Callable[[Any], None]) -> None:
        """Call ``callback(new_section)`` after a reload that changed this section."""
        self._source.subscribe(self.name, callback)


def attach_config(
    manager: Manager, operators: Sequence[Operator], path: str | Path | None
) -> ConfigSource:
    """The config of ``operators`` with its watcher run (and its metrics served) by ``manager``."""
    source = ConfigSource(operators, path, metrics=ConfigMetrics(manager.registry))
    if source.watcher is not None:
        manager.add(source.watcher)
    return source
