"""The example replies of ``contracts/replies/``: valid ``reply.xsd`` documents that say what their names say.

A file is named ``<status>[-<stage>|-with-warning]--<what>.xml``: ``accepted--warehouse-entry.xml``,
``rejected-business--R51-AUT-003.xml``. When ``<what>`` is a customs code, the reply carries that code.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from gateway.contract.customs_codes import BY_CODE
from gateway.contract.replies import read_reply
from gateway.resources import contracts_dir
from gateway.tools.checking import check_file

REPLIES = sorted((contracts_dir() / "replies").glob("*.xml"))


def _name_parts(path: Path) -> tuple[str, str | None, str]:
    head, what = path.stem.split("--", 1)
    status, _, qualifier = head.partition("-")
    return status.upper(), qualifier.upper() or None, what


def test_every_status_and_rejection_stage_has_an_example() -> None:
    kinds = {_name_parts(path)[:2] for path in REPLIES}
    assert {("ACCEPTED", None), ("RECEIVED", None)} <= kinds
    assert {("REJECTED", stage) for stage in ("RECEPTION", "VALIDATION", "BUSINESS")} <= kinds


@pytest.mark.parametrize("path", REPLIES, ids=[path.name for path in REPLIES])
def test_reply_is_valid_and_says_what_its_name_says(path: Path) -> None:
    assert check_file(path) == []  # reply.xsd, with the validate command's detailed messages
    reply = read_reply(path.read_bytes())
    status, qualifier, what = _name_parts(path)
    assert reply.status == status
    if status == "REJECTED":
        assert reply.rejection is not None and reply.acceptance is None
        assert reply.rejection.stage == qualifier
        codes = [error.code for error in reply.rejection.errors]
    elif status == "ACCEPTED":
        assert reply.acceptance is not None and reply.rejection is None and reply.reception is not None
        codes = [warning.code for warning in reply.acceptance.warnings]
        assert all(warning.severity == "WARNING" for warning in reply.acceptance.warnings)
        assert bool(codes) == (qualifier == "WITH-WARNING")
    else:
        assert reply.reception is not None and reply.acceptance is None and reply.rejection is None
        codes = []
    assert all(code in BY_CODE for code in codes), codes
    if what in BY_CODE:
        assert what in codes
    else:
        assert reply.document_type == what
