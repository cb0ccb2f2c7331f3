"""Certificates made at test time (never committed): a CA, a server certificate for 127.0.0.1 and localhost, a client
certificate, and a second CA nobody trusts with a client certificate of its own. EC P-256 keys: quick to make."""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from tests.logcapture import register_secret


@dataclass(frozen=True, slots=True)
class Pki:
    ca: Path
    server_cert: Path
    server_key: Path
    client_cert: Path
    client_key: Path
    untrusted_ca: Path
    untrusted_client_cert: Path
    untrusted_client_key: Path


@dataclass(frozen=True, slots=True)
class _Issuer:
    name: x509.Name
    key: ec.EllipticCurvePrivateKey


def issue(folder: Path) -> Pki:
    """Write every certificate and key of the test PKI into ``folder`` (keys readable by the owner only)."""
    folder.mkdir(parents=True, exist_ok=True)
    ca = _authority(folder / "ca.pem", "Gateway Test CA")
    untrusted = _authority(folder / "untrusted-ca.pem", "Untrusted Test CA")
    server = x509.SubjectAlternativeName([x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))])
    _leaf(ca, folder / "server", "127.0.0.1", ExtendedKeyUsageOID.SERVER_AUTH, server)
    _leaf(ca, folder / "client", "ecuapass-gateway", ExtendedKeyUsageOID.CLIENT_AUTH)
    _leaf(untrusted, folder / "untrusted-client", "ecuapass-gateway", ExtendedKeyUsageOID.CLIENT_AUTH)
    return Pki(
        ca=folder / "ca.pem",
        server_cert=folder / "server.pem",
        server_key=folder / "server.key",
        client_cert=folder / "client.pem",
        client_key=folder / "client.key",
        untrusted_ca=folder / "untrusted-ca.pem",
        untrusted_client_cert=folder / "untrusted-client.pem",
        untrusted_client_key=folder / "untrusted-client.key",
    )


def _authority(path: Path, common_name: str) -> _Issuer:
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])
    certificate = (
        _builder(name, name, key)
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=True,
                crl_sign=True,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .sign(key, hashes.SHA256())
    )
    path.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    return _Issuer(name, key)


def _leaf(
    issuer: _Issuer,
    stem: Path,
    common_name: str,
    usage: x509.ObjectIdentifier,
    names: x509.SubjectAlternativeName | None = None,
) -> None:
    key = ec.generate_private_key(ec.SECP256R1())
    builder = (
        _builder(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)]), issuer.name, key)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(x509.ExtendedKeyUsage([usage]), critical=False)
        .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(issuer.key.public_key()), critical=False)
    )
    if names is not None:
        builder = builder.add_extension(names, critical=False)
    certificate = builder.sign(issuer.key, hashes.SHA256())
    stem.with_suffix(".pem").write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    key_path = stem.with_suffix(".key")
    key_path.touch(mode=0o600)
    pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    register_secret(pem)  # the log scan looks for it (tests/logcapture.py)
    key_path.write_bytes(pem)


def _builder(subject: x509.Name, issuer: x509.Name, key: ec.EllipticCurvePrivateKey) -> x509.CertificateBuilder:
    now = datetime.now(UTC)
    return (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(issuer)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(minutes=5))
        .not_valid_after(now + timedelta(days=1))
    )
