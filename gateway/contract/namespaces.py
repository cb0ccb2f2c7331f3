"""The XML namespaces every document shares, and the prefixes both sides write pointers with.

A document's own namespace and prefix are part of its specification (``gateway.contract.documents``); the prefixes
are part of the contract: error pointers (XPaths) in replies and rejections use them, and both sides resolve
pointers with ``PREFIXES``.
"""

from __future__ import annotations

from gateway.contract.documents import DOCUMENTS

COMMON = "urn:ecuapass-gateway:xsd:common:1"
REPLY = "urn:ecuapass-gateway:xsd:reply:1"
# What customs sends on its own initiative: the notification feed (``notifications.py``, ``notifications.xsd``).
NOTIFICATIONS = "urn:ecuapass-gateway:xsd:notifications:1"
# The enveloped signature of a signed e-document (W3C XML Signature, with ETSI XAdES qualifying properties).
DSIG = "http://www.w3.org/2000/09/xmldsig#"
XADES = "http://uri.etsi.org/01903/v1.3.2#"

PREFIXES: dict[str, str] = {
    "cmn": COMMON,
    **{spec.prefix: spec.namespace for spec in DOCUMENTS},
    "rep": REPLY,
    "ntf": NOTIFICATIONS,
}
