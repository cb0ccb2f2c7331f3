"""``FakeCustomsEndpoint``: accepts every filing at once, in-process (unit tests, the benchmark's own-cost scenario).

It answers like the mock would for an accepted document, numbering sequentially, and remembers what it was sent.
"""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime

from gateway.ports import Acceptance, CustomsReply, Filing, Reception


class FakeCustomsEndpoint:
    def __init__(self) -> None:
        self.filings: list[Filing] = []

    async def probe(self) -> None:
        return None

    async def file(self, filing: Filing) -> CustomsReply:
        self.filings.append(filing)
        now = datetime.now(UTC)
        sequence = len(self.filings)
        return CustomsReply(
            status="ACCEPTED",
            message_id=filing.message_id,
            document_type=filing.kind,
            reception=Reception(f"00000000{now.year}{sequence:08d}1", now, hashlib.sha256(filing.body).hexdigest()),
            acceptance=Acceptance(official_number=f"FAKE-{sequence:08d}", accepted_at=now),
        )

    async def aclose(self) -> None:
        return None
