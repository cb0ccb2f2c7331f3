"""Agencies' signing certificates, made at test time (never committed): ``gateway.devstack.certificates`` makes them;
here every private key and password it writes is registered with the log scan (``tests/logcapture.py``)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives import serialization

from gateway.devstack import certificates
from gateway.devstack.certificates import AgencyCertificate, SigningAuthority, authority
from tests.logcapture import register_secret

__all__ = ["AgencyCertificate", "SigningAuthority", "agency", "authority", "encrypted_key"]


def agency(folder: Path, issuer: SigningAuthority, ruc: str, **options: Any) -> AgencyCertificate:
    """``gateway.devstack.certificates.agency``, its key and password registered as secrets."""
    made = certificates.agency(folder, issuer, ruc, **options)
    register_secret(made.key.read_bytes(), made.password)
    return made


def encrypted_key(source: AgencyCertificate, password: str) -> Path:
    """The agency's PEM key again, encrypted with ``password``."""
    key = serialization.load_pem_private_key(source.key.read_bytes(), None)
    register_secret(password)
    path = source.key.with_suffix(".encrypted.key")
    path.touch(mode=0o600)
    path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.BestAvailableEncryption(password.encode()),
        )
    )
    return path
