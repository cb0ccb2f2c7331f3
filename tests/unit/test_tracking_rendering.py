"""``gateway.tools.tracking`` without a broker: outcome records read into entries, masking, and both renderings."""

from __future__ import annotations

import io
import json
from datetime import UTC, date, datetime

import pytest

from gateway.events.validation import FieldError
from gateway.kafka.records import OutcomeName, Received
from gateway.outcomes import Acknowledgment, AcknowledgmentData, Rejection, RejectionData
from gateway.runtime.logs import mask
from gateway.tools.tracking import Printer
from gateway.tools.tracking.entries import Entry, entry_from_record
from gateway.tools.tracking.masking import mask_identifier, masked

AT = datetime(2026, 11, 20, 19, 30, tzinfo=UTC)
RUC = "1710034064001"  # a natural person's RUC: it carries their cédula
CEDULA = "1710034065"


def _entry(
    outcome: OutcomeName,
    value: bytes,
    headers: dict[str, str],
    *,
    key: bytes | None = None,
    timestamp: datetime | None = None,
) -> Entry | None:
    return entry_from_record(Received(outcome, value, headers, key=key, timestamp=timestamp))


def _rejection(errors: tuple[FieldError, ...]) -> bytes:
    return (
        Rejection(
            specversion="1.0",
            id="7c1f6d3a-0000-5000-8000-000000000001",
            source="urn:ecuapass-gateway:test",
            subject="CASE-2026-0202",
            time=AT,
            data=RejectionData(
                answered_event_id="evt-1",
                answered_event_type="ecuapass.regime51.authorization-requested.v1",
                case_id="CASE-2026-0202",
                stage="CONTRACT",
                rejected_by="gateway",
                errors=errors,
            ),
        )
        .model_dump_json()
        .encode()
    )


def _ruc_error() -> FieldError:
    return FieldError(
        code="GW-RUC_INVALID",
        path="data.applicant.ruc",
        value=RUC,
        message_es="El RUC no es válido.",
        message_en=f"{RUC} is not a valid natural-person RUC (cédula + establishment)",
    )


def _render(entry: Entry, *, json_lines: bool) -> str:
    out = io.StringIO()
    Printer(json_lines=json_lines, stream=out).show(entry)
    return out.getvalue()


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (RUC, "**********001"),
        (CEDULA, "*******065"),
        (f"applicant {RUC}, holder {CEDULA}.", "applicant **********001, holder *******065."),
        ("submission 202611200000000000417", "submission 202611200000000000417"),  # 21 digits: not a person
        ("028-2026-AUT51-00000001", "028-2026-AUT51-00000001"),
        ("OCE 17900116, 12 digits 123456789012", "OCE 17900116, 12 digits 123456789012"),
    ],
)
def test_mask_hides_all_but_the_last_three_digits_of_cedulas_and_rucs(text: str, expected: str) -> None:
    assert mask(text) == expected


def test_mask_identifier_whatever_the_shape() -> None:
    assert mask_identifier("17100340") == "*****340"
    assert mask_identifier("12") == "**"


def test_identifier_fields_are_masked_in_values_and_messages_tariff_codes_are_not() -> None:
    entry = _entry(
        "rejected",
        _rejection(
            (
                _ruc_error(),
                FieldError(
                    code="GW-STRING_PATTERN_MISMATCH",
                    path="sender",
                    value="17900116",  # not 10 or 13 digits, still an identifier field
                    message_es="No tiene el formato requerido.",
                    message_en="String should match pattern '^\\d{13}$'",
                ),
                FieldError(
                    code="GW-STRING_PATTERN_MISMATCH",
                    path="data.items[0].tariff_code",
                    value="7710110000",
                    message_es="No tiene el formato requerido.",
                    message_en="String should match pattern",
                ),
                FieldError(
                    code="GW-EXTRA_FORBIDDEN",
                    path="data.notes",
                    value={"holder_ruc": "0990017212001", "note": f"cédula {CEDULA}"},
                    message_es="Campo no permitido por el contrato.",
                    message_en="Extra inputs are not permitted",
                ),
            )
        ),
        {},
    )
    assert entry is not None
    assert entry.document == "authorization-request"  # a contract rejection names none: from the event type
    ruc, sender, tariff, extra = masked(entry).errors
    assert ruc.value == "**********001" and RUC not in ruc.message_en and "**********001" in ruc.message_en
    assert sender.value == "*****116"
    assert tariff.value == "7710110000"
    assert extra.value == {"holder_ruc": "**********001", "note": "cédula *******065"}
    assert entry.errors[0].value == RUC  # the entry itself is untouched


@pytest.mark.parametrize("json_lines", [False, True])
def test_renderings_never_show_an_identifier(json_lines: bool) -> None:
    entry = _entry("rejected", _rejection((_ruc_error(),)), {})
    assert entry is not None
    letter = Entry(
        time=AT,
        outcome="dead-letter",
        case_id="CASE-X",
        reason="not_a_cloudevent",
        error_class="UndecodableEvent",
        detail=f"bad or missing attributes: input_value={{'sender': '{RUC}'}}",
    )
    shown = _render(entry, json_lines=json_lines) + _render(letter, json_lines=json_lines)
    assert RUC not in shown and "**********001" in shown
    assert "GW-RUC_INVALID" in shown and "data.applicant.ruc" in shown


def test_acknowledgment_record_to_entry_and_json_line() -> None:
    ack = Acknowledgment(
        specversion="1.0",
        id="0f0e0d0c-0000-5000-8000-000000000002",
        source="urn:ecuapass-gateway:test",
        subject="CASE-2026-0001",
        time=AT,
        data=AcknowledgmentData(
            answered_event_id="evt-2",
            answered_event_type="ecuapass.regime51.authorization-requested.v1",
            case_id="CASE-2026-0001",
            document="authorization-request",
            local_reference="SOL-2026-0001",
            message_id="b1c2",
            submission_number="202611200000000000001",
            official_number="028-2026-AUT51-00000001",
            received_at=AT,
            accepted_at=AT,
            valid_until=date(2027, 6, 30),
            warnings=(
                FieldError(
                    code="GW-RUC_CHECK_DIGIT",
                    path="sender",
                    value="1790011674001",
                    severity="warning",
                    message_es="El RUC no cumple el dígito verificador módulo 11; se presenta igualmente.",
                    message_en="the RUC fails the mod-11 check digit",
                ),
            ),
        ),
    )
    entry = _entry("accepted", ack.model_dump_json().encode(), {"ecuapass.replay.count": "2"}, key=b"CASE-2026-0001")
    assert entry is not None
    assert (entry.outcome, entry.time, entry.document, entry.official_number) == (
        "accepted",
        AT,
        "authorization-request",
        "028-2026-AUT51-00000001",
    )
    assert (entry.valid_until, entry.replay_count, entry.event_id) == ("2027-06-30", 2, "evt-2")
    line = json.loads(_render(entry, json_lines=True))
    assert list(line) == list(Entry.__dataclass_fields__)  # stable keys, all present
    assert line["warnings"][0]["value"] == "**********001"
    readable = _render(entry, json_lines=False)
    assert "ACCEPTED" in readable and "028-2026-AUT51-00000001" in readable and "GW-RUC_CHECK_DIGIT" in readable


def test_dead_letter_record_names_the_event_it_kept() -> None:
    value = json.dumps(
        {"id": "evt-3", "type": "ecuapass.regime51.export-declaration-submitted.v1", "subject": "CASE-9", "data": {}}
    ).encode()
    headers = {
        "dlq.reason": "delivery_failed",
        "dlq.error.class": "PermanentDeliveryError",
        "dlq.attempts": "3",
        "dlq.detail": "HTTP 400",
        "dlq.original.topic": "in",
        "dlq.original.partition": "2",
        "dlq.original.offset": "17",
        "dlq.original.key": "CASE-9",
        "dlq.last.failure": "2026-11-20T19:30:00Z",
    }
    entry = _entry("dead-letter", value, headers)
    assert entry == Entry(
        time=AT,
        outcome="dead-letter",
        case_id="CASE-9",
        document="export-declaration",
        event_id="evt-3",
        event_type="ecuapass.regime51.export-declaration-submitted.v1",
        reason="delivery_failed",
        error_class="PermanentDeliveryError",
        attempts=3,
        detail="HTTP 400",
        original_record="in:2:17",
    )
    stamped = _entry("dead-letter", b"{broken", {}, key=b"CASE-1", timestamp=datetime(2026, 1, 1, tzinfo=UTC))
    assert stamped is not None and (stamped.case_id, stamped.time.year) == ("CASE-1", 2026)


def test_a_record_that_is_no_outcome_is_skipped() -> None:
    assert _entry("accepted", b"not json", {}) is None
    assert _entry("rejected", b'{"data": 3}', {}) is None
