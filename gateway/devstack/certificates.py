"""Signing certificates for the embedded stack and the tests: never for production.

A signing CA, and per agency an RSA 2048 certificate (EC P-256 on request) whose subject carries its RUC
(``organizationIdentifier`` ``VATEC-<RUC>``, or the ``serialNumber``), written as PEM (certificate + key, the key
readable by its owner only) and as password-protected PKCS#12. ``ecuapass-gateway dev`` makes them at start for the
senders of the examples (``dev_agencies``), so the demo files signed documents that the mock verifies; the tests
make theirs the same way (``tests/signing_certificates.py``). Nothing here is ever committed.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.hazmat.primitives.serialization import pkcs12
from cryptography.x509.oid import NameOID

from gateway.settings import AgencySettings

_PrivateKey = rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey


@dataclass(frozen=True, slots=True)
class SigningAuthority:
    path: Path  # its certificate, PEM: the trust anchor a verifier is given
    name: x509.Name
    key: rsa.RSAPrivateKey


@dataclass(frozen=True, slots=True)
class AgencyCertificate:
    ruc: str
    certificate: Path  # PEM
    key: Path  # PEM, unencrypted
    pkcs12: Path  # certificate + key, protected by ``password``
    password: str


def authority(folder: Path, common_name: str, *, days: int = 30) -> SigningAuthority:
    folder.mkdir(parents=True, exist_ok=True)
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])
    now = datetime.now(UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(days=1))
        .not_valid_after(now + timedelta(days=days))
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(_usage(signature=True, cert_sign=True), critical=True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .sign(key, hashes.SHA256())
    )
    path = folder / f"{common_name.lower().replace(' ', '-')}.pem"
    path.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    return SigningAuthority(path, name, key)


def agency(
    folder: Path,
    issuer: SigningAuthority,
    ruc: str,
    *,
    stem: str | None = None,
    subject_ruc: str | None = None,
    as_serial_number: bool = False,
    valid_from: datetime | None = None,
    valid_until: datetime | None = None,
    digital_signature: bool = True,
    password: str = "p12-Passw0rd-not-to-log",
    elliptic: bool = False,
) -> AgencyCertificate:
    """An agency's signing certificate issued by ``issuer``. ``subject_ruc`` puts another RUC in the subject (a
    certificate that is not the agency's); ``as_serial_number`` carries it as the subject serialNumber; ``elliptic``
    makes an EC P-256 key instead of RSA 2048."""
    folder.mkdir(parents=True, exist_ok=True)
    stem = stem or f"agency-{hashlib.sha256(ruc.encode()).hexdigest()[:8]}"  # no RUC in paths: they reach messages
    key: _PrivateKey = ec.generate_private_key(ec.SECP256R1()) if elliptic else rsa.generate_private_key(65537, 2048)
    subject = _agency_subject(ruc, subject_ruc or ruc, as_serial_number=as_serial_number)
    now = datetime.now(UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(issuer.name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(valid_from or now - timedelta(hours=1))
        .not_valid_after(valid_until or now + timedelta(days=7))
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(_usage(signature=digital_signature, cert_sign=False), critical=True)
        .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(issuer.key.public_key()), critical=False)
        .sign(issuer.key, hashes.SHA256())
    )
    return _write_agency(folder, stem, ruc, key, certificate, password)


def _agency_subject(ruc: str, carried: str, *, as_serial_number: bool) -> x509.Name:
    """An agency's subject, carrying the RUC ``carried`` as organizationIdentifier ``VATEC-<RUC>`` or serialNumber."""
    identifier = (
        x509.NameAttribute(NameOID.SERIAL_NUMBER, carried)
        if as_serial_number
        else x509.NameAttribute(NameOID.ORGANIZATION_IDENTIFIER, f"VATEC-{carried}")
    )
    return x509.Name(
        [
            x509.NameAttribute(NameOID.COUNTRY_NAME, "EC"),
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, f"Agencia {ruc}"),
            identifier,
            x509.NameAttribute(NameOID.COMMON_NAME, f"Agencia de aduanas {ruc}"),
        ]
    )


def _write_agency(
    folder: Path, stem: str, ruc: str, key: _PrivateKey, certificate: x509.Certificate, password: str
) -> AgencyCertificate:
    """An agency's files: ``<stem>.pem``, the certificate; ``<stem>.key`` and ``<stem>.p12``, its owner's only."""
    pem, key_path, p12 = folder / f"{stem}.pem", folder / f"{stem}.key", folder / f"{stem}.p12"
    pem.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    key_path.touch(mode=0o600)
    key_pem = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    key_path.write_bytes(key_pem)
    p12.touch(mode=0o600)
    p12.write_bytes(
        pkcs12.serialize_key_and_certificates(
            stem.encode(), key, certificate, None, serialization.BestAvailableEncryption(password.encode())
        )
    )
    return AgencyCertificate(ruc, pem, key_path, p12, password)


def _usage(*, signature: bool, cert_sign: bool) -> x509.KeyUsage:
    return x509.KeyUsage(
        digital_signature=signature,
        content_commitment=not cert_sign,
        key_encipherment=False,
        data_encipherment=False,
        key_agreement=False,
        key_cert_sign=cert_sign,
        crl_sign=cert_sign,
        encipher_only=False,
        decipher_only=False,
    )


def dev_agencies(folder: Path, rucs: Iterable[str]) -> tuple[dict[str, AgencySettings], Path]:
    """A development CA and a PEM certificate for each RUC: the agencies' settings, and the CA a verifier trusts."""
    # A year, so that a development stack is not told its certificates are about to expire.
    ca = authority(folder, "Ecuapass Gateway Development Signing CA", days=400)
    until = datetime.now(UTC) + timedelta(days=365)
    agencies = {}
    for ruc in sorted(set(rucs)):
        made = agency(folder, ca, ruc, valid_until=until)
        agencies[ruc] = AgencySettings(
            name=f"dev agency {made.certificate.stem}", certificate=made.certificate, key=made.key
        )
    return agencies, ca.path
