"""Signing e-documents (``gateway.signing``): identities loaded from PKCS#12 and PEM and checked at start-up, and
signatures that an independent verifier, xmlsec1 (libxmlsec1 over OpenSSL, no Python in the path), accepts.

Certificates are made per module at test time (``tests/signing_certificates.py``); no key is committed.
"""

from __future__ import annotations

import re
import shutil
import subprocess
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from lxml import etree
from pydantic import SecretStr

from gateway import documents
from gateway.contract.certificates import certificate_rucs
from gateway.contract.namespaces import DSIG, XADES
from gateway.contract.schemas import violations
from gateway.documents import decode
from gateway.errors import ConfigurationError
from gateway.runtime.logs import mask
from gateway.settings import AgencySettings
from gateway.signing import SigningIdentity, load_identities, load_identity
from gateway.tools.examples import Example, examples
from tests.signing_certificates import AgencyCertificate, SigningAuthority, agency, authority, encrypted_key

RUC = "1790011674001"
OTHER_RUC = "0992339411001"
PEM_PASSWORD = "pem-Passw0rd-not-to-log"
WRONG_PASSWORD = "an0ther-Wr0ng-password"
MASKED = re.escape(mask(RUC))  # messages name an agency by its masked RUC (and its name), as the logs do
XMLSEC1 = shutil.which("xmlsec1")
needs_xmlsec1 = pytest.mark.skipif(
    XMLSEC1 is None, reason="xmlsec1 is not installed (deploy/ci/system-packages.sh installs it, as root, with apt-get)"
)


@pytest.fixture(scope="module")
def untrusted_ca(certificate_folder: Path) -> SigningAuthority:
    return authority(certificate_folder, "Untrusted Signing CA")


@pytest.fixture(scope="module")
def certificate(certificate_folder: Path, ca: SigningAuthority) -> AgencyCertificate:
    return agency(certificate_folder, ca, RUC)


def _accepted_by_kind() -> list[Example]:
    chosen: dict[str, Example] = {}
    for example in examples():
        if example.expected == "accepted" and example.document:
            chosen.setdefault(example.document, example)
    return list(chosen.values())


def xmlsec1_verify(signed: bytes, trusted: Path, certificate_folder: Path) -> subprocess.CompletedProcess[str]:
    """xmlsec1's verdict on a signed document, trusting only the CA in ``trusted``. The XAdES ``Id`` attributes are
    declared as ids (xmlsec1 resolves ``URI="#…"`` only through declared ids)."""
    assert XMLSEC1 is not None
    path = certificate_folder / "signed.xml"
    path.write_bytes(signed)
    command = [XMLSEC1, "--verify", "--trusted-pem", str(trusted)]
    command += ["--id-attr:Id", "SignedProperties", "--id-attr:Id", "KeyInfo", str(path)]
    return subprocess.run(command, capture_output=True, text=True, timeout=60, check=False)


# -- loading identities ------------------------------------------------------------------------------------------


def test_pkcs12_and_pem_give_the_same_identity(certificate: AgencyCertificate) -> None:
    from_p12 = load_identity(RUC, AgencySettings(certificate=certificate.pkcs12, password=certificate.password))
    from_pem = load_identity(RUC, AgencySettings(certificate=certificate.certificate, key=certificate.key))
    assert from_p12.ruc == from_pem.ruc == RUC
    assert from_p12.certificate == from_pem.certificate
    assert certificate_rucs(from_p12.certificate) == {RUC}


def test_a_pem_bundle_may_start_with_its_ca(
    certificate: AgencyCertificate, ca: SigningAuthority, tmp_path: Path
) -> None:
    bundle = tmp_path / "bundle.pem"
    bundle.write_bytes(ca.path.read_bytes() + certificate.certificate.read_bytes())
    identity = load_identity(RUC, AgencySettings(certificate=bundle, key=certificate.key))
    assert certificate_rucs(identity.certificate) == {RUC} and len(identity.chain) == 2


def test_the_password_may_come_from_a_file(certificate: AgencyCertificate, tmp_path: Path) -> None:
    secret = tmp_path / "password"
    secret.write_text(certificate.password + "\n", encoding="utf-8")
    identity = load_identity(RUC, AgencySettings(certificate=certificate.pkcs12, password_file=secret))
    assert identity.ruc == RUC


def test_an_encrypted_pem_key_opens_with_its_password(certificate: AgencyCertificate) -> None:
    key = encrypted_key(certificate, PEM_PASSWORD)
    identity = load_identity(RUC, AgencySettings(certificate=certificate.certificate, key=key, password=PEM_PASSWORD))
    assert identity.ruc == RUC
    with pytest.raises(ConfigurationError, match="encrypted and no password is configured"):
        load_identity(RUC, AgencySettings(certificate=certificate.certificate, key=key))


def test_the_ruc_may_be_the_subject_serial_number(certificate_folder: Path, ca: SigningAuthority) -> None:
    made = agency(certificate_folder, ca, OTHER_RUC, stem="serial-number", as_serial_number=True)
    assert load_identity(OTHER_RUC, AgencySettings(certificate=made.pkcs12, password=made.password)).ruc == OTHER_RUC


@pytest.mark.parametrize("given", [WRONG_PASSWORD, None])
def test_a_pkcs12_that_does_not_open_is_named_without_the_password(
    certificate: AgencyCertificate, given: str | None
) -> None:
    settings = AgencySettings(name="Agencia Uno", certificate=certificate.pkcs12, password=given)
    with pytest.raises(ConfigurationError) as caught:
        load_identity(RUC, settings)
    message = str(caught.value)
    assert f"agency {mask(RUC)} (Agencia Uno)" in message and str(certificate.pkcs12) in message
    assert RUC not in message
    assert ("wrong password" if given else "no password is configured") in message
    assert certificate.password not in message and (given or "\x00") not in message
    assert caught.value.__cause__ is None and caught.value.__context__ is not None  # from None: nothing chained


def test_a_wrong_pem_key_password_is_named_without_it(certificate: AgencyCertificate) -> None:
    key = encrypted_key(certificate, PEM_PASSWORD)
    wrong = WRONG_PASSWORD
    with pytest.raises(ConfigurationError, match="wrong password") as caught:
        load_identity(RUC, AgencySettings(certificate=certificate.certificate, key=key, password=wrong))
    assert wrong not in str(caught.value) and PEM_PASSWORD not in str(caught.value)


def test_an_unreadable_certificate_fails_start_up(tmp_path: Path) -> None:
    with pytest.raises(ConfigurationError, match=f"agency {MASKED}: cannot read the PKCS#12 certificate .*missing.p12"):
        load_identity(RUC, AgencySettings(certificate=tmp_path / "missing.p12", password="x"))
    garbage = tmp_path / "garbage.pem"
    garbage.write_text("not a certificate", encoding="utf-8")
    with pytest.raises(ConfigurationError, match="holds no PEM certificate"):
        load_identity(RUC, AgencySettings(certificate=garbage))


def test_a_certificate_of_another_ruc_fails_start_up(certificate_folder: Path, ca: SigningAuthority) -> None:
    made = agency(certificate_folder, ca, RUC, stem="other-ruc", subject_ruc=OTHER_RUC)
    found = re.escape(mask(OTHER_RUC))
    with pytest.raises(ConfigurationError, match=f"agency {MASKED}: .*not the agency's: RUC found {found}") as caught:
        load_identity(RUC, AgencySettings(certificate=made.pkcs12, password=made.password))
    assert RUC not in str(caught.value) and OTHER_RUC not in str(caught.value)


@pytest.mark.parametrize(
    ("window", "message"),
    [
        ((timedelta(days=-10), timedelta(days=-1)), "expired on"),
        ((timedelta(days=1), timedelta(days=10)), "is not valid before"),
    ],
)
def test_a_certificate_not_in_force_fails_start_up(
    certificate_folder: Path, ca: SigningAuthority, window: tuple[timedelta, timedelta], message: str
) -> None:
    now = datetime.now(UTC)
    made = agency(
        certificate_folder,
        ca,
        RUC,
        stem=f"window-{message[:6]}",
        valid_from=now + window[0],
        valid_until=now + window[1],
    )
    with pytest.raises(ConfigurationError, match=f"agency {MASKED}: the certificate .* {message}"):
        load_identity(RUC, AgencySettings(certificate=made.certificate, key=made.key))


def test_a_certificate_that_cannot_sign_or_a_key_of_another_fails_start_up(
    certificate_folder: Path, ca: SigningAuthority, certificate: AgencyCertificate
) -> None:
    made = agency(certificate_folder, ca, RUC, stem="no-signature", digital_signature=False)
    with pytest.raises(ConfigurationError, match="does not allow digital signatures"):
        load_identity(RUC, AgencySettings(certificate=made.certificate, key=made.key))
    with pytest.raises(ConfigurationError, match="the private key does not belong to the certificate"):
        load_identity(RUC, AgencySettings(certificate=certificate.certificate, key=made.key))


def test_identities_load_for_every_agency_and_stop_at_the_first_problem(
    certificate: AgencyCertificate, certificate_folder: Path, ca: SigningAuthority
) -> None:
    other = agency(certificate_folder, ca, OTHER_RUC)
    loaded = load_identities(
        {
            RUC: AgencySettings(certificate=certificate.pkcs12, password=certificate.password),
            OTHER_RUC: AgencySettings(certificate=other.certificate, key=other.key),
        }
    )
    assert set(loaded) == {RUC, OTHER_RUC} and loaded[OTHER_RUC].ruc == OTHER_RUC
    wrong = AgencySettings(name="Dos", certificate=certificate.pkcs12, password=certificate.password)
    with pytest.raises(ConfigurationError, match=r"agency \*+001 \(Dos\): .*not the agency's"):
        load_identities(
            {RUC: AgencySettings(certificate=certificate.pkcs12, password=certificate.password), OTHER_RUC: wrong}
        )


def test_settings_keep_passwords_secret(certificate: AgencyCertificate) -> None:
    settings = AgencySettings(certificate=certificate.pkcs12, password=SecretStr(certificate.password))
    assert certificate.password not in repr(settings) and certificate.password not in str(settings.model_dump())


# -- signing -----------------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def identities(certificate_folder: Path, ca: SigningAuthority) -> dict[str, SigningIdentity]:
    """An identity for the sender of one accepted example of every document."""
    senders = {decode(example.payload()).sender for example in _accepted_by_kind()}
    made = {ruc: agency(certificate_folder / "senders", ca, ruc) for ruc in senders}
    return {ruc: load_identity(ruc, AgencySettings(certificate=m.certificate, key=m.key)) for ruc, m in made.items()}


def _signed(example: Example, identities: dict[str, SigningIdentity]) -> tuple[documents.Document, bytes]:
    event = decode(example.payload())
    document = documents.build(event)
    return document, identities[event.sender].sign(document.root, description=document.kind)


@pytest.mark.parametrize("example", _accepted_by_kind(), ids=lambda e: e.name)
def test_a_signed_document_is_enveloped_xades_bes_and_still_valid(
    example: Example, identities: dict[str, SigningIdentity]
) -> None:
    document, signed = _signed(example, identities)
    root = etree.fromstring(signed)
    signature = root[-1]
    assert signature.tag == f"{{{DSIG}}}Signature" and len(root.findall(f".//{{{DSIG}}}Signature")) == 1
    assert signature.find(f"{{{DSIG}}}SignedInfo/{{{DSIG}}}SignatureMethod").get("Algorithm").endswith("rsa-sha256")  # type: ignore[union-attr]
    references = signature.findall(f"{{{DSIG}}}SignedInfo/{{{DSIG}}}Reference")
    assert "" in {r.get("URI") for r in references} and len(references) == 3
    assert {m.get("Algorithm") for m in signature.iter(f"{{{DSIG}}}DigestMethod")} == {
        "http://www.w3.org/2001/04/xmlenc#sha256"
    }
    assert signature.find(f".//{{{XADES}}}SigningTime") is not None
    assert signature.find(f".//{{{XADES}}}SigningCertificateV2") is not None
    assert signature.find(f"{{{DSIG}}}KeyInfo/{{{DSIG}}}X509Data/{{{DSIG}}}X509Certificate") is not None
    kind = documents.BY_ROOT[root.tag]
    assert violations(kind.spec, root) == []  # the XSDs admit the signature, last
    assert document.root.find(f"{{{DSIG}}}Signature") is None  # the validated document is left as it was
    root.remove(signature)
    assert etree.tostring(root, method="c14n") == etree.tostring(document.root, method="c14n")


@needs_xmlsec1
@pytest.mark.parametrize("example", _accepted_by_kind(), ids=lambda e: e.name)
def test_xmlsec1_verifies_signed_documents_independently(
    example: Example, identities: dict[str, SigningIdentity], ca: SigningAuthority, tmp_path: Path
) -> None:
    _, signed = _signed(example, identities)
    verdict = xmlsec1_verify(signed, ca.path, tmp_path)
    assert verdict.returncode == 0, verdict.stderr
    assert "OK" in verdict.stderr and "SignedInfo References (ok/all): 3/3" in verdict.stderr


@needs_xmlsec1
def test_xmlsec1_refuses_a_tampered_document_and_an_untrusted_signer(
    identities: dict[str, SigningIdentity], ca: SigningAuthority, untrusted_ca: SigningAuthority, tmp_path: Path
) -> None:
    _, signed = _signed(_accepted_by_kind()[0], identities)
    root = etree.fromstring(signed)
    reference = root.find("*/{*}FunctionalReference")
    assert reference is not None and reference.text
    reference.text = reference.text + "X"
    tampered = xmlsec1_verify(etree.tostring(root, xml_declaration=True, encoding="UTF-8"), ca.path, tmp_path)
    assert tampered.returncode != 0 and "FAIL" in tampered.stderr
    untrusted = xmlsec1_verify(signed, untrusted_ca.path, tmp_path)
    assert untrusted.returncode != 0 and "OK" not in untrusted.stderr.split()


@needs_xmlsec1
def test_an_ec_key_signs_with_ecdsa_sha256(
    certificate_folder: Path, ca: SigningAuthority, example_by_name: dict[str, Example], tmp_path: Path
) -> None:
    made = agency(certificate_folder, ca, RUC, stem="elliptic", elliptic=True)
    identity = load_identity(RUC, AgencySettings(certificate=made.pkcs12, password=made.password))
    signed = identity.sign(
        documents.build(decode(example_by_name["authorization-request/accepted/minimal"].payload())).root
    )
    method = etree.fromstring(signed).find(f"{{{DSIG}}}Signature/{{{DSIG}}}SignedInfo/{{{DSIG}}}SignatureMethod")
    assert method is not None and method.get("Algorithm") == "http://www.w3.org/2001/04/xmldsig-more#ecdsa-sha256"
    verdict = xmlsec1_verify(signed, ca.path, tmp_path)
    assert verdict.returncode == 0, verdict.stderr
