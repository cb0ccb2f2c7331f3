from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from gateway.contract.parsing import parse_xml
from gateway.contract.replies import read_reply, write_reply
from gateway.errors import UnsafeXmlError
from gateway.ports import Acceptance, CustomsReply, Reception, RejectionNotice, ReplyError

NOW = datetime(2026, 11, 27, 12, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    "xml",
    [
        b'<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;">]><r>&lol2;</r>',
        b'<?xml version="1.0"?><!DOCTYPE r [<!ENTITY x SYSTEM "file:///etc/passwd">]><r>&x;</r>',
        b'<?xml version="1.0"?><!DOCTYPE r SYSTEM "http://example.invalid/r.dtd"><r/>',
        b"<r><unclosed></r>",
        b"",
        b"\x00\x01",
    ],
)
def test_hostile_or_broken_xml_is_refused(xml: bytes) -> None:
    with pytest.raises(UnsafeXmlError):
        parse_xml(xml)


def test_size_limit() -> None:
    with pytest.raises(UnsafeXmlError, match="exceeds"):
        parse_xml(b"<r>" + b"a" * 100 + b"</r>", max_bytes=50)


@pytest.mark.parametrize(
    "reply",
    [
        CustomsReply(
            "ACCEPTED",
            "0b7d0c55-3a0e-5d1c-8f6a-51e0c1a5e251",
            "authorization-request",
            Reception("179001162026000000011", NOW, "f" * 64),
            Acceptance(
                "028-2026-AUT51-00000001",
                NOW,
                date(2027, 3, 5),
                None,
                (ReplyError("R51-ID-001", "RUC", "WARNING", "/aut:AuthorizationRequest/aut:Applicant/cmn:Ruc"),),
            ),
        ),
        CustomsReply("REJECTED", rejection=RejectionNotice("RECEPTION", (ReplyError("R51-REC-001", "malformado"),))),
    ],
)
def test_replies_round_trip_through_the_xsd(reply: CustomsReply) -> None:
    assert read_reply(write_reply(reply)) == reply
