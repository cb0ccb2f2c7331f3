"""The hostile-input corpus (``tests/hostile/``) through the pipeline in memory: every case gets the outcome its
file name says, and no outcome grows with the input. ``tests/integration/test_hostile_input.py`` runs the same
corpus through Kafka."""

from __future__ import annotations

import json

import pytest

from adapters.fake_customs_endpoint import FakeCustomsEndpoint
from gateway import documents, gateway_codes
from gateway.contract.parsing import parse_xml
from gateway.documents import decode
from gateway.kafka.headers import encoded
from gateway.outcomes import Acknowledgment, DeadLetter, Rejection
from gateway.pipeline import MAX_KEY_BYTES, TOO_LARGE_KEPT_BYTES, InboundRecord, Pipeline
from gateway.settings import ProcessingSettings, Settings
from tests.hostile_corpus import HostileCase, hostile_cases

SETTINGS = Settings(processing=ProcessingSettings(max_event_bytes=64 * 1024))
CASES = hostile_cases(SETTINGS)
# However hostile the event, a rejection stays a small record.
MAX_REJECTION_BYTES = 128 * 1024


def test_the_corpus_covers_every_outcome() -> None:
    assert {case.outcome for case in CASES} == {"dead-letter", "rejected", "accepted"}
    assert all(case.reason or case.codes or case.outcome == "accepted" for case in CASES)


@pytest.mark.parametrize("case", CASES, ids=[case.name for case in CASES])
async def test_each_case_gets_the_outcome_its_name_says(case: HostileCase) -> None:
    pipeline = Pipeline(FakeCustomsEndpoint(), source="urn:test", max_event_bytes=SETTINGS.processing.max_event_bytes)
    outcome = await pipeline.process(
        InboundRecord(case.value, case.key, encoded(case.headers.items()), topic="in", partition=0, offset=7)
    )
    if case.outcome == "dead-letter":
        assert isinstance(outcome, DeadLetter), outcome
        assert outcome.reason == case.reason, outcome.detail
        assert len(outcome.value) <= max(TOO_LARGE_KEPT_BYTES, SETTINGS.processing.max_event_bytes)
        assert outcome.key is not None and len(outcome.key) <= MAX_KEY_BYTES
        if case.reason != "too_large":
            assert outcome.value == case.value  # byte for byte
    elif case.outcome == "rejected":
        assert isinstance(outcome, Rejection), outcome
        assert outcome.data.stage == "CONTRACT"
        assert {error.code for error in outcome.data.errors} == case.codes
        assert case.codes <= set(gateway_codes.BY_CODE)  # every code a back-end may get is published
        assert outcome.data.answered_event_id == case.event_id
        assert len(outcome.model_dump_json()) < MAX_REJECTION_BYTES
        assert "\n" not in outcome.subject and len(outcome.subject.encode()) <= MAX_KEY_BYTES
    else:
        assert isinstance(outcome, Acknowledgment), outcome
        _assert_text_round_trips(case.value)


def _assert_text_round_trips(value: bytes) -> None:
    """Markup in text fields is escaped, not interpreted: every such text is one text node of the e-document."""
    document = documents.build(decode(value))
    texts = set(parse_xml(document.to_bytes()).itertext())
    marked = [text for text in _strings(json.loads(value)) if any(c in text for c in "<>&'\"")]
    assert marked and all(text in texts for text in marked), marked


def _strings(value: object) -> list[str]:
    if isinstance(value, dict):
        return [s for item in value.values() for s in _strings(item)]
    if isinstance(value, list):
        return [s for item in value for s in _strings(item)]
    return [value] if isinstance(value, str) else []
