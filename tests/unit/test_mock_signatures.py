"""The mock's signature check (``ecuapass_mock/signatures.py``) through ``file_document``, in process:
signed documents are filed, tampered ones and wrong certificates are refused with their codes, unsigned ones only
when signatures are required, and a document signed again (new signing time) is the same filing, not a duplicate."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from lxml import etree

from ecuapass_mock.filing import file_document
from ecuapass_mock.procedures import BY_ROOT
from ecuapass_mock.signatures import SignatureCheck
from ecuapass_mock.store import FilingStore
from gateway import documents
from gateway.contract.namespaces import DSIG, XADES
from gateway.contract.parsing import parse_xml
from gateway.contract.replies import read_reply
from gateway.documents import decode
from gateway.mapping.document import Document
from gateway.ports import CustomsReply
from gateway.settings import AgencySettings
from gateway.signing import SigningIdentity, load_identity
from gateway.tools.examples import Example, examples
from tests.signing_certificates import AgencyCertificate, SigningAuthority, agency, authority

MINIMAL = "authorization-request/accepted/minimal"


@pytest.fixture
def store() -> Iterator[FilingStore]:
    opened = FilingStore(":memory:")
    yield opened
    opened.close()


@pytest.fixture
def minimal(example_by_name: dict[str, Example]) -> Document:
    return documents.build(decode(example_by_name[MINIMAL].payload()))


@pytest.fixture(scope="module")
def sender_certificate(certificate_folder: Path, ca: SigningAuthority) -> AgencyCertificate:
    minimal = next(e for e in examples() if e.name == MINIMAL)
    return agency(certificate_folder, ca, decode(minimal.payload()).sender)


@pytest.fixture(scope="module")
def identity(sender_certificate: AgencyCertificate) -> SigningIdentity:
    return load_identity(
        sender_certificate.ruc,
        AgencySettings(certificate=sender_certificate.pkcs12, password=sender_certificate.password),
    )


def _unchecked(made: AgencyCertificate) -> SigningIdentity:
    """An identity as a careless signer would use it: none of the start-up checks."""
    from cryptography import x509
    from cryptography.hazmat.primitives import serialization

    key = serialization.load_pem_private_key(made.key.read_bytes(), None)
    return SigningIdentity(made.ruc, key, (x509.load_pem_x509_certificate(made.certificate.read_bytes()),))  # type: ignore[arg-type]


def _file(store: FilingStore, body: bytes, check: SignatureCheck) -> CustomsReply:
    root = parse_xml(body)
    answer = file_document(store, BY_ROOT[root.tag], root, body, datetime.now(UTC), seed=51, signatures=check)
    return read_reply(answer)


def _codes(reply: CustomsReply) -> list[str]:
    return [e.code for e in reply.rejection.errors] if reply.rejection else []


def test_a_signed_document_is_filed(
    store: FilingStore, minimal: Document, identity: SigningIdentity, ca: SigningAuthority
) -> None:
    reply = _file(store, identity.sign(minimal.root), SignatureCheck(ca.path, required=True))
    assert reply.status == "ACCEPTED", _codes(reply)


def test_an_unsigned_document_is_refused_only_where_signatures_are_required(
    store: FilingStore, minimal: Document, ca: SigningAuthority
) -> None:
    refused = _file(store, minimal.to_bytes(), SignatureCheck(ca.path, required=True))
    assert refused.status == "REJECTED" and _codes(refused) == ["R51-SIG-001"]
    assert refused.rejection is not None and refused.rejection.stage == "RECEPTION"
    assert refused.message_id == minimal.message_id and refused.reception is None  # nothing filed, nothing numbered
    assert _file(store, minimal.to_bytes(), SignatureCheck(ca.path)).status == "ACCEPTED"


@pytest.mark.parametrize(
    "tamper",
    [
        pytest.param(lambda root: _set(root, "*/{*}FunctionalReference", "SOL-TAMPERED"), id="header-value"),
        pytest.param(lambda root: _set(root, ".//{*}Item/{*}Quantity", "999"), id="item-quantity"),
        pytest.param(
            lambda root: _set(root, f".//{{{XADES}}}SigningTime", "2020-01-01T00:00:00+00:00"), id="signing-time"
        ),
        pytest.param(
            lambda root: _set(root, f".//{{{DSIG}}}SignatureValue", "AAAA" * 85 + "AA=="), id="signature-value"
        ),
        pytest.param(lambda root: root.insert(1, root[-1]), id="signature-moved"),
    ],
)
def test_a_tampered_document_is_refused_as_altered(
    store: FilingStore, minimal: Document, identity: SigningIdentity, ca: SigningAuthority, tamper: object
) -> None:
    root = etree.fromstring(identity.sign(minimal.root))
    tamper(root)  # type: ignore[operator]
    reply = _file(store, etree.tostring(root, xml_declaration=True, encoding="UTF-8"), SignatureCheck(ca.path))
    assert reply.status == "REJECTED" and _codes(reply) == ["R51-SIG-002"]
    assert store.filing(minimal.message_id) is None


def _set(root: etree._Element, path: str, value: str) -> None:
    found = root.find(path)
    assert found is not None, path
    found.text = value


def test_a_certificate_from_an_untrusted_ca_is_refused(
    store: FilingStore,
    minimal: Document,
    certificate_folder: Path,
    ca: SigningAuthority,
    sender_certificate: AgencyCertificate,
) -> None:
    rogue = authority(certificate_folder / "rogue", "Rogue CA")
    signer = _unchecked(agency(certificate_folder / "rogue", rogue, sender_certificate.ruc))
    reply = _file(store, signer.sign(minimal.root), SignatureCheck(ca.path))
    assert _codes(reply) == ["R51-SIG-003"]

    # Without a CA bundle the mock trusts no signer.
    assert _codes(_file(store, _unchecked(sender_certificate).sign(minimal.root), SignatureCheck())) == ["R51-SIG-003"]


def test_an_expired_certificate_is_refused(
    store: FilingStore,
    minimal: Document,
    certificate_folder: Path,
    ca: SigningAuthority,
    sender_certificate: AgencyCertificate,
) -> None:
    now = datetime.now(UTC)
    expired = agency(
        certificate_folder,
        ca,
        sender_certificate.ruc,
        stem="expired",
        valid_from=now - timedelta(days=9),
        valid_until=now - timedelta(days=1),
    )
    reply = _file(store, _unchecked(expired).sign(minimal.root), SignatureCheck(ca.path))
    assert _codes(reply) == ["R51-SIG-003"]


def test_a_certificate_of_another_ruc_is_refused(
    store: FilingStore, minimal: Document, certificate_folder: Path, ca: SigningAuthority
) -> None:
    other = agency(certificate_folder, ca, "0992339411001", stem="another-agency")
    reply = _file(store, _unchecked(other).sign(minimal.root), SignatureCheck(ca.path))
    assert _codes(reply) == ["R51-SIG-004"]
    assert reply.rejection is not None and "0992339411001" in reply.rejection.errors[0].description


def test_signed_again_is_the_same_filing_not_a_duplicate(
    store: FilingStore, example_by_name: dict[str, Example], identity: SigningIdentity, ca: SigningAuthority
) -> None:
    event = json.loads(example_by_name[MINIMAL].payload())
    document = documents.build(decode(json.dumps(event).encode()))
    check = SignatureCheck(ca.path, required=True)
    first = _file(store, identity.sign(document.root), check)
    again = _file(store, identity.sign(document.root), check)  # a re-filing after an ambiguous failure
    assert first.status == again.status == "ACCEPTED"
    assert again.reception == first.reception and again.acceptance == first.acceptance
    assert store.submissions()[document.message_id] == 2
    # The same content under a new message id (a new event id) is the same document, also when signed anew.
    event["id"] = "00000000-0000-4000-8000-00000000abcd"
    renamed = documents.build(decode(json.dumps(event).encode()))
    assert _file(store, identity.sign(renamed.root), check).acceptance == first.acceptance
