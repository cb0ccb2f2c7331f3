"""Signing e-documents: the step between XSD validation and filing.

    validated document -> enveloped XAdES-BES signature with the sender agency's certificate -> bytes to file

Why XAdES-BES: SENAE signs documents with the sender's certificate but does not publish the format
(``shared/domain/regime51.md``); Ecuador's tax authority (SRI) signs its e-documents as enveloped XAdES-BES, with
certificates from the same Ecuadorian CAs, so agencies already hold certificates and tooling for it. XAdES-BES is
an XMLDSig signature plus signed qualifying properties (signing time, a digest of the signing certificate), so a
plain XMLDSig verifier (xmlsec1) still verifies it.

The signature: RSA-SHA256 (ECDSA-SHA256 for an EC key), SHA-256 digests, C14N 1.1, the certificate and its chain
in ``ds:KeyInfo``, appended as the last child of the document root (the XSDs admit it there). signxml makes it.

An agency's identity is loaded once, at start-up, from PKCS#12 or PEM; every problem (unreadable file, wrong
password, expired certificate, a certificate of another RUC) is a ``ConfigurationError`` naming the agency (its name
and its RUC masked, as the logs mask identifiers) and the file, never the password.

Which RUC a certificate holds is read as the mock reads it (``gateway.contract.certificates``): the subject
``organizationIdentifier`` ``VATEC-<RUC>`` or a 13-digit subject ``serialNumber``. Ecuadorian CAs (Banco Central,
Security Data, ANF AC) also put the RUC in private-OID extensions; those are not read (a known limitation).
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.hazmat.primitives.asymmetric.types import CertificatePublicKeyTypes
from cryptography.hazmat.primitives.serialization import pkcs12
from lxml import etree
from signxml.algorithms import CanonicalizationMethod, DigestAlgorithm, SignatureMethod
from signxml.xades.xades import XAdESDataObjectFormat, XAdESSigner

from gateway.contract.certificates import certificate_rucs
from gateway.errors import ConfigurationError
from gateway.runtime.logs import mask
from gateway.settings import AgencySettings

log = logging.getLogger(__name__)

_PKCS12_SUFFIXES = (".p12", ".pfx")

SigningKey = rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey


@dataclass(frozen=True, slots=True)
class SigningIdentity:
    """An agency's certificate (first of ``chain``) and private key."""

    ruc: str
    key: SigningKey
    chain: tuple[x509.Certificate, ...]

    @property
    def certificate(self) -> x509.Certificate:
        return self.chain[0]

    def sign(self, root: etree._Element, *, description: str = "e-document") -> bytes:
        """The document with its enveloped XAdES-BES signature, serialised (``root`` itself is left unsigned)."""
        rsa_key = isinstance(self.key, rsa.RSAPrivateKey)
        # A signer per document: signxml's XAdESSigner remembers every Id it has generated.
        signer = XAdESSigner(
            signature_algorithm=SignatureMethod.RSA_SHA256 if rsa_key else SignatureMethod.ECDSA_SHA256,
            digest_algorithm=DigestAlgorithm.SHA256,
            c14n_algorithm=CanonicalizationMethod.CANONICAL_XML_1_1,
            data_object_format=XAdESDataObjectFormat(Description=description, MimeType="text/xml"),
        )
        signed = signer.sign(root, key=self.key, cert=list(self.chain), always_add_key_value=False)
        return etree.tostring(signed, xml_declaration=True, encoding="UTF-8")


def load_identities(
    agencies: Mapping[str, AgencySettings], *, now: datetime | None = None
) -> dict[str, SigningIdentity]:
    """Every agency's signing identity, checked; ``ConfigurationError`` on the first agency that has a problem."""
    moment = now or datetime.now(UTC)
    return {ruc: load_identity(ruc, agency, now=moment) for ruc, agency in agencies.items()}


def load_identity(ruc: str, agency: AgencySettings, *, now: datetime | None = None) -> SigningIdentity:
    """One agency's certificate and key, checked: readable, matching, in force, allowing signatures, of ``ruc``."""
    who = agency_label(ruc, agency.name)
    password = _password(who, agency)
    if agency.certificate.suffix.lower() in _PKCS12_SUFFIXES:
        key, chain = _from_pkcs12(who, agency.certificate, password)
    else:
        key, chain = _from_pem(who, agency.certificate, agency.key, password)
    identity = SigningIdentity(ruc, key, _leaf_first(key, chain))
    _check(who, identity, now or datetime.now(UTC))
    return identity


def _leaf_first(key: SigningKey, chain: tuple[x509.Certificate, ...]) -> tuple[x509.Certificate, ...]:
    """The chain with the key's certificate first, wherever the file had it (a PEM bundle may start with its CA)."""
    mine = [c for c in chain if _spki(c.public_key()) == _spki(key.public_key())]
    return (mine[0], *(c for c in chain if c is not mine[0])) if mine else chain


def _spki(key: CertificatePublicKeyTypes) -> bytes:
    return key.public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)


def agency_label(ruc: str, name: str | None = None) -> str:
    """How messages name an agency: its RUC masked as the logs mask identifiers, and its name when configured."""
    return f"agency {mask(ruc)}" + (f" ({name})" if name else "")


def _password(who: str, agency: AgencySettings) -> bytes | None:
    if agency.password is not None:
        return agency.password.get_secret_value().encode()
    if agency.password_file is None:
        return None
    try:
        text = agency.password_file.read_text(encoding="utf-8").strip()
    except (OSError, UnicodeDecodeError) as exc:
        reason = exc.strerror if isinstance(exc, OSError) else "not UTF-8 text"
        raise ConfigurationError(f"{who}: cannot read the password file {agency.password_file}: {reason}") from None
    if not text:
        raise ConfigurationError(f"{who}: the password file {agency.password_file} is empty")
    return text.encode()


def _read(who: str, path: Path, what: str) -> bytes:
    try:
        return path.read_bytes()
    except OSError as exc:
        raise ConfigurationError(f"{who}: cannot read the {what} {path}: {exc.strerror}") from None


def _from_pkcs12(who: str, path: Path, password: bytes | None) -> tuple[SigningKey, tuple[x509.Certificate, ...]]:
    data = _read(who, path, "PKCS#12 certificate")
    try:
        key, certificate, extra = pkcs12.load_key_and_certificates(data, password)
    except (ValueError, TypeError):
        # cryptography says "Invalid password or PKCS12 data": the two cannot be told apart.
        hint = "no password is configured" if password is None else "wrong password"
        raise ConfigurationError(f"{who}: cannot open the PKCS#12 file {path}: {hint}, or not PKCS#12") from None
    if certificate is None or key is None:
        raise ConfigurationError(f"{who}: the PKCS#12 file {path} lacks the certificate or its private key")
    return _signing_key(who, key, path), (certificate, *extra)


def _from_pem(
    who: str, path: Path, key_path: Path | None, password: bytes | None
) -> tuple[SigningKey, tuple[x509.Certificate, ...]]:
    data = _read(who, path, "PEM certificate")
    try:
        chain = tuple(x509.load_pem_x509_certificates(data))
    except ValueError:
        raise ConfigurationError(
            f"{who}: {path} holds no PEM certificate (a PKCS#12 file must end in .p12 or .pfx)"
        ) from None
    key_data = _read(who, key_path, "PEM private key") if key_path is not None else data
    source = key_path or path
    try:
        key = serialization.load_pem_private_key(key_data, password)
    except TypeError:
        state = "encrypted and no password is configured" if password is None else "not encrypted: drop the password"
        raise ConfigurationError(f"{who}: the private key in {source} is {state}") from None
    except ValueError:
        hint = "wrong password, or no PEM private key" if password is not None else "no PEM private key"
        raise ConfigurationError(f"{who}: cannot load the private key from {source}: {hint}") from None
    return _signing_key(who, key, source), chain


def _signing_key(who: str, key: object, source: Path) -> SigningKey:
    if isinstance(key, rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey):
        return key
    raise ConfigurationError(f"{who}: the key in {source} is {type(key).__name__}; RSA or EC keys sign e-documents")


def _check(who: str, identity: SigningIdentity, now: datetime) -> None:
    certificate = identity.certificate
    subject = mask(certificate.subject.rfc4514_string())  # subjects carry the RUC, and a person's cédula
    if _spki(identity.key.public_key()) != _spki(certificate.public_key()):
        raise ConfigurationError(f"{who}: the private key does not belong to the certificate {subject}")
    if now < certificate.not_valid_before_utc:
        raise ConfigurationError(
            f"{who}: the certificate {subject} is not valid before {certificate.not_valid_before_utc.isoformat()}"
        )
    if now > certificate.not_valid_after_utc:
        raise ConfigurationError(
            f"{who}: the certificate {subject} expired on {certificate.not_valid_after_utc.isoformat()}"
        )
    try:
        usage = certificate.extensions.get_extension_for_class(x509.KeyUsage).value
    except x509.ExtensionNotFound:
        usage = None
    if usage is None or not usage.digital_signature:
        raise ConfigurationError(f"{who}: the certificate {subject} does not allow digital signatures (KeyUsage)")
    rucs = certificate_rucs(certificate)
    if rucs != {identity.ruc}:
        found = ", ".join(mask(ruc) for ruc in sorted(rucs)) or "none"
        raise ConfigurationError(
            f"{who}: the certificate {subject} is not the agency's: RUC found {found} (read from the subject's "
            "organizationIdentifier VATEC-<RUC> or its serialNumber)"
        )
