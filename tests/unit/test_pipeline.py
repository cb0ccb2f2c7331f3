"""The use case with in-process endpoints: every record ends in exactly one outcome."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from adapters.fake_customs_endpoint import FakeCustomsEndpoint
from gateway.errors import PermanentDeliveryError
from gateway.outcomes import Acknowledgment, DeadLetter, Rejection
from gateway.pipeline import InboundRecord, Pipeline
from gateway.ports import CustomsReply, Filing, Reception, RejectionNotice, ReplyError
from gateway.tools.examples import Example
from tests.conftest import example_params

NOW = datetime(2026, 11, 27, 12, 0, tzinfo=UTC)


class ScriptedEndpoint:
    """Answers every filing with the same reply, or raises the same error."""

    def __init__(self, reply: CustomsReply | None = None, error: Exception | None = None) -> None:
        self.reply, self.error, self.filings = reply, error, []  # type: ignore[var-annotated]

    async def file(self, filing: Filing) -> CustomsReply:
        self.filings.append(filing)
        if self.error is not None:
            raise self.error
        assert self.reply is not None
        return self.reply

    async def aclose(self) -> None:
        return None


def _pipeline(endpoint: object) -> Pipeline:
    return Pipeline(endpoint, source="urn:test-gateway", clock=lambda: NOW, max_event_bytes=64 * 1024)  # type: ignore[arg-type]


def _record(example: Example) -> InboundRecord:
    return InboundRecord(example.payload(), example.key(), (), "in", 3, 42)


@pytest.mark.parametrize("example", example_params("accepted"))
async def test_accepted_documents_are_acknowledged(example: Example) -> None:
    endpoint = FakeCustomsEndpoint()
    outcome = await _pipeline(endpoint).process(_record(example))
    assert isinstance(outcome, Acknowledgment)
    assert outcome.data.answered_event_id == example.event_id()
    assert outcome.data.official_number.startswith("FAKE-")
    assert outcome.data.message_id == endpoint.filings[0].message_id
    assert outcome.source == "urn:test-gateway"


@pytest.mark.parametrize("example", example_params("invalid"))
async def test_contract_violations_are_rejected_without_filing(example: Example) -> None:
    endpoint = FakeCustomsEndpoint()
    outcome = await _pipeline(endpoint).process(_record(example))
    assert isinstance(outcome, Rejection)
    assert outcome.data.stage == "CONTRACT" and outcome.data.rejected_by == "gateway"
    assert set(example.codes) <= {e.code for e in outcome.data.errors}
    assert endpoint.filings == []


@pytest.mark.parametrize("example", example_params("dead-letter"))
async def test_undecodable_records_become_dead_letters(example: Example) -> None:
    outcome = await _pipeline(FakeCustomsEndpoint()).process(_record(example))
    assert isinstance(outcome, DeadLetter)
    assert outcome.reason in example.codes
    assert outcome.value == example.payload()


async def test_customs_rejection_names_the_event_field(example_by_name: dict[str, Example]) -> None:
    reply = CustomsReply(
        "REJECTED",
        reception=Reception("179001162026000000011", NOW, "0" * 64),
        rejection=RejectionNotice(
            "BUSINESS",
            (ReplyError("R51-AUT-003", "Plazo excedido", pointer="/aut:AuthorizationRequest/aut:PlannedReturnDate"),),
        ),
    )
    outcome = await _pipeline(ScriptedEndpoint(reply)).process(
        _record(example_by_name["authorization-request/accepted/minimal"])
    )
    assert isinstance(outcome, Rejection)
    (error,) = outcome.data.errors
    assert (error.code, error.path, error.message_es) == (
        "R51-AUT-003",
        "data.planned_return_date",
        "Plazo excedido",
    )
    assert error.message_en == "The time abroad exceeds 2 years from shipment."
    assert outcome.data.submission_number == "179001162026000000011"


async def test_failed_delivery_is_a_dead_letter_with_attempts(example_by_name: dict[str, Example]) -> None:
    error = PermanentDeliveryError("gave up", message_id="m", status_code=503, attempts=6)
    outcome = await _pipeline(ScriptedEndpoint(error=error)).process(
        _record(example_by_name["authorization-request/accepted/minimal"])
    )
    assert isinstance(outcome, DeadLetter)
    assert (outcome.reason, outcome.attempts, outcome.case_id) == ("delivery_failed", 6, "CASE-2026-0001")


async def test_a_bug_parks_the_record_instead_of_losing_it(example_by_name: dict[str, Example]) -> None:
    outcome = await _pipeline(ScriptedEndpoint(error=RuntimeError("boom"))).process(
        _record(example_by_name["authorization-request/accepted/minimal"])
    )
    assert isinstance(outcome, DeadLetter)
    assert (outcome.reason, outcome.error_class) == ("internal_error", "RuntimeError")


async def test_oversized_records_are_not_parsed() -> None:
    outcome = await _pipeline(FakeCustomsEndpoint()).process(InboundRecord(b"{" + b" " * 70_000 + b"}"))
    assert isinstance(outcome, DeadLetter) and outcome.reason == "too_large"


async def test_outcome_ids_are_deterministic(example_by_name: dict[str, Example]) -> None:
    record = _record(example_by_name["authorization-request/accepted/minimal"])
    first = await _pipeline(FakeCustomsEndpoint()).process(record)
    again = await _pipeline(FakeCustomsEndpoint()).process(record)
    assert isinstance(first, Acknowledgment) and isinstance(again, Acknowledgment)
    assert first.id == again.id
    rejected = await _pipeline(ScriptedEndpoint(CustomsReply("REJECTED"))).process(record)
    assert isinstance(rejected, Rejection) and rejected.id != first.id
    assert rejected.data.errors[0].code == "GW-REPLY_UNEXPLAINED"


async def test_company_ruc_failing_mod11_is_a_warning_not_a_rejection(example_by_name: dict[str, Example]) -> None:
    example = example_by_name["authorization-request/accepted/company-ruc-fails-mod11-warning"]
    outcome = await _pipeline(FakeCustomsEndpoint()).process(_record(example))
    assert isinstance(outcome, Acknowledgment)
    (warning,) = outcome.data.warnings
    assert (warning.code, warning.path, warning.severity) == ("GW-RUC_CHECK_DIGIT", "data.applicant.ruc", "warning")
    assert warning.value == "1790011675001"
