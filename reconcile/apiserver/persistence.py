"""Durable storage for the embedded server: one sqlite file, written through on every change.

WAL mode with ``synchronous=NORMAL`` survives a killed process (the OS keeps what was
written); only a power loss can drop the last few writes, which is fine for a development
server. The current revision is stored with the data, so resourceVersions never go back
after a restart and clients' cached versions stay comparable.

Each write is one transaction: the object row and the revision row commit together or not
at all. A process killed between the two statements leaves neither (sqlite rolls the open
transaction back on the next open), so an object can never be stored at a revision the
counter has not reached, which would hand the same resourceVersion out twice after a
restart. ``between_statements`` is a fault hook for the test that proves it.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

__all__ = ["Persistence"]

_SCHEMA = """
CREATE TABLE IF NOT EXISTS objects (
    grp TEXT NOT NULL, resource TEXT NOT NULL, namespace TEXT NOT NULL, name TEXT NOT NULL,
    rv INTEGER NOT NULL, data BLOB NOT NULL,
    PRIMARY KEY (grp, resource, namespace, name)
);
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value INTEGER NOT NULL);
"""


class Persistence:
    """Objects and the revision counter in ``<data_dir>/objects.sqlite``."""

    def __init__(
        self, data_dir: str | Path, *, between_statements: Callable[[], None] | None = None
    ) -> None:
        """``between_statements`` runs inside each write's transaction, after the object
        statement and before the revision one (fault injection: a test kills the process)."""
        self._between = between_statements
        directory = Path(data_dir)
        directory.mkdir(parents=True, exist_ok=True)
        self.path = directory / "objects.sqlite"
        self._db = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=NORMAL")
        self._db.executescript(_SCHEMA)

    def load(self) -> tuple[int, list[tuple[str, str, str, str, bytes]]]:
        row = self._db.execute("SELECT value FROM meta WHERE key='rv'").fetchone()
        rows = self._db.execute(
            "SELECT grp, resource, namespace, name, data FROM objects ORDER BY rv"
        ).fetchall()
        return (int(row[0]) if row else 0), [(g, r, ns, n, bytes(d)) for g, r, ns, n, d in rows]

    @contextmanager
    def _transaction(self) -> Iterator[sqlite3.Connection]:
        """BEGIN ... COMMIT, or ROLLBACK on error (the connection is in autocommit mode)."""
        self._db.execute("BEGIN IMMEDIATE")
        try:
            yield self._db
        except BaseException:
            self._db.execute("ROLLBACK")
            raise
        self._db.execute("COMMIT")

    def put(self, gr: tuple[str, str], key: tuple[str, str], raw: bytes, rv: int) -> None:
        with self._transaction() as db:
            db.execute(
                "INSERT OR REPLACE INTO objects VALUES (?, ?, ?, ?, ?, ?)", (*gr, *key, rv, raw)
            )
            self._set_rv(rv)

    def delete(self, gr: tuple[str, str], key: tuple[str, str], rv: int) -> None:
        with self._transaction() as db:
            db.execute(
                "DELETE FROM objects WHERE grp=? AND resource=? AND namespace=? AND name=?",
                (*gr, *key),
            )
            self._set_rv(rv)

    def _set_rv(self, rv: int) -> None:
        if self._between is not None:
            self._between()
        self._db.execute("INSERT OR REPLACE INTO meta VALUES ('rv', ?)", (rv,))

    def close(self) -> None:
        self._db.close()
