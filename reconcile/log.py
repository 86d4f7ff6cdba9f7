"""Structured logging context: controller, namespace/name and a reconcile ID on every record.

The controller binds these in a context variable around each reconcile; ``ContextFilter``
copies them onto every ``LogRecord``, so reconcilers just use ``logging.getLogger(__name__)``
and messages stay fixed phrases with values in ``extra=``. ``LogfmtFormatter`` prints
``key=value`` lines that humans and log pipelines both read.
"""

from __future__ import annotations

import contextlib
import contextvars
import logging
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, Any, TypeAlias

if TYPE_CHECKING:
    from reconcile.reconciler import Request

__all__ = [
    "ContextFilter",
    "LogConstructor",
    "LogfmtFormatter",
    "Logger",
    "bind",
    "bind_logger",
    "current",
    "from_context",
    "setup_logging",
]

Logger: TypeAlias = "logging.Logger | logging.LoggerAdapter[Any]"
LogConstructor: TypeAlias = "Callable[[Request | None], Logger]"
"""Builds a controller's logger: called with None for the controller's own messages and
with each Request for its reconcile (controller-runtime's ``LogConstructor``)."""

_CONTEXT: contextvars.ContextVar[tuple[tuple[str, str], ...]] = contextvars.ContextVar(
    "kreconcile_log", default=()
)
_LOGGER: contextvars.ContextVar[Logger | None] = contextvars.ContextVar(
    "kreconcile_logger", default=None
)
_DEFAULT = logging.getLogger("reconcile")
_STANDARD = set(vars(logging.LogRecord("", 0, "", 0, "", (), None))) | {"message", "asctime"}


@contextlib.contextmanager
def bind(**fields: str) -> Iterator[None]:
    """Add ``fields`` to every log record emitted in this block (on this thread/context)."""
    token = _CONTEXT.set(tuple({**dict(_CONTEXT.get()), **fields}.items()))
    try:
        yield
    finally:
        _CONTEXT.reset(token)


def current() -> dict[str, str]:
    """The fields bound right now."""
    return dict(_CONTEXT.get())


@contextlib.contextmanager
def bind_logger(logger: Logger) -> Iterator[None]:
    """Make ``logger`` what ``from_context()`` returns in this block."""
    token = _LOGGER.set(logger)
    try:
        yield
    finally:
        _LOGGER.reset(token)


def from_context() -> Logger:
    """The logger of the current reconcile (its controller's ``log_constructor``), else the
    ``reconcile`` logger; either way the bound fields (controller, name...) are added."""
    logger = _LOGGER.get()
    return logger if logger is not None else _DEFAULT


class ContextFilter(logging.Filter):
    """Copies bound fields onto each record (without overwriting explicit ``extra``)."""

    def filter(self, record: logging.LogRecord) -> bool:
        for key, value in _CONTEXT.get():
            if not hasattr(record, key):
                setattr(record, key, value)
        return True


def _quote(value: Any) -> str:
    text = str(value)
    if not text or any(c in text for c in ' "=\n'):
        return '"' + text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n") + '"'
    return text


class LogfmtFormatter(logging.Formatter):
    """``ts=... level=info logger=... msg="..." controller=... name=...``."""

    def format(self, record: logging.LogRecord) -> str:
        parts = [
            f"ts={self.formatTime(record, '%Y-%m-%dT%H:%M:%S')}",
            f"level={record.levelname.lower()}",
            f"logger={record.name}",
            f"msg={_quote(record.getMessage())}",
        ]
        for key, value in record.__dict__.items():
            if key not in _STANDARD and not key.startswith("_"):
                parts.append(f"{key}={_quote(value)}")
        if record.exc_info:
            parts.append(f"error={_quote(self.formatException(record.exc_info))}")
        return " ".join(parts)


def setup_logging(level: int = logging.INFO) -> None:
    """Root logging for kreconcile processes: logfmt to stderr with context fields."""
    handler = logging.StreamHandler()
    handler.setFormatter(LogfmtFormatter())
    handler.addFilter(ContextFilter())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
