"""The notification feed over HTTP: what customs notified a caller since its cursor, pulled with the credentials it
files with (the notifications themselves: ``lifecycle.py`` plans them, ``outbox.py`` publishes them).

    GET /api/v1/notifications?after=<cursor>&limit=<n>
        200  NotificationFeed (notifications.xsd): the notifications after ``after`` in feed order, ``Next`` (the
             cursor to ask for next) and ``More`` (more are already there: ask again at once)
        410  FeedGone: notifications after ``after`` are past the retention period; ``Oldest`` is the cursor from
             which reading is complete again
        400  ``after`` or ``limit`` unreadable (JSON); 401/403 as the filing routes; faults as status queries

``after`` defaults to ``0`` (the start of what is retained), ``limit`` to ``feed.page_size``, capped at
``feed.max_page_size``. With bearer tokens (several: one per agency) a caller sees the notifications about the
filings made with its own token; without (client certificates only, or no authentication), every notification.
The cursor is opaque to clients; the mock's is the last sequence read. Everything served is checked against
``notifications.xsd`` first: a mock that would serve an invalid feed answers 500 instead.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import datetime

from lxml import etree
from pydantic import BaseModel, ConfigDict, Field, model_validator
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from ecuapass_mock.access import Access
from ecuapass_mock.api import XML, faulted
from ecuapass_mock.faults import FaultInjector
from ecuapass_mock.metrics import MockMetrics
from ecuapass_mock.outbox import Outbox
from gateway.contract.feed import FeedGone, feed_element, gone_element
from gateway.contract.schemas import violations

_NUMBER = re.compile(r"[0-9]{1,18}")  # what fits SQLite's integers


class FeedSettings(BaseModel):
    """``MOCK_FEED__*``: how long notifications can be read again and how much a page holds."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    retention_days: float = Field(
        14.0,
        gt=0,
        description="How long a notification can be read again (14 days, as the UK's CDS keeps pull "
        "notifications); a cursor older than that answers 410.",
    )
    page_size: int = Field(100, ge=1, description="Notifications per page when the request gives no limit.")
    max_page_size: int = Field(500, ge=1, description="The most notifications a page holds, whatever the limit.")

    @model_validator(mode="after")
    def _page_fits(self) -> FeedSettings:
        if self.page_size > self.max_page_size:
            raise ValueError(f"page_size {self.page_size} > max_page_size {self.max_page_size}")
        return self


class NotificationFeed:
    """The feed route over the outbox, behind the same access rules and faults as the status queries."""

    def __init__(
        self,
        outbox: Outbox,
        settings: FeedSettings,
        access: Access,
        injector: FaultInjector,
        metrics: MockMetrics,
        clock: Callable[[], datetime],
    ) -> None:
        self._outbox = outbox
        self._settings = settings
        self._access = access
        self._injector = injector
        self._metrics = metrics
        self._clock = clock

    def routes(self) -> list[Route]:
        return [Route("/api/v1/notifications", self.notifications, methods=["GET"])]

    async def notifications(self, request: Request) -> Response:
        response = await self._notifications(request)
        if response.status_code != 499:
            self._metrics.requests.labels("notifications", str(response.status_code)).inc()
        return response

    async def _notifications(self, request: Request) -> Response:
        if (refusal := self._access.refusal(request)) is not None:
            return refusal
        draw = self._injector.draw(self._clock(), filing=False)
        if (fault := await faulted(request, draw, self._injector, self._metrics)) is not None:
            return fault
        try:
            after, limit = self._query(request)
        except ValueError as exc:
            return JSONResponse({"error": str(exc)}, status_code=400)
        client = self._access.client(request) if self._access.tokens else None
        answer = self._outbox.page(client, after, limit)
        if isinstance(answer, FeedGone):
            return _served(gone_element(answer), 410)
        return _served(feed_element(answer), 200)

    def _query(self, request: Request) -> tuple[int, int]:
        """``after`` and ``limit`` of the request (``ValueError`` naming the one that cannot be read)."""
        after = request.query_params.get("after", "0")
        limit = request.query_params.get("limit", str(self._settings.page_size))
        if not _NUMBER.fullmatch(after):
            raise ValueError(f"after={after!r}: not a cursor of this feed")
        if not _NUMBER.fullmatch(limit) or int(limit) < 1:
            raise ValueError(f"limit={limit!r}: a positive integer is expected")
        return int(after), min(int(limit), self._settings.max_page_size)


def _served(root: etree._Element, status_code: int) -> Response:
    """``root`` as the answer, once it is known to follow ``notifications.xsd``."""
    problems = violations("notifications", root)
    if problems:
        found = [f"{p.message} at {p.path}" for p in problems]
        return JSONResponse({"error": "the mock built a feed that breaks notifications.xsd", "violations": found}, 500)
    return Response(etree.tostring(root, xml_declaration=True, encoding="UTF-8"), status_code, media_type=XML)
