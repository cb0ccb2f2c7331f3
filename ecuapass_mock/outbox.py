"""What customs has to notify, and the feed it serves from it: drafts of notifications, their publication as the
mock's clock passes their time, and the pages of a caller's feed.

    lifecycle.py plans drafts when a warehouse entry is accepted  ->  store.py ``planned``
    Outbox (each feed or admin request, first): the due ones published  ->  store.py ``notifications`` (sequence)
    Outbox.page: one caller's notifications after a cursor, within the retention period  ->  feed.py (XML)

Publication is lazy (when someone looks) rather than a background task: the clock alone decides what is visible,
so a ``ManualClock`` drives tests without sleeps, and nothing runs between requests. A draft is stored as JSON; the
notification id is derived from the sequence (``NTF-`` and 12 digits), so it is never reused either.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import asdict, dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from ecuapass_mock.store import Accepted, FilingStore, Planned, Published
from gateway.contract.feed import FeedGone, FeedPage, feed_element
from gateway.contract.notifications import (
    BY_CODE,
    ECUADOR,
    Concerns,
    Details,
    InspectionAppointment,
    InspectionResult,
    Notification,
    NotificationType,
    Observation,
    Recipient,
)
from gateway.contract.schemas import violations


@dataclass(frozen=True, slots=True)
class Draft:
    """A notification before customs publishes it: what it says and what it concerns, without its id, sequence and
    time, which publication gives it."""

    type: NotificationType
    recipient: Recipient
    concerns: Concerns
    details: Details | None = None
    remark: str | None = None

    def published(self, sequence: int, issued_at: datetime) -> Notification:
        """The notification this draft is once published as ``sequence`` at ``issued_at``."""
        return Notification(
            notification_id(sequence),
            sequence,
            self.type,
            issued_at,
            self.recipient,
            self.concerns,
            self.details,
            self.remark,
        )


class NotOpen(Exception):
    """A case has no observation that can be closed now (none raised yet, or none at all)."""


def notification_id(sequence: int) -> str:
    return f"NTF-{sequence:012d}"


def notification(published: Published) -> Notification:
    """The published row as the contract's record."""
    return decode(published.body).published(published.sequence, datetime.fromtimestamp(published.issued, UTC))


class Outbox:
    """The published notifications over the store, as of the mock's clock; ``retention``: how long one can be read
    again."""

    def __init__(self, store: FilingStore, clock: Callable[[], datetime], retention: timedelta) -> None:
        self._store = store
        self._clock = clock
        self.retention = retention

    def now(self) -> datetime:
        """The mock's time, everything due by then published first."""
        now = self._clock()
        self._store.publish_due(now.timestamp())
        return now

    def page(self, client: str | None, after: int, limit: int) -> FeedPage | FeedGone:
        """Up to ``limit`` notifications of ``client``'s feed (``None``: every notification) after sequence
        ``after``; ``FeedGone`` when some after it are past the retention period (the caller would miss them)."""
        since = (self.now() - self.retention).timestamp()
        oldest = self._store.expired_through(client, since)
        if after < oldest:
            days = f"{self.retention.total_seconds() / 86400:g}"
            description = (
                f"Las notificaciones posteriores a {after} ya no se conservan ({days} días); lea desde {oldest}."
            )
            return FeedGone(str(after), str(oldest), description)
        rows = self._store.feed(client, after, since, limit + 1)
        shown = rows[:limit]
        last = shown[-1].sequence if shown else after
        return FeedPage(str(after), str(last), len(rows) > limit, tuple(map(notification, shown)))

    def publish(self, filing: Accepted, draft: Draft) -> Notification:
        """Publish ``draft`` now, in the feed of whoever filed ``filing``; ``ValueError`` if the feed could not
        carry it (details of another type, a text the XSD refuses): refused here, not on every page after."""
        check(draft)
        now = self.now()
        sequence = self._store.publish(filing.message_id, filing.client, now.timestamp(), encode(draft))
        return draft.published(sequence, now)

    def of_filing(self, message_id: str, case: str | None) -> tuple[list[Notification], list[Planned]]:
        """The notifications published about the filing ``message_id``, and what ``case`` still has planned."""
        self.now()
        published = [notification(row) for row in self._store.published_for(message_id)]
        return published, (self._store.planned_for(case) if case else [])

    def close_observation(self, case: str) -> int:
        """Close ``case``'s open observation: what was held behind it becomes due (``observation-closed`` now);
        ``NotOpen`` when there is none, or it has not been raised yet."""
        now = self.now()
        planned = self._store.planned_for(case)
        if not any(step.due is None for step in planned):
            raise NotOpen("the case has no open observation")
        if any(step.due is not None for step in planned):
            raise NotOpen("the case's observation has not been raised yet")
        return self._store.release(case, now.timestamp())


def check(draft: Draft) -> None:
    """``ValueError`` unless ``draft`` makes a notification valid against ``notifications.xsd``."""
    page = FeedPage("0", "1", False, (draft.published(1, datetime.now(UTC)),))
    try:
        problems = violations("notifications", feed_element(page))
    except ValueError as exc:  # details of another type, or characters XML cannot carry
        raise ValueError(str(exc)) from exc
    if problems:
        raise ValueError(f"{problems[0].message} at {problems[0].path}")


def encode(draft: Draft) -> str:
    """The draft as stored: JSON, times in customs' offset."""
    return json.dumps(
        {
            "type": draft.type.code,
            "recipient": draft.recipient,
            "concerns": asdict(draft.concerns),
            "details": details_json(draft.details),
            "remark": draft.remark,
        },
        ensure_ascii=False,
    )


def decode(body: str) -> Draft:
    data = json.loads(body)
    return Draft(
        BY_CODE[data["type"]],
        data["recipient"],
        Concerns(**data["concerns"]),
        _details(data["details"]),
        data["remark"],
    )


def details_json(details: Details | None) -> dict[str, Any] | None:
    """The details as JSON (the stored drafts and the admin routes)."""
    match details:
        case InspectionAppointment(scheduled_at, place):
            return {"inspection": {"scheduled_at": _iso(scheduled_at), "place": place}}
        case InspectionResult(with_findings, findings):
            return {"inspection_result": {"with_findings": with_findings, "findings": findings}}
        case Observation(text, answer_by):
            return {"observation": {"text": text, "answer_by": _iso(answer_by)}}
    return None


def _details(data: dict[str, Any] | None) -> Details | None:
    if not data:
        return None
    if "inspection" in data:
        found = data["inspection"]
        return InspectionAppointment(datetime.fromisoformat(found["scheduled_at"]), found["place"])
    if "inspection_result" in data:
        found = data["inspection_result"]
        return InspectionResult(found["with_findings"], found["findings"])
    found = data["observation"]
    return Observation(found["text"], datetime.fromisoformat(found["answer_by"]))


def _iso(moment: datetime) -> str:
    return moment.astimezone(ECUADOR).isoformat(timespec="seconds")
