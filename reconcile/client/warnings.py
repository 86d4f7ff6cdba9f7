"""Warnings from the API server (``Warning: 299 - "..."`` headers), logged once per text.

kube-apiserver warns about deprecated APIs, unknown fields under ``fieldValidation=Warn``
and similar; a controller repeating the same request would log the same line on every
reconcile. controller-runtime's default handler logs each distinct text once; so does
``WarningLogger``, remembering up to ``max_remembered`` texts (least recently seen
forgotten first, so memory stays bounded; a forgotten text is logged again if it returns).
"""

from __future__ import annotations

import logging
import re
import threading
from collections import OrderedDict
from collections.abc import Iterable
from typing import Protocol

__all__ = ["WarningHandler", "WarningLogger", "parse_warnings"]

log = logging.getLogger(__name__)

_WARNING = re.compile(r'\s*(\d{3})\s+(\S+)\s+"((?:[^"\\]|\\.)*)"(?:\s+"[^"]*")?\s*,?')


def parse_warnings(values: Iterable[str]) -> list[str]:
    """The texts of RFC 7234 warning header values (kube sends code 299, agent ``-``)."""
    texts = []
    for value in values:
        position = 0
        while position < len(value):
            match = _WARNING.match(value, position)
            if match is None:
                break
            texts.append(re.sub(r"\\(.)", r"\1", match.group(3)))
            position = match.end()
    return texts


class WarningHandler(Protocol):
    """Receives the warning texts of one response."""

    def handle(self, texts: list[str]) -> None: ...


class WarningLogger:
    """Logs server warnings; by default each distinct text once.

    ``suppress=True`` drops them all; ``deduplicate=False`` logs every occurrence.
    """

    def __init__(
        self, *, suppress: bool = False, deduplicate: bool = True, max_remembered: int = 4096
    ) -> None:
        self.suppress = suppress
        self.deduplicate = deduplicate
        self._max = max_remembered
        self._seen: OrderedDict[str, None] = OrderedDict()
        self._lock = threading.Lock()
        self.logged = 0
        """Warnings written so far (tests read it)."""

    def handle(self, texts: list[str]) -> None:
        if self.suppress:
            return
        for text in texts:
            if self.deduplicate and not self._first_time(text):
                continue
            self.logged += 1
            log.warning("API server warning", extra={"warning": text})

    def _first_time(self, text: str) -> bool:
        with self._lock:
            if text in self._seen:
                self._seen.move_to_end(text)
                return False
            self._seen[text] = None
            if len(self._seen) > self._max:
                self._seen.popitem(last=False)
            return True
