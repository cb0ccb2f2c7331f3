"""Which RUCs a signing certificate names: how the gateway checks an agency's certificate at start-up and how the
mock checks the certificate a document was signed with against its ``cmn:SenderRuc``.

The subject ``organizationIdentifier`` (2.5.4.97) in the ETSI EN 319 412-1 form ``VATEC-<RUC>``, or the subject
``serialNumber`` (2.5.4.5) holding the 13-digit RUC. Ecuadorian CAs also put the RUC in private-OID extensions;
those OIDs are not verified here and are not read (a known limitation).
"""

from __future__ import annotations

import re

from cryptography import x509
from cryptography.x509.oid import NameOID

_VAT_EC = re.compile(r"VATEC-(\d{13})")
_RUC = re.compile(r"\d{13}")


def certificate_rucs(certificate: x509.Certificate) -> set[str]:
    """The RUCs a certificate's subject names: ``organizationIdentifier`` ``VATEC-<RUC>`` and a 13-digit
    ``serialNumber``."""
    found: set[str] = set()
    for attribute in certificate.subject.get_attributes_for_oid(NameOID.ORGANIZATION_IDENTIFIER):
        if (match := _VAT_EC.fullmatch(str(attribute.value))) is not None:
            found.add(match.group(1))
    for attribute in certificate.subject.get_attributes_for_oid(NameOID.SERIAL_NUMBER):
        if _RUC.fullmatch(str(attribute.value)):
            found.add(str(attribute.value))
    return found
