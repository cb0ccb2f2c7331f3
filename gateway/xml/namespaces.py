"""Every XML namespace the gateway reads or writes, and the prefixes it writes them with.

The prefixes are part of the contract: error pointers (XPaths) in replies use them, and both sides resolve pointers
with ``PREFIXES``.
"""

from __future__ import annotations

COMMON = "urn:ecuapass-gateway:xsd:common:1"
AUTHORIZATION_REQUEST = "urn:ecuapass-gateway:xsd:authorization-request:1"
EXPORT_DECLARATION = "urn:ecuapass-gateway:xsd:export-declaration:1"
WAREHOUSE_ENTRY = "urn:ecuapass-gateway:xsd:warehouse-entry:1"
REPLY = "urn:ecuapass-gateway:xsd:reply:1"
# The enveloped signature of a signed e-document (W3C XML Signature, with ETSI XAdES qualifying properties).
DSIG = "http://www.w3.org/2000/09/xmldsig#"
XADES = "http://uri.etsi.org/01903/v1.3.2#"

PREFIXES: dict[str, str] = {
    "cmn": COMMON,
    "aut": AUTHORIZATION_REQUEST,
    "dae": EXPORT_DECLARATION,
    "ing": WAREHOUSE_ENTRY,
    "rep": REPLY,
}


def qname(namespace: str, local: str) -> str:
    """Clark notation, as lxml wants it: ``{urn:…}Local``."""
    return f"{{{namespace}}}{local}"
