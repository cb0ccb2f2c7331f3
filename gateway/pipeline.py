"""The use case, and the only place that orders the steps:

    record -> CloudEvent (either content mode, ``gateway.events.binding``) -> agency -> map (e-document)
        -> XSD-validate -> sign -> file (port) -> outcome

A record the Kafka client could not read (``InboundRecord.unreadable``) stands for its offset range and becomes a
dead letter (``unreadable``) at once.

With agencies configured (``GATEWAY_AGENCIES``), the event's ``sender`` must be one of them (else a contract
rejection, ``GW-AGENCY_UNKNOWN``) and its validated document is signed with that agency's certificate
(``gateway.signing``); without, documents are filed unsigned.

Every record ends in exactly one outcome: an ``Acknowledgment``, a ``Rejection`` or a ``DeadLetter``. Nothing
here knows Kafka or HTTP; the entrypoint (``gateway.kafka``) feeds records in and publishes what comes out.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import Literal, TypedDict

from gateway import gateway_codes
from gateway.contract.customs_codes import BY_CODE
from gateway.documents import DOCUMENTS, Documents
from gateway.errors import DeliveryError, InvalidEvent, UndecodableEvent
from gateway.events import CaseEventBase, binding
from gateway.events.identifiers import ruc_warnings
from gateway.events.validation import FieldError
from gateway.kafka.headers import TRACEPARENT, Headers, text
from gateway.mapping.document import Document
from gateway.outcomes import (
    Acknowledgment,
    AcknowledgmentData,
    DeadLetter,
    Outcome,
    Rejection,
    RejectionData,
    outcome_id,
)
from gateway.ports import CustomsEndpoint, CustomsReply, Filing, ReplyError
from gateway.runtime.logs import add_event_context
from gateway.runtime.tracing import current_traceparent, tracer
from gateway.signing import SigningIdentity

log = logging.getLogger(__name__)

# Outcomes carry the record's key (and dead letters a copy of it in a header): keys are case ids, a longer one is
# refused. A dead letter of a record too large keeps only its beginning, enough to see whose it was: the whole record
# could exceed what the broker takes, and an outcome that cannot be published stops its partition.
MAX_KEY_BYTES = 1024
TOO_LARGE_KEPT_BYTES = 4096


@dataclass(frozen=True, slots=True)
class InboundRecord:
    """One consumed record, as the pipeline needs it (no client types)."""

    value: bytes
    key: bytes | None = None
    headers: Headers = ()
    topic: str = ""
    partition: int = -1
    offset: int = -1
    maybe_redelivered: bool = False  # consumed again after a crash or rebalance: it may have been filed already
    # Records the client could not read at all stand for their offset range (offset to last_offset), with the error.
    last_offset: int | None = None
    unreadable: ReadFailure | None = None


@dataclass(frozen=True, slots=True)
class ReadFailure:
    """Why the records of a range could not be read (a codec, a corrupt batch): the client's error."""

    error_class: str
    detail: str


class _Envelope(TypedDict):
    specversion: Literal["1.0"]
    id: str
    source: str
    subject: str
    time: datetime
    correlationid: str | None


def _now() -> datetime:
    return datetime.now(UTC)


class Pipeline:
    def __init__(
        self,
        endpoint: CustomsEndpoint,
        *,
        source: str,
        max_event_bytes: int = 1_048_576,
        clock: Callable[[], datetime] = _now,
        identities: Mapping[str, SigningIdentity] | None = None,
        documents: Documents = DOCUMENTS,
    ) -> None:
        self._endpoint = endpoint
        self._documents = documents
        self._identities = dict(identities or {})
        self._source = source
        self._max_event_bytes = max_event_bytes
        self._clock = clock

    async def process(self, record: InboundRecord) -> Outcome:
        try:
            return await self._process(record)
        except Exception as exc:  # a bug must not loop a record forever nor drop it: park it, loudly
            log.exception("unexpected error on %s:%s@%s", record.topic, record.partition, record.offset)
            return self._dead_letter(record, "internal_error", type(exc).__name__, str(exc))

    async def _process(self, record: InboundRecord) -> Outcome:
        log.debug("payload %r", record.value[:4096])
        if record.unreadable is not None:
            return self._dead_letter(record, "unreadable", record.unreadable.error_class, record.unreadable.detail)
        try:
            if len(record.value) > self._max_event_bytes or len(record.key or b"") > MAX_KEY_BYTES:
                raise UndecodableEvent(
                    "too_large",
                    detail=f"value of {len(record.value)} bytes (at most {self._max_event_bytes}), key of "
                    f"{len(record.key or b'')} (at most {MAX_KEY_BYTES}); the dead letter keeps the first "
                    f"{TOO_LARGE_KEPT_BYTES} bytes of the value and {MAX_KEY_BYTES} of the key",
                )
            event = self._documents.decode(*binding.structured(record.value, record.headers))
            add_event_context(event_id=event.id, case_id=event.subject, correlation_id=event.correlationid)
            identity = self._identity(event)
            with tracer.start_as_current_span("map"):
                document = self._documents.map_event(event)
            with tracer.start_as_current_span("validate"):
                self._documents.check(event, document)
            if identity is None:
                body = document.to_bytes()
            else:
                with tracer.start_as_current_span("sign"):
                    body = identity.sign(document.root, description=document.kind)
        except UndecodableEvent as exc:
            log.warning("dead letter: %s (%s:%s@%s)", exc, record.topic, record.partition, record.offset)
            return self._dead_letter(record, exc.reason, type(exc).__name__, exc.detail or str(exc))
        except InvalidEvent as exc:
            return self._contract_rejection(record, exc)
        with tracer.start_as_current_span("file", attributes={"ecuapass.document": document.kind}):
            filing = Filing(
                document.kind,
                document.message_id,
                body,
                current_traceparent() or text(record.headers, TRACEPARENT),
                maybe_filed=record.maybe_redelivered,
                agency=event.sender,
            )
            try:
                reply = await self._endpoint.file(filing)
            except DeliveryError as exc:
                log.error("filing %s failed for good: %s", filing.message_id, exc)
                letter = self._dead_letter(
                    record,
                    "delivery_failed",
                    type(exc).__name__,
                    str(exc),
                    attempts=exc.attempts,
                    case_id=event.subject,
                )
                return replace(letter, event_type=event.type, document=document.kind)
        log.info("%s %s: customs answered %s", document.kind, document.message_id, reply.status)
        return self._answer(event, document, reply)

    def _identity(self, event: CaseEventBase) -> SigningIdentity | None:
        """The sender's signing identity; ``None`` when the gateway has no agencies (documents filed unsigned)."""
        if not self._identities:
            return None
        identity = self._identities.get(event.sender)
        if identity is None:
            raise InvalidEvent(
                [_unknown_agency(event.sender)],
                event_id=event.id,
                event_type=event.type,
                source=event.source,
                subject=event.subject,
            )
        return identity

    # -- outcomes -------------------------------------------------------------------------------------------

    def _answer(self, event: CaseEventBase, document: Document, reply: CustomsReply) -> Outcome:
        common = {
            "answered_event_id": event.id,
            "answered_event_type": event.type,
            "case_id": event.subject,
            "document": document.kind,
            "local_reference": event.data.local_reference,
            "message_id": document.message_id,
        }
        if reply.status == "ACCEPTED" and reply.acceptance is not None and reply.reception is not None:
            accepted = reply.acceptance
            return Acknowledgment(
                **self._envelope(event.source, event.id, "accepted", event.subject, event.correlationid),
                data=AcknowledgmentData(
                    **common,
                    submission_number=reply.reception.submission_number,
                    official_number=accepted.official_number,
                    received_at=reply.reception.received_at,
                    accepted_at=accepted.accepted_at,
                    valid_until=accepted.valid_until,
                    inspection_channel=accepted.inspection_channel,
                    warnings=(
                        *ruc_warnings(event),
                        *(_customs_error(w, document) for w in accepted.warnings),
                    ),
                ),
            )
        notice = reply.rejection
        errors = tuple(_customs_error(e, document) for e in notice.errors) if notice else ()
        if not errors:
            errors = (_unexplained(reply),)
        return Rejection(
            **self._envelope(event.source, event.id, "rejected", event.subject, event.correlationid),
            data=RejectionData(
                **common,
                stage=notice.stage if notice else "RECEPTION",
                rejected_by="customs",
                submission_number=reply.reception.submission_number if reply.reception else None,
                errors=errors,
            ),
        )

    def _contract_rejection(self, record: InboundRecord, exc: InvalidEvent) -> Rejection:
        event_id = exc.event_id or ""
        source = exc.source or ""
        subject = exc.subject or (record.key or b"").decode("utf-8", "replace") or "unknown"
        return Rejection(
            **self._envelope(source, event_id, "rejected", subject, None),
            data=RejectionData(
                answered_event_id=event_id,
                answered_event_type=exc.event_type or "",
                case_id=subject,
                stage="CONTRACT",
                rejected_by="gateway",
                errors=exc.errors,
            ),
        )

    def _envelope(
        self,
        source: str,
        event_id: str,
        kind: Literal["accepted", "rejected"],
        subject: str,
        correlation: str | None,
    ) -> _Envelope:
        return {
            "specversion": "1.0",
            "id": outcome_id(source, event_id, kind),
            "source": self._source,
            "subject": subject,
            "time": self._clock(),
            "correlationid": correlation or event_id or None,
        }

    def _dead_letter(
        self,
        record: InboundRecord,
        reason: str,
        error_class: str,
        detail: str,
        *,
        attempts: int = 1,
        case_id: str | None = None,
    ) -> DeadLetter:
        value, key = record.value, record.key
        if reason == "too_large":
            value, key = value[:TOO_LARGE_KEPT_BYTES], key[:MAX_KEY_BYTES] if key is not None else None
        return DeadLetter(
            value=value,
            key=key,
            reason=reason,
            error_class=error_class,
            detail=detail[:1000],
            first_failure=self._clock(),
            attempts=attempts,
            case_id=case_id,
        )


def _customs_error(error: ReplyError, document: Document) -> FieldError:
    known = BY_CODE.get(error.code)
    return FieldError(
        code=error.code,
        path=document.field_for(error.pointer or ""),
        pointer=error.pointer,
        message_es=error.description,
        message_en=known.message_en if known else error.description,
        severity="warning" if error.severity == "WARNING" else "error",
    )


def _unknown_agency(sender: str) -> FieldError:
    return FieldError(
        code="GW-AGENCY_UNKNOWN",
        path="sender",
        value=sender,
        message_es=gateway_codes.BY_CODE["GW-AGENCY_UNKNOWN"].message_es,
        message_en="The sender is not an agency configured on the gateway: it holds no signing certificate or "
        "credentials for it, and files nothing on its behalf.",
    )


def _unexplained(reply: CustomsReply) -> FieldError:
    return FieldError(
        code="GW-REPLY_UNEXPLAINED",
        path="data",
        message_es=f"Aduana respondió {reply.status} sin detallar errores.",
        message_en=f"Customs answered {reply.status} without listing errors.",
    )
