"""Two agencies on one gateway, on the real broker, filing with the real mock over HTTP; the mock requires signed
documents, trusts the test signing CA only, and knows each agency's bearer token by name.

What is checked: events of both agencies are signed with their own certificate (the mock verifies each signature and
that its certificate's RUC is the sender's), filed with their own token (the mock records which token filed which
document) and acknowledged; an event of a third sender is rejected by the gateway (``GW-AGENCY_UNKNOWN``) and never
reaches the mock; events keep flowing afterwards. A gateway without agencies gets its unsigned documents refused
(``R51-SIG-001``). ``ecuapass-gateway mock`` takes its signature settings from ``MOCK_SIGNATURE_CA`` and
``MOCK_REQUIRE_SIGNATURE`` and answers a tampered document with its code over HTTP. An agency whose token the
endpoint refuses stops start-up with a message naming that agency only.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from lxml import etree

from ecuapass_mock.server import MockServer
from ecuapass_mock.signatures import SignatureCheck
from gateway import documents
from gateway.bootstrap import build_gateway
from gateway.contract.replies import read_reply
from gateway.devstack.broker import TansuBroker
from gateway.devstack.demo import OutcomeReader
from gateway.documents import decode
from gateway.errors import ConfigurationError
from gateway.kafka.topics import ensure_topics
from gateway.settings import AgencySettings, EcuapassSettings, Settings
from gateway.signing import load_identity
from gateway.tools.examples import Example
from tests.integration.conftest import authorization_events, collect, make_settings, publish
from tests.integration.test_mock_process import mock_process
from tests.signing_certificates import AgencyCertificate, SigningAuthority, agency

AGENCY_A = "1790011674001"
AGENCY_B = "0992339411001"
UNKNOWN = "0190678342001"
TOKEN_A = "agency-A-t0ken-not-to-log"
TOKEN_B = "agency-B-t0ken-not-to-log"
WRONG_TOKEN_B = "agency-B-wr0ng-t0ken-not-to-log"


@pytest.fixture(scope="module")
def certificates(certificate_folder: Path, ca: SigningAuthority) -> dict[str, AgencyCertificate]:
    return {ruc: agency(certificate_folder, ca, ruc) for ruc in (AGENCY_A, AGENCY_B)}


@pytest.fixture
def signing_mock(tmp_path: Path, ca: SigningAuthority) -> Iterator[MockServer]:
    with MockServer(
        tmp_path / "mock.sqlite3",
        require_token={"agency-a": TOKEN_A, "agency-b": TOKEN_B},
        signatures=SignatureCheck(ca.path, required=True),
    ) as server:
        yield server


def _agencies(certificates: dict[str, AgencyCertificate], certificate_folder: Path) -> dict[str, AgencySettings]:
    """Agency A from PKCS#12 with its token inline, agency B from PEM with its token in a file."""
    a, b = certificates[AGENCY_A], certificates[AGENCY_B]
    token_b = certificate_folder / "token-b"
    token_b.write_text(TOKEN_B + "\n", encoding="utf-8")
    return {
        AGENCY_A: AgencySettings(name="Agencia A", certificate=a.pkcs12, password=a.password, token=TOKEN_A),
        AGENCY_B: AgencySettings(name="Agencia B", certificate=b.certificate, key=b.key, token_file=token_b),
    }


def _events(example_by_name: dict[str, Example], sender: str, prefix: str) -> list[tuple[bytes, bytes, str]]:
    template = json.loads(example_by_name["authorization-request/accepted/minimal"].payload())
    template["sender"] = sender
    return authorization_events(json.dumps(template).encode(), cases=3, per_case=2, prefix=prefix)


def _data(outcomes: list[object]) -> dict[str, object]:
    (outcome,) = outcomes
    body = outcome.body()  # type: ignore[attr-defined]
    data = body["data"]
    assert isinstance(data, dict)
    return data


async def test_two_agencies_sign_and_file_with_their_own_credentials(
    broker: TansuBroker,
    signing_mock: MockServer,
    certificates: dict[str, AgencyCertificate],
    certificate_folder: Path,
    example_by_name: dict[str, Example],
) -> None:
    settings = make_settings(
        broker.bootstrap_servers, signing_mock.url, agencies=_agencies(certificates, certificate_folder)
    )
    await ensure_topics(settings)
    gateway = build_gateway(settings)
    await gateway.start()
    await gateway.wait_assigned()
    reader = OutcomeReader(settings)
    await reader.start()
    try:
        first_a, first_b = _events(example_by_name, AGENCY_A, "sa"), _events(example_by_name, AGENCY_B, "sb")
        stranger = _events(example_by_name, UNKNOWN, "sx")[:2]
        await publish(settings, [*first_a, *stranger, *first_b])
        found = await collect(reader, {e for _, _, e in [*first_a, *first_b, *stranger]}, timeout_s=60)

        for _, _, event_id in stranger:
            data = _data(found[event_id])
            assert (data["stage"], data["rejected_by"]) == ("CONTRACT", "gateway")
            assert [(e["code"], e["path"], e["value"]) for e in data["errors"]] == [  # type: ignore[attr-defined, index]
                ("GW-AGENCY_UNKNOWN", "sender", UNKNOWN)
            ]
        filed_by = httpx.get(f"{signing_mock.url}/admin/clients").json()
        for events, client in ((first_a, "agency-a"), (first_b, "agency-b")):
            for _, _, event_id in events:
                data = _data(found[event_id])
                assert data.get("official_number"), data  # accepted: the mock verified the signature and its RUC
                assert filed_by[data["message_id"]] == client  # filed with the agency's own token
        assert len(filed_by) == len(first_a) + len(first_b)  # the stranger's events never reached customs

        # After the rejections, both agencies' events still flow.
        later = [*_events(example_by_name, AGENCY_B, "lb")[:2], *_events(example_by_name, AGENCY_A, "la")[:2]]
        await publish(settings, later)
        found = await collect(reader, {e for _, _, e in later}, timeout_s=60, found=found)
        assert all(_data(found[e]).get("official_number") for _, _, e in later)
    finally:
        await reader.stop()
        await gateway.stop()
    metrics = httpx.get(f"{signing_mock.url}/metrics").text
    assert 'status="REJECTED"' not in metrics  # no document was refused by the mock (signature, token, rules)


async def test_a_gateway_without_agencies_files_unsigned_and_is_refused_where_signatures_are_required(
    broker: TansuBroker,
    signing_mock: MockServer,
    example_by_name: dict[str, Example],
    caplog: pytest.LogCaptureFixture,
) -> None:
    settings: Settings = make_settings(
        broker.bootstrap_servers,
        signing_mock.url,
        ecuapass=EcuapassSettings(url=signing_mock.url, token=TOKEN_A, read_timeout_s=5.0),  # type: ignore[arg-type]
    )
    await ensure_topics(settings)
    gateway = build_gateway(settings)
    with caplog.at_level(logging.INFO, logger="gateway.kafka.service"):
        await gateway.start()
    warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING and "unsigned" in r.getMessage()]
    assert len(warnings) == 1 and "no agencies configured" in warnings[0]
    await gateway.wait_assigned()
    reader = OutcomeReader(settings)
    await reader.start()
    try:
        events = _events(example_by_name, AGENCY_A, "unsigned")[:1]
        await publish(settings, events)
        found = await collect(reader, {events[0][2]}, timeout_s=60)
        data = _data(found[events[0][2]])
        assert (data["stage"], data["rejected_by"]) == ("RECEPTION", "customs")
        assert [e["code"] for e in data["errors"]] == ["R51-SIG-001"]  # type: ignore[attr-defined, index]
    finally:
        await reader.stop()
        await gateway.stop()


def test_the_mock_process_checks_signatures_as_configured_by_its_environment(
    ca: SigningAuthority, certificates: dict[str, AgencyCertificate], example_by_name: dict[str, Example]
) -> None:
    document = documents.build(decode(example_by_name["authorization-request/accepted/minimal"].payload()))
    made = certificates[AGENCY_A]
    signed = load_identity(AGENCY_A, AgencySettings(certificate=made.certificate, key=made.key)).sign(document.root)
    tampered = etree.fromstring(signed)
    reference = tampered.find("*/{*}FunctionalReference")
    assert reference is not None
    reference.text = "SOL-TAMPERED-01"
    headers = {"Content-Type": "application/xml"}
    env = {"MOCK_SIGNATURE_CA": str(ca.path), "MOCK_REQUIRE_SIGNATURE": "true"}
    with mock_process(env=env) as (_, url):

        def code(body: bytes) -> str | None:
            reply = read_reply(httpx.post(f"{url}/api/v1/documents", content=body, headers=headers).content)
            return reply.rejection.errors[0].code if reply.rejection else reply.status

        assert code(document.to_bytes()) == "R51-SIG-001"
        assert code(etree.tostring(tampered, xml_declaration=True, encoding="UTF-8")) == "R51-SIG-002"
        assert code(signed) == "ACCEPTED"


async def test_an_agency_whose_token_is_refused_stops_start_up_naming_it(
    broker: TansuBroker,
    signing_mock: MockServer,
    certificates: dict[str, AgencyCertificate],
    certificate_folder: Path,
) -> None:
    agencies = _agencies(certificates, certificate_folder)
    wrong = WRONG_TOKEN_B
    agencies[AGENCY_B] = AgencySettings(**{**agencies[AGENCY_B].model_dump(exclude={"token_file"}), "token": wrong})
    settings = make_settings(broker.bootstrap_servers, signing_mock.url, agencies=agencies)
    gateway = build_gateway(settings)
    with pytest.raises(ConfigurationError) as caught:
        await gateway.start()
    await gateway.stop()
    message = str(caught.value)
    assert "with the credentials of agency **********001 (Agencia B)" in message and "HTTP 401" in message
    assert "Agencia A" not in message and wrong not in message and AGENCY_B not in message
