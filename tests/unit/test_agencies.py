"""Several agencies on one gateway, in process: agencies from the environment (JSON and nested variables), the
pipeline signing with the sender's certificate and rejecting unknown senders, the endpoint routed by agency, and
start-up refusing an agency it cannot sign for."""

from __future__ import annotations

import json
import logging
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from lxml import etree
from pydantic import ValidationError

from adapters.fake_customs_endpoint import FakeCustomsEndpoint
from adapters.http_customs_endpoint import HttpCustomsEndpoint
from adapters.per_agency_customs_endpoint import PerAgencyCustomsEndpoint
from gateway.bootstrap import build_gateway, customs_endpoint
from gateway.contract.namespaces import DSIG
from gateway.documents import decode
from gateway.errors import ConfigurationError, PermanentDeliveryError
from gateway.outcomes import Acknowledgment, Rejection
from gateway.pipeline import InboundRecord, Pipeline
from gateway.ports import CustomsReply, Filing
from gateway.runtime.circuit import CircuitBreaker
from gateway.runtime.metrics import GatewayMetrics
from gateway.settings import AgencySettings, EcuapassSettings, Settings
from gateway.signing import SigningIdentity, load_identity
from gateway.tools.examples import Example
from tests.signing_certificates import AgencyCertificate, SigningAuthority, agency

MINIMAL = "authorization-request/accepted/minimal"
SENDER = "1790011674001"  # the sender of the minimal authorization example
OTHER = "0992339411001"
WRONG_PASSWORD = "Wr0ng-p12-password"
UNO_PASSWORD = "pw-uno-123"
BASE_TOKEN = "base-token-123"
AGENCY_TOKEN = "agency-token-0123456789"
SHARED_TOKEN = "shared-token-0123456789"


@pytest.fixture(scope="module")
def sender_certificate(certificate_folder: Path, ca: SigningAuthority) -> AgencyCertificate:
    return agency(certificate_folder, ca, SENDER)


@pytest.fixture(scope="module")
def identity(sender_certificate: AgencyCertificate) -> SigningIdentity:
    return load_identity(SENDER, AgencySettings(certificate=sender_certificate.certificate, key=sender_certificate.key))


def _record(example: Example, **changes: str) -> InboundRecord:
    event = json.loads(example.payload())
    event.update(changes)
    return InboundRecord(json.dumps(event).encode(), example.key(), {}, "in", 0, 7)


# -- settings ----------------------------------------------------------------------------------------------------


def test_agencies_come_from_json_or_nested_variables(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv(
        "GATEWAY_AGENCIES",
        json.dumps({SENDER: {"name": "Uno", "certificate": str(tmp_path / "uno.p12"), "password": UNO_PASSWORD}}),
    )
    from_json = Settings().agencies
    assert set(from_json) == {SENDER} and from_json[SENDER].name == "Uno"
    assert from_json[SENDER].certificate == tmp_path / "uno.p12"
    assert from_json[SENDER].password is not None and from_json[SENDER].password.get_secret_value() == UNO_PASSWORD
    monkeypatch.delenv("GATEWAY_AGENCIES")
    monkeypatch.setenv(f"GATEWAY_AGENCIES__{SENDER}__CERTIFICATE", str(tmp_path / "uno.pem"))
    monkeypatch.setenv(f"GATEWAY_AGENCIES__{SENDER}__KEY", str(tmp_path / "uno.key"))
    monkeypatch.setenv(f"GATEWAY_AGENCIES__{SENDER}__TOKEN_FILE", str(tmp_path / "uno.token"))
    monkeypatch.setenv(f"GATEWAY_AGENCIES__{OTHER}__CERTIFICATE", str(tmp_path / "dos.pfx"))
    monkeypatch.setenv(f"GATEWAY_AGENCIES__{OTHER}__PASSWORD_FILE", str(tmp_path / "dos.password"))
    nested = Settings().agencies
    assert set(nested) == {SENDER, OTHER}
    assert (nested[SENDER].key, nested[SENDER].token_file) == (tmp_path / "uno.key", tmp_path / "uno.token")
    assert nested[OTHER].password_file == tmp_path / "dos.password"


@pytest.mark.parametrize(
    ("agencies", "message"),
    [
        ({"17900116740": {"certificate": "a.p12"}}, "13-digit RUC"),
        ({SENDER: {}}, "certificate"),
        ({SENDER: {"certificate": "a.p12", "password": "x", "password_file": "p"}}, "not both"),
        ({SENDER: {"certificate": "a.p12", "key": "a.key"}}, "key is for PEM certificates"),
        ({SENDER: {"certificate": "a.pem", "ssl_keyfile": "k.pem"}}, "ssl_keyfile needs ssl_certfile"),
        ({SENDER: {"certificate": "a.pem", "ssl_certfile": "c.pem"}}, "needs an https:// ecuapass url"),
        ({SENDER: {"certificate": "a.pem", "colour": "blue"}}, "Extra inputs are not permitted"),
    ],
)
def test_inconsistent_agencies_are_refused(agencies: dict[str, object], message: str) -> None:
    with pytest.raises(ValidationError, match=message):
        Settings(agencies=agencies)  # type: ignore[arg-type]


def test_an_agency_overrides_only_the_credentials_it_has(tmp_path: Path) -> None:
    base = EcuapassSettings(url="https://customs.example/", token=BASE_TOKEN, read_timeout_s=7)  # type: ignore[arg-type]
    own = AgencySettings(certificate=tmp_path / "a.pem", token_file=tmp_path / "token", ssl_certfile=tmp_path / "c.pem")
    merged = own.endpoint(base)
    assert merged.token is None and merged.token_file == tmp_path / "token"
    assert merged.ssl_certfile == tmp_path / "c.pem" and merged.ssl_keyfile is None
    assert (merged.url, merged.read_timeout_s) == (base.url, 7)
    assert AgencySettings(certificate=tmp_path / "a.pem").endpoint(base) == base


# -- the pipeline ------------------------------------------------------------------------------------------------


async def test_the_senders_document_is_signed_and_filed_for_its_agency(
    example_by_name: dict[str, Example], identity: SigningIdentity
) -> None:
    endpoint = FakeCustomsEndpoint()
    pipeline = Pipeline(endpoint, source="urn:test", identities={SENDER: identity})
    outcome = await pipeline.process(_record(example_by_name[MINIMAL]))
    assert isinstance(outcome, Acknowledgment)
    (filing,) = endpoint.filings
    assert filing.agency == SENDER
    root = etree.fromstring(filing.body)
    assert root[-1].tag == f"{{{DSIG}}}Signature"


async def test_without_agencies_documents_are_filed_unsigned(example_by_name: dict[str, Example]) -> None:
    endpoint = FakeCustomsEndpoint()
    await Pipeline(endpoint, source="urn:test").process(_record(example_by_name[MINIMAL]))
    (filing,) = endpoint.filings
    assert etree.fromstring(filing.body).find(f".//{{{DSIG}}}Signature") is None and filing.agency == SENDER


async def test_an_unknown_sender_is_rejected_by_the_gateway_without_filing(
    example_by_name: dict[str, Example], identity: SigningIdentity
) -> None:
    endpoint = FakeCustomsEndpoint()
    pipeline = Pipeline(endpoint, source="urn:test", identities={SENDER: identity})
    outcome = await pipeline.process(_record(example_by_name[MINIMAL], sender=OTHER, id="evt-unknown-agency"))
    assert isinstance(outcome, Rejection) and endpoint.filings == []
    assert (outcome.data.stage, outcome.data.rejected_by) == ("CONTRACT", "gateway")
    assert outcome.data.answered_event_id == "evt-unknown-agency"
    assert outcome.data.case_id == decode(example_by_name[MINIMAL].payload()).subject
    (error,) = outcome.data.errors
    assert (error.code, error.path, error.value, error.severity) == ("GW-AGENCY_UNKNOWN", "sender", OTHER, "error")
    assert "agencia" in error.message_es and "agency" in error.message_en


# -- the endpoint, routed by agency ------------------------------------------------------------------------------


class _Refusing(FakeCustomsEndpoint):
    async def probe(self) -> None:
        raise ConfigurationError("the endpoint refused the credentials (HTTP 401)")


async def test_filings_go_through_their_agencys_endpoint() -> None:
    first, second = FakeCustomsEndpoint(), FakeCustomsEndpoint()
    router = PerAgencyCustomsEndpoint({SENDER: first, OTHER: second})
    reply = await router.file(Filing("authorization-request", "m-1", b"<x/>", agency=OTHER))
    assert isinstance(reply, CustomsReply) and second.filings and not first.filings
    with pytest.raises(PermanentDeliveryError, match="no endpoint credentials for the filing's agency"):
        await router.file(Filing("authorization-request", "m-2", b"<x/>", agency="1234567890001"))
    await router.probe()


async def test_a_refused_probe_is_raised_as_the_endpoint_raised_it() -> None:
    """Each HTTP endpoint names the agencies whose credentials it holds itself (tests/unit/test_setting_names.py):
    the router adds nothing."""
    shared = _Refusing()
    router = PerAgencyCustomsEndpoint({SENDER: FakeCustomsEndpoint(), OTHER: shared, "0190678342001": shared})
    with pytest.raises(ConfigurationError) as caught:
        await router.probe()
    assert str(caught.value) == "the endpoint refused the credentials (HTTP 401)"


async def test_agencies_share_an_http_endpoint_unless_they_have_their_own_credentials(
    sender_certificate: AgencyCertificate, tmp_path: Path
) -> None:
    token = tmp_path / "token"
    token.write_text(AGENCY_TOKEN, encoding="utf-8")
    pem = {"certificate": sender_certificate.certificate, "key": sender_certificate.key}
    settings = Settings(
        ecuapass=EcuapassSettings(token=SHARED_TOKEN),  # type: ignore[arg-type]
        agencies={
            SENDER: AgencySettings(**pem),
            "0190678342001": AgencySettings(**pem),
            OTHER: AgencySettings(**pem, token_file=token),
        },
    )
    breaker, metrics = CircuitBreaker(), GatewayMetrics()
    router = customs_endpoint(settings, breaker, metrics)
    try:
        assert isinstance(router, PerAgencyCustomsEndpoint)
        shared, own = router.for_agency(SENDER), router.for_agency(OTHER)
        assert isinstance(shared, HttpCustomsEndpoint) and isinstance(own, HttpCustomsEndpoint)
        assert router.for_agency("0190678342001") is shared and own is not shared
    finally:
        await router.aclose()


# -- start-up ----------------------------------------------------------------------------------------------------


def test_start_up_fails_on_an_agency_it_cannot_sign_for(sender_certificate: AgencyCertificate) -> None:
    wrong = WRONG_PASSWORD
    settings = Settings(
        agencies={SENDER: AgencySettings(name="Uno", certificate=sender_certificate.pkcs12, password=wrong)}
    )
    with pytest.raises(ConfigurationError, match=r"agency \*{10}001 \(Uno\): cannot open the PKCS#12") as caught:
        build_gateway(settings, endpoint=FakeCustomsEndpoint())
    assert wrong not in str(caught.value) and sender_certificate.password not in str(caught.value)
    assert SENDER not in str(caught.value)
    mismatched = Settings(
        agencies={OTHER: AgencySettings(certificate=sender_certificate.pkcs12, password=sender_certificate.password)}
    )
    with pytest.raises(ConfigurationError, match=r"agency \*{10}001: .*RUC found \*{10}001"):
        build_gateway(mismatched, endpoint=FakeCustomsEndpoint())


EXPIRY = "ecuapass_gateway_signing_certificate_expiry_timestamp_seconds"


def test_each_agencys_certificate_end_is_a_metric(
    sender_certificate: AgencyCertificate, certificate_folder: Path, ca: SigningAuthority
) -> None:
    other = agency(certificate_folder, ca, OTHER, stem="other-agency")
    settings = Settings(
        agencies={
            SENDER: AgencySettings(
                name="Agencia Uno", certificate=sender_certificate.certificate, key=sender_certificate.key
            ),
            OTHER: AgencySettings(certificate=other.certificate, key=other.key),
        }
    )
    metrics = build_gateway(settings, endpoint=FakeCustomsEndpoint()).metrics.registry
    for ruc, label, made in ((SENDER, "Agencia Uno", sender_certificate), (OTHER, "**********001", other)):
        end = load_identity(ruc, AgencySettings(certificate=made.certificate, key=made.key)).certificate
        assert metrics.get_sample_value(EXPIRY, {"agency": label}) == end.not_valid_after_utc.timestamp()
    assert metrics.get_sample_value(EXPIRY, {"agency": OTHER}) is None  # never the RUC itself


def test_a_certificate_near_its_end_is_announced_at_start_up(
    certificate_folder: Path, ca: SigningAuthority, caplog: pytest.LogCaptureFixture
) -> None:
    ending = agency(certificate_folder, ca, SENDER, stem="ending", valid_until=datetime.now(UTC) + timedelta(days=10))
    settings = Settings(agencies={SENDER: AgencySettings(certificate=ending.certificate, key=ending.key)})
    with caplog.at_level(logging.WARNING, logger="gateway.bootstrap"):
        build_gateway(settings, endpoint=FakeCustomsEndpoint())
    (warning,) = [r.getMessage() for r in caplog.records if "expires on" in r.getMessage()]
    assert "in 9 days" in warning and "agency **********001" in warning and SENDER not in warning


def test_a_certificate_far_from_its_end_is_not_announced(
    certificate_folder: Path, ca: SigningAuthority, caplog: pytest.LogCaptureFixture
) -> None:
    lasting = agency(certificate_folder, ca, SENDER, stem="lasting", valid_until=datetime.now(UTC) + timedelta(days=60))
    settings = Settings(agencies={SENDER: AgencySettings(certificate=lasting.certificate, key=lasting.key)})
    with caplog.at_level(logging.WARNING, logger="gateway.bootstrap"):
        build_gateway(settings, endpoint=FakeCustomsEndpoint())
    assert not [r for r in caplog.records if "expires on" in r.getMessage()]
