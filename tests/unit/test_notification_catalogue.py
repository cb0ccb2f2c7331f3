"""The catalogue of customs notifications and the feed's XML (``gateway/contract/notifications.py``).

Every type has a code, a CloudEvent type, a status group of the fixed set and a source tag ([C], [L], [G]); the XSD
enumerates exactly the catalogue's codes and says it is ours; the XML goes both ways, and the reader refuses what the
XSD alone cannot (details of another type). What the mock really serves is read in
``tests/integration/test_mock_notifications.py``.
"""

from __future__ import annotations

import re
import shutil
from collections.abc import Iterator
from dataclasses import fields
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from lxml import etree

from gateway import resources
from gateway.contract.feed import FeedGone, FeedPage, read_feed, write_feed, write_gone
from gateway.contract.namespaces import NOTIFICATIONS, PREFIXES
from gateway.contract.notifications import (
    BY_CODE,
    CATALOGUE,
    ECUADOR,
    EXIT_AUTHORIZED,
    INSPECTION_CLOSED,
    INSPECTION_SCHEDULED,
    OBSERVATION_RAISED,
    SOURCES,
    STATUS_GROUPS,
    Concerns,
    InspectionAppointment,
    InspectionResult,
    Notification,
    Observation,
)
from gateway.contract.schemas import INITIATED_FILES, compile_all, schema
from gateway.errors import ConfigurationError, UnsafeXmlError
from gateway.resources import contracts_dir, xsd_dir

XS = {"xs": "http://www.w3.org/2001/XMLSchema"}
CONCERNS = Concerns(
    "CASE-2026-0001",
    "5b1e7f02-8c43-4d19-a6e5-0f2d9c7b3a14",
    "export-declaration",
    "028-2026-51-00000001",
    "028-2026-IE51-00000001",
)
AT = datetime(2026, 12, 5, 14, 0, tzinfo=UTC)


def test_every_type_has_a_status_group_and_a_source_tag_of_the_fixed_sets() -> None:
    assert STATUS_GROUPS == ("action-required", "in-progress", "completed", "rejected", "cancelled")
    assert SOURCES == ("C", "L", "G")
    for entry in CATALOGUE:
        assert entry.status_group in STATUS_GROUPS, entry.code
        assert entry.source in SOURCES, entry.code
        assert re.fullmatch(r"[a-z]+(-[a-z]+)+", entry.code), entry.code
        assert entry.cloudevent_type == f"ecuapass.customs.{entry.code}.v1"
        assert entry.meaning.endswith(".") and "\n" not in entry.meaning
    assert len(BY_CODE) == len(CATALOGUE)  # codes are unique


def test_the_types_the_mock_emits_now_are_in_the_catalogue_with_their_groups() -> None:
    groups = {entry.code: entry.status_group for entry in CATALOGUE}
    assert {
        "review-started": "in-progress",
        "inspection-scheduled": "action-required",
        "inspection-closed": "in-progress",
        "observation-raised": "action-required",
        "observation-closed": "in-progress",
        "exit-authorized": "completed",
    }.items() <= groups.items()
    assert {entry.details for entry in CATALOGUE} == {None, InspectionAppointment, InspectionResult, Observation}


def test_the_xsd_enumerates_exactly_the_catalogue_and_says_it_is_ours() -> None:
    path = xsd_dir() / "notifications.xsd"
    tree = etree.parse(str(path))
    codes = tree.xpath("//xs:simpleType[@name='NotificationTypeCode']//xs:enumeration/@value", namespaces=XS)
    assert codes == [entry.code for entry in CATALOGUE]
    assert tree.getroot().get("targetNamespace") == NOTIFICATIONS == PREFIXES["ntf"]
    text = path.read_text(encoding="utf-8")
    assert "NOT AN OFFICIAL SENAE / ECUAPASS SCHEMA" in text and "ours [G]" in text
    assert INITIATED_FILES == {"notifications": "notifications.xsd"}


def _page(*notifications: Notification, after: str = "0", more: bool = False) -> FeedPage:
    last = str(notifications[-1].sequence) if notifications else after
    return FeedPage(after, last, more, notifications)


def test_every_kind_of_details_goes_there_and_back_in_customs_time() -> None:
    page = _page(
        Notification("NTF-000000000007", 7, INSPECTION_SCHEDULED, AT, "WAREHOUSE", CONCERNS,
                     InspectionAppointment(AT + timedelta(days=1), "Depósito temporal OCE 05909371")),
        Notification("NTF-000000000008", 8, INSPECTION_CLOSED, AT, "EXPORTER", CONCERNS,
                     InspectionResult(True, "Dos bultos de más.")),
        Notification("NTF-000000000009", 9, OBSERVATION_RAISED, AT, "EXPORTER", CONCERNS,
                     Observation("Justifique.", AT + timedelta(days=5)), remark="Primera observación"),
        Notification("NTF-000000000010", 10, EXIT_AUTHORIZED, AT, "EXPORTER", Concerns(
            "CASE-2026-0001", CONCERNS.message_id, "export-declaration", "028-2026-51-00000001")),
        after="6",
        more=True,
    )  # fmt: skip
    data = write_feed(page)
    assert b"<ntf:IssuedAt>2026-12-05T09:00:00-05:00</ntf:IssuedAt>" in data
    parsed = read_feed(data)
    assert parsed == page  # the same instants, read back in customs' offset
    assert isinstance(parsed, FeedPage)
    assert {n.issued_at.utcoffset() for n in parsed.notifications} == {timedelta(hours=-5)}
    assert read_feed(write_feed(_page())) == _page()


def test_a_gone_cursor_goes_there_and_back() -> None:
    gone = FeedGone("3", "12", "Las notificaciones posteriores a 3 ya no se conservan.")
    assert read_feed(write_gone(gone)) == gone


def test_details_of_another_type_are_refused_both_ways() -> None:
    wrong = Notification("NTF-000000000001", 1, EXIT_AUTHORIZED, AT, "EXPORTER", CONCERNS, InspectionResult(False))
    with pytest.raises(ValueError, match="exit-authorized"):
        write_feed(_page(wrong))
    missing = Notification("NTF-000000000001", 1, OBSERVATION_RAISED, AT, "EXPORTER", CONCERNS)
    with pytest.raises(ValueError, match="observation-raised"):
        write_feed(_page(missing))
    right = Notification("NTF-000000000001", 1, INSPECTION_CLOSED, AT, "EXPORTER", CONCERNS, InspectionResult(False))
    forged = write_feed(_page(right)).replace(b">inspection-closed<", b">exit-authorized<")  # XSD-valid
    assert schema("notifications").validate(etree.fromstring(forged))
    with pytest.raises(UnsafeXmlError, match="exit-authorized notification cannot carry"):
        read_feed(forged)


@pytest.mark.parametrize(
    ("old", "new"),
    [
        (b">2026-12-05T09:00:00-05:00<", b">2026-12-05T09:00:00<"),  # customs' time without its offset
        (b">NTF-000000000001<", b">NTF-1<"),
        (b">exit-authorized<", b">exit-granted<"),  # not a type of the catalogue
        (b">EXPORTER<", b">BROKER<"),
    ],
)
def test_the_reader_refuses_what_the_xsd_refuses(old: bytes, new: bytes) -> None:
    data = write_feed(_page(Notification("NTF-000000000001", 1, EXIT_AUTHORIZED, AT, "EXPORTER", CONCERNS)))
    assert old in data
    with pytest.raises(UnsafeXmlError, match=r"notifications\.xsd"):
        read_feed(data.replace(old, new))


def test_the_reader_uses_the_hardened_parser() -> None:
    with pytest.raises(UnsafeXmlError, match="DTD"):
        read_feed(b'<?xml version="1.0"?><!DOCTYPE r [<!ENTITY a "a">]><r>&a;</r>')


@pytest.fixture
def data_root(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """A copy of the installed XSDs in place of the installed ones."""
    root = tmp_path / "data"
    shutil.copytree(xsd_dir(), root / "schemas" / "xsd")
    (root / "contracts").symlink_to(contracts_dir())
    monkeypatch.setattr(resources, "data_root", lambda: root)
    schema.cache_clear()
    yield root
    schema.cache_clear()


def test_the_feeds_xsd_is_compiled_at_start_up(data_root: Path) -> None:
    path = data_root / "schemas" / "xsd" / "notifications.xsd"
    path.write_text(path.read_text(encoding="utf-8").replace('type="ntf:CursorType"', 'type="ntf:NoSuchType"', 1))
    with pytest.raises(ConfigurationError, match=r"notifications\.xsd: line \d+: .*NoSuchType"):
        compile_all()


def test_customs_time_is_ecuadors() -> None:
    assert ECUADOR.utcoffset(None) == timedelta(hours=-5)


NOTIFICATIONS_MD = Path(__file__).resolve().parents[2] / "ecuapass_mock" / "NOTIFICATIONS.md"


def _rows(text: str, first: str) -> list[list[str]]:
    """The cells of a markdown table's rows whose first cell matches ``first``."""
    rows = [[cell.strip() for cell in line.strip().strip("|").split("|")] for line in text.splitlines() if "|" in line]
    return [row for row in rows if re.fullmatch(first, row[0])]


def test_the_documented_catalogue_is_the_catalogue() -> None:
    rows = _rows(NOTIFICATIONS_MD.read_text(encoding="utf-8"), r"`[a-z]+(-[a-z]+)+`")
    documented = [(code.strip("`"), group.strip("`"), source) for code, group, source, *_ in rows]
    assert documented == [(e.code, e.status_group, f"[{e.source}]") for e in CATALOGUE]


def test_the_documented_settings_and_paces_are_the_mocks() -> None:
    from ecuapass_mock.feed import FeedSettings
    from ecuapass_mock.lifecycle import PACES, LifecycleSettings

    text = NOTIFICATIONS_MD.read_text(encoding="utf-8")
    variables = [row[0].strip("`") for row in _rows(text, r"`MOCK_[A-Z_]+`")]
    expected = [f"MOCK_LIFECYCLE__{name.upper()}" for name in LifecycleSettings.model_fields]
    assert variables == expected + [f"MOCK_FEED__{name.upper()}" for name in FeedSettings.model_fields]
    paces = {row[0].strip("`"): (row[1], row[2].split()[0]) for row in _rows(text, r"`[a-z_]+`")}
    seconds = {
        pace: {f.name: f"{getattr(t, f.name).total_seconds():g}" for f in fields(t)} for pace, t in PACES.items()
    }
    assert paces == {name: (seconds["dev"][name], seconds["realistic"][name]) for name in seconds["dev"]}
