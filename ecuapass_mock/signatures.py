"""The mock's check of a document's electronic signature, the first step of ``filing.file_document``.

    ds:Signature present?  no  -> R51-SIG-001 when signatures are required, else filed unsigned
    XAdES-BES verifies?    no  -> R51-SIG-002 (document or signature altered, malformed, not covering the document)
    certificate trusted?   no  -> R51-SIG-003 (not from the trusted CAs, expired or not yet valid, cannot sign)
    certificate's RUC = cmn:SenderRuc?  no -> R51-SIG-004

The signature must be an enveloped XAdES-BES signature, the last child of the document root, whose reference
``URI=""`` covers the whole document; signxml's ``XAdESVerifier`` checks it against the CA bundle given
(``MOCK_SIGNATURE_CA``). Without one the mock trusts no signer (Ecuadorian signing CAs are not among the public web
CAs anyway): signed documents are refused with R51-SIG-003. The certificate's RUC is read as the gateway reads it
(``gateway.contract.certificates.certificate_rucs``).
"""

from __future__ import annotations

import base64
import binascii
from dataclasses import dataclass, replace
from datetime import datetime
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat
from lxml import etree
from signxml.exceptions import InvalidCertificate, SignXMLException
from signxml.xades.xades import XAdESSignatureConfiguration, XAdESVerifier

from ecuapass_mock.procedures.common import error, text
from gateway.contract.certificates import certificate_rucs
from gateway.contract.namespaces import DSIG
from gateway.contract.replies import ReplyError

SIGNATURE = f"{{{DSIG}}}Signature"
_CONFIG = XAdESSignatureConfiguration(location="./")


@dataclass(frozen=True, slots=True)
class SignatureCheck:
    """What the mock trusts and requires."""

    trusted_ca: Path | None = None
    required: bool = False

    def problem(self, root: etree._Element, now: datetime) -> ReplyError | None:
        """The reason the document's signature is refused, or ``None`` when it may be filed."""
        signatures = root.findall(f".//{SIGNATURE}")
        if not signatures:
            return error("R51-SIG-001", None) if self.required else None
        signature = signatures[0]
        if len(signatures) > 1 or signature.getparent() is not root or signature is not root[-1]:
            return error("R51-SIG-002", signature, detail="Se espera una sola firma, último hijo de la raíz.")
        if not any(ref.get("URI") == "" for ref in signature.iterfind(f"{{{DSIG}}}SignedInfo/{{{DSIG}}}Reference")):
            return error("R51-SIG-002", signature, detail='La firma no cubre el documento completo (URI="").')
        if self.trusted_ca is None:
            return error("R51-SIG-003", signature, detail="El servicio no tiene autoridades de firma de confianza.")
        verifier = XAdESVerifier()
        try:
            results = verifier.verify(
                root,
                ca_pem_file=str(self.trusted_ca),
                expect_config=replace(_CONFIG, verification_time=now),
            )
        except InvalidCertificate as exc:
            return error("R51-SIG-003", signature, detail=str(exc)[:300])
        except (SignXMLException, ValueError, etree.LxmlError) as exc:  # altered, malformed, unexpected layout
            return error("R51-SIG-002", signature, detail=str(exc)[:300])
        # What the signature covers, as verified, must be this document: no transform may have left part of it out.
        covered = [r.signed_xml for r in results if r.signed_xml is not None and r.signed_xml.tag == root.tag]
        if not covered or _c14n(covered[0]) != _c14n(unsigned(root)):
            return error("R51-SIG-002", signature, detail="La firma no cubre el documento completo.")
        certificate = _signing_certificate(signature, results[0].signature_key)
        sender = text(root, "*/cmn:SenderRuc")
        rucs = certificate_rucs(certificate) if certificate is not None else set()
        if rucs != {sender}:
            found = ", ".join(sorted(rucs)) or "ninguno"
            return error("R51-SIG-004", signature, detail=f"RUC del certificado: {found}; remitente: {sender}.")
        return None


def _signing_certificate(signature: etree._Element, key: object) -> x509.Certificate | None:
    """The certificate of ``ds:KeyInfo`` whose public key made the (verified) signature."""
    for node in signature.iterfind(f"{{{DSIG}}}KeyInfo/{{{DSIG}}}X509Data/{{{DSIG}}}X509Certificate"):
        try:
            certificate = x509.load_der_x509_certificate(base64.b64decode(node.text or ""))
        except (binascii.Error, ValueError):
            continue
        if certificate.public_key().public_bytes(Encoding.PEM, PublicFormat.SubjectPublicKeyInfo) == key:
            return certificate
    return None


def unsigned(root: etree._Element) -> etree._Element:
    """A copy of the document without its signature: what idempotency compares (a re-filing carries a new
    signature, with a new signing time, over the same content)."""
    copy = etree.fromstring(etree.tostring(root))
    for signature in copy.findall(SIGNATURE):
        # As the enveloped-signature transform does: the signature goes, the text after it stays.
        if signature.tail:
            previous = signature.getprevious()
            if previous is not None:
                previous.tail = (previous.tail or "") + signature.tail
            else:
                copy.text = (copy.text or "") + signature.tail
        copy.remove(signature)
    return copy


def _c14n(element: etree._Element) -> bytes:
    return etree.tostring(element, method="c14n")
