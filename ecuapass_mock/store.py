"""The mock's state: filings, document references, sequences and authorizations, in one SQLite file.

Every filing is committed (WAL, synchronous=FULL) before its reply leaves, so a SIGKILL loses nothing that was
answered. ``:memory:`` gives a throw-away store.
"""

from __future__ import annotations

import json
import sqlite3
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

_SCHEMA = """
CREATE TABLE IF NOT EXISTS filings (
    message_id  TEXT PRIMARY KEY,
    kind        TEXT NOT NULL,
    sender      TEXT NOT NULL,
    reference   TEXT NOT NULL,
    digest      TEXT NOT NULL,
    status      TEXT NOT NULL,
    reply       BLOB NOT NULL,
    submissions INTEGER NOT NULL DEFAULT 1,
    filed_at    TEXT NOT NULL,
    decided_at  TEXT NOT NULL,
    submission_number TEXT,
    case_id     TEXT NOT NULL DEFAULT '',
    traceparent TEXT
);
CREATE INDEX IF NOT EXISTS filings_by_submission ON filings(submission_number);
CREATE TABLE IF NOT EXISTS doc_references (
    kind       TEXT NOT NULL,
    sender     TEXT NOT NULL,
    reference  TEXT NOT NULL,
    message_id TEXT NOT NULL,
    content    TEXT NOT NULL,
    PRIMARY KEY (kind, sender, reference)
);
CREATE TABLE IF NOT EXISTS sequences (name TEXT PRIMARY KEY, value INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS grants (
    number      TEXT PRIMARY KEY,
    kind        TEXT NOT NULL,
    exporter    TEXT NOT NULL,
    valid_until TEXT,
    parent      TEXT,
    details     TEXT NOT NULL,
    message_id  TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS grants_by_parent ON grants(parent, kind);
"""


@dataclass(frozen=True, slots=True)
class Grant:
    """What an accepted document grants later documents: an authorization, an export declaration…"""

    number: str
    kind: str
    exporter: str
    valid_until: str | None = None
    parent: str | None = None  # the number this one builds on (a DAE's authorization, an entry's DAE)
    details: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class StoredFiling:
    message_id: str
    digest: str
    status: str
    reply: bytes
    decided_at: str  # ISO time from which the decision is visible to status queries (two-stage replies)


class FilingStore:
    def __init__(self, path: str | Path = ":memory:") -> None:
        self.path = str(path)
        self._lock = threading.Lock()
        self._db = sqlite3.connect(self.path, check_same_thread=False, isolation_level=None)
        if self.path != ":memory:":
            self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=FULL")
        self._db.executescript(_SCHEMA)

    def close(self) -> None:
        with self._lock:
            self._db.close()

    def filing(self, message_id: str) -> StoredFiling | None:
        with self._lock:
            row = self._db.execute(
                "SELECT message_id, digest, status, reply, decided_at FROM filings WHERE message_id = ?", (message_id,)
            ).fetchone()
        return None if row is None else StoredFiling(*row)

    def message_for_submission(self, submission_number: str) -> str | None:
        with self._lock:
            row = self._db.execute(
                "SELECT message_id FROM filings WHERE submission_number = ?", (submission_number,)
            ).fetchone()
        return None if row is None else str(row[0])

    def count_submission(self, message_id: str) -> None:
        with self._lock:
            self._db.execute("UPDATE filings SET submissions = submissions + 1 WHERE message_id = ?", (message_id,))

    def reference(self, kind: str, sender: str, reference: str) -> tuple[str, str] | None:
        """(message id, content digest) of the document already filed under this reference, if any."""
        with self._lock:
            row = self._db.execute(
                "SELECT message_id, content FROM doc_references WHERE kind = ? AND sender = ? AND reference = ?",
                (kind, sender, reference),
            ).fetchone()
        return None if row is None else (row[0], row[1])

    def next_sequence(self, name: str) -> int:
        with self._lock:
            row = self._db.execute(
                "INSERT INTO sequences(name, value) VALUES (?, 1) "
                "ON CONFLICT(name) DO UPDATE SET value = value + 1 RETURNING value",
                (name,),
            ).fetchone()
        return int(row[0])

    def record(
        self,
        *,
        message_id: str,
        kind: str,
        sender: str,
        reference: str,
        digest: str,
        content: str,
        status: str,
        reply: bytes,
        filed_at: str,
        decided_at: str,
        submission_number: str | None,
        case_id: str = "",
        traceparent: str | None = None,
        grant: Grant | None = None,
    ) -> None:
        """Store one answered filing atomically (and what it granted, if anything)."""
        with self._lock:
            self._db.execute("BEGIN IMMEDIATE")
            try:
                self._db.execute(
                    "INSERT INTO filings(message_id, kind, sender, reference, digest, status, reply, filed_at, "
                    "decided_at, submission_number, case_id, traceparent) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    (
                        message_id,
                        kind,
                        sender,
                        reference,
                        digest,
                        status,
                        reply,
                        filed_at,
                        decided_at,
                        submission_number,
                        case_id,
                        traceparent,
                    ),
                )
                if status == "ACCEPTED":
                    self._db.execute(
                        "INSERT OR IGNORE INTO doc_references(kind, sender, reference, message_id, content) "
                        "VALUES (?, ?, ?, ?, ?)",
                        (kind, sender, reference, message_id, content),
                    )
                if grant is not None:
                    self._insert_grant(grant, message_id)
                self._db.execute("COMMIT")
            except BaseException:
                self._db.execute("ROLLBACK")
                raise

    def _insert_grant(self, grant: Grant, message_id: str) -> None:
        self._db.execute(
            "INSERT INTO grants(number, kind, exporter, valid_until, parent, details, message_id) "
            "VALUES (?, ?, ?, ?, ?, ?, ?)",
            (
                grant.number,
                grant.kind,
                grant.exporter,
                grant.valid_until,
                grant.parent,
                json.dumps(grant.details),
                message_id,
            ),
        )

    def grant(self, number: str) -> Grant | None:
        with self._lock:
            row = self._db.execute(
                "SELECT number, kind, exporter, valid_until, parent, details FROM grants WHERE number = ?", (number,)
            ).fetchone()
        return None if row is None else _grant(row)

    def grants_under(self, parent: str, kind: str) -> list[Grant]:
        """Every grant of ``kind`` built on ``parent`` (e.g. the DAEs filed under one authorization)."""
        with self._lock:
            rows = self._db.execute(
                "SELECT number, kind, exporter, valid_until, parent, details FROM grants "
                "WHERE parent = ? AND kind = ? ORDER BY number",
                (parent, kind),
            ).fetchall()
        return [_grant(row) for row in rows]

    def submissions(self) -> dict[str, int]:
        """How many times each message id was submitted: a correct client keeps every count at 1."""
        with self._lock:
            return dict(self._db.execute("SELECT message_id, submissions FROM filings ORDER BY filed_at"))

    def log(self) -> list[dict[str, str]]:
        """Every filing in the order it was filed: what tests use to check per-case ordering."""
        with self._lock:
            rows = self._db.execute(
                "SELECT message_id, case_id, kind, reference, status, filed_at, traceparent FROM filings ORDER BY rowid"
            ).fetchall()
        keys = ("message_id", "case_id", "document", "reference", "status", "filed_at", "traceparent")
        return [dict(zip(keys, row, strict=True)) for row in rows]

    def counts_by_status(self) -> dict[str, int]:
        with self._lock:
            return dict(self._db.execute("SELECT status, COUNT(*) FROM filings GROUP BY status"))

    def reset(self) -> None:
        with self._lock:
            self._db.executescript(
                "DELETE FROM filings; DELETE FROM doc_references; DELETE FROM sequences; DELETE FROM grants;"
            )


def _grant(row: tuple[Any, ...]) -> Grant:
    number, kind, exporter, valid_until, parent, details = row
    return Grant(number, kind, exporter, valid_until, parent, json.loads(details))
