"""The mock's state: filings, document references, sequences, grants and notifications, in one SQLite file.

Every filing is committed (WAL, synchronous=FULL) before its reply leaves, so a SIGKILL loses nothing that was
answered; the notifications its acceptance plans are committed with it. ``:memory:`` gives a throw-away store.

Notifications live in two tables: ``planned`` (what customs will notify, and when: ``lifecycle.py``) and
``notifications`` (published, in feed order). Publication moves the due rows over in one transaction, so a
notification gets its sequence when it becomes visible, never before: a reader that has seen sequence N never sees a
notification below N appear later. Both sequences are AUTOINCREMENT: never reused, not even after ``reset``.
"""

from __future__ import annotations

import contextlib
import json
import sqlite3
import threading
from collections.abc import Iterator, Sequence
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
    traceparent TEXT,
    client      TEXT
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
CREATE TABLE IF NOT EXISTS planned (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    case_key   TEXT NOT NULL,
    message_id TEXT NOT NULL,
    client     TEXT,
    due        REAL,
    offset_s   REAL NOT NULL DEFAULT 0,
    body       TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS planned_by_due ON planned(due);
CREATE INDEX IF NOT EXISTS planned_by_case ON planned(case_key);
CREATE TABLE IF NOT EXISTS notifications (
    sequence   INTEGER PRIMARY KEY AUTOINCREMENT,
    message_id TEXT NOT NULL,
    client     TEXT,
    issued     REAL NOT NULL,
    body       TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS notifications_by_message ON notifications(message_id);
CREATE INDEX IF NOT EXISTS notifications_by_client ON notifications(client, sequence);
"""
_FEED = "(? IS NULL OR client = ?)"  # one caller's feed (its client name), or every notification (None)
_PUBLISHED = "SELECT sequence, message_id, client, issued, body FROM notifications"


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
class Accepted:
    """An accepted filing with what it was granted, and the name of the token it was filed with (``None``: the
    mock asked for none)."""

    message_id: str
    kind: str
    reference: str
    client: str | None
    grant: Grant
    case_id: str = ""  # the filing header's cmn:CaseId, echoed in its notifications' Concerns


@dataclass(frozen=True, slots=True)
class Planned:
    """A notification customs will publish at ``due`` (epoch seconds), or, held (``due`` is ``None``) until its
    case's observation is closed, ``offset_s`` after that. ``message_id`` is the filing it concerns, ``client`` whose
    feed it goes to; ``body`` is its draft as JSON (``outbox.py``)."""

    case: str
    message_id: str
    client: str | None
    due: float | None
    offset_s: float
    body: str


@dataclass(frozen=True, slots=True)
class Published:
    sequence: int
    message_id: str
    client: str | None
    issued: float  # epoch seconds
    body: str


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
        columns = {row[1] for row in self._db.execute("PRAGMA table_info(filings)")}
        if "client" not in columns:  # a state file from before filings recorded their client
            self._db.execute("ALTER TABLE filings ADD COLUMN client TEXT")

    @contextlib.contextmanager
    def _transaction(self) -> Iterator[None]:
        """One atomic write, under the lock."""
        with self._lock:
            self._db.execute("BEGIN IMMEDIATE")
            try:
                yield
            except BaseException:
                self._db.execute("ROLLBACK")
                raise
            self._db.execute("COMMIT")

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
        client: str | None = None,
        planned: Sequence[Planned] = (),
    ) -> None:
        """Store one answered filing atomically, with what it granted and the notifications it planned."""
        with self._transaction():
            self._db.execute(
                "INSERT INTO filings(message_id, kind, sender, reference, digest, status, reply, filed_at, "
                "decided_at, submission_number, case_id, traceparent, client) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
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
                    client,
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
            self._plan(planned)

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

    def accepted(self, message_id: str) -> Accepted | None:
        """The accepted filing sent under ``message_id``, with its grant; ``None`` if there is none."""
        return self._accepted("g.message_id = ?", message_id)

    def accepted_grant(self, number: str) -> Accepted | None:
        """The accepted filing that obtained the official number ``number``."""
        return self._accepted("g.number = ?", number)

    def _accepted(self, where: str, value: str) -> Accepted | None:
        rows = self._query(
            "SELECT f.message_id, f.reference, f.client, g.number, g.kind, g.exporter, g.valid_until, g.parent, "
            f"g.details, f.case_id FROM grants g JOIN filings f ON f.message_id = g.message_id WHERE {where}",
            value,
        )
        return next((Accepted(row[0], row[4], row[1], row[2], _grant(row[3:9]), row[9]) for row in rows), None)

    def clients(self) -> dict[str, str]:
        """{message id: name of the bearer token it was first filed with}, for filings made with a token."""
        return dict(self._query("SELECT message_id, client FROM filings WHERE client IS NOT NULL ORDER BY rowid"))

    def _query(self, sql: str, *parameters: object) -> list[tuple[Any, ...]]:
        with self._lock:
            return self._db.execute(sql, parameters).fetchall()

    def _plan(self, planned: Sequence[Planned]) -> None:
        self._db.executemany(
            "INSERT INTO planned(case_key, message_id, client, due, offset_s, body) VALUES (?, ?, ?, ?, ?, ?)",
            [(p.case, p.message_id, p.client, p.due, p.offset_s, p.body) for p in planned],
        )

    def publish_due(self, now: float) -> None:
        """Publish every planned notification due by ``now``, in the order of their times (then of planning)."""
        with self._transaction():
            self._db.execute(
                "INSERT INTO notifications(message_id, client, issued, body) SELECT message_id, client, due, body "
                "FROM planned WHERE due IS NOT NULL AND due <= ? ORDER BY due, id",
                (now,),
            )
            self._db.execute("DELETE FROM planned WHERE due IS NOT NULL AND due <= ?", (now,))

    def publish(self, message_id: str, client: str | None, issued: float, body: str) -> int:
        """Publish one notification now (one that was not planned); its sequence."""
        (row,) = self._query(
            "INSERT INTO notifications(message_id, client, issued, body) VALUES (?, ?, ?, ?) RETURNING sequence",
            message_id,
            client,
            issued,
            body,
        )
        return int(row[0])

    def feed(self, client: str | None, after: int, since: float, limit: int) -> list[Published]:
        """Up to ``limit`` notifications of ``client``'s feed (``None``: every one) after sequence ``after``,
        issued at or after ``since``, in feed order."""
        rows = self._query(
            f"{_PUBLISHED} WHERE {_FEED} AND sequence > ? AND issued >= ? ORDER BY sequence LIMIT ?",
            *(client, client, after, since, limit),
        )
        return [Published(*row) for row in rows]

    def expired_through(self, client: str | None, since: float) -> int:
        """The last sequence of ``client``'s feed issued before ``since`` (0 if none): reading is complete after
        it."""
        ((last,),) = self._query(
            f"SELECT MAX(sequence) FROM notifications WHERE {_FEED} AND issued < ?", *(client, client, since)
        )
        return int(last or 0)

    def published_for(self, message_id: str) -> list[Published]:
        """Every published notification that concerns the filing ``message_id``, in feed order."""
        rows = self._query(f"{_PUBLISHED} WHERE message_id = ? ORDER BY sequence", message_id)
        return [Published(*row) for row in rows]

    def planned_for(self, case: str) -> list[Planned]:
        """What ``case`` still has to be notified of, held notifications last."""
        rows = self._query(
            "SELECT case_key, message_id, client, due, offset_s, body FROM planned WHERE case_key = ? "
            "ORDER BY due IS NULL, due, id",
            case,
        )
        return [Planned(*row) for row in rows]

    def release(self, case: str, now: float) -> int:
        """Make ``case``'s held notifications due, each ``offset_s`` after ``now``; how many there were."""
        with self._lock:
            done = self._db.execute(
                "UPDATE planned SET due = ? + offset_s WHERE case_key = ? AND due IS NULL", (now, case)
            )
        return done.rowcount

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
                "DELETE FROM filings; DELETE FROM doc_references; DELETE FROM sequences; DELETE FROM grants; "
                "DELETE FROM planned; DELETE FROM notifications;"
            )


def _grant(row: tuple[Any, ...]) -> Grant:
    number, kind, exporter, valid_until, parent, details = row
    return Grant(number, kind, exporter, valid_until, parent, json.loads(details))
