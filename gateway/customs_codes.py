"""The Ecuapass-style endpoint's error catalogue: every code customs (our mock) can answer with.

Ecuapass publishes no error catalogue, so the codes are ours [G]; the rules behind them are SENAE's where
``shared/domain/regime51.md`` says so. The mock raises these codes; the gateway uses the catalogue to add the English
message to a rejection. ``contracts/rejection-codes.md`` is generated from this table (``python -m gateway.customs_codes``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

Stage = Literal["RECEPTION", "VALIDATION", "BUSINESS"]


@dataclass(frozen=True, slots=True)
class CustomsCode:
    code: str
    stage: Stage
    rule: str
    message_es: str
    message_en: str
    severity: Literal["ERROR", "WARNING"] = "ERROR"


CATALOGUE: tuple[CustomsCode, ...] = (
    CustomsCode(
        "R51-REC-001", "RECEPTION", "The body is well-formed XML without DTD or entities.",
        "El documento no es XML bien formado o contiene DTD/entidades.",
        "The document is not well-formed XML or carries a DTD/entities.",
    ),
    CustomsCode(
        "R51-REC-002", "RECEPTION", "The root element is a known e-document.",
        "Tipo de documento electrónico desconocido.", "Unknown e-document type.",
    ),
    CustomsCode(
        "R51-VAL-001", "VALIDATION", "The document is valid against its XSD.",
        "El documento no cumple el esquema XSD.", "The document is not valid against its XSD.",
    ),
    CustomsCode(
        "R51-DUP-001", "RECEPTION",
        "A message id, or a sender's document reference, is reused only for the same payload.",
        "Referencia duplicada: ya se recibió un documento distinto con el mismo identificador.",
        "Duplicate reference: a different document was already received under this identifier.",
    ),
    CustomsCode(
        "R51-AUT-001", "BUSINESS",
        "An authorization request carries the exporter letter, the proforma invoice and the import declaration.",
        "Falta un documento de soporte obligatorio (carta del exportador, factura preliminar o DAI).",
        "A required supporting document is missing (exporter letter, proforma invoice or import declaration).",
    ),
    CustomsCode(
        "R51-AUT-002", "BUSINESS",
        "A line under régimen 20 needs the District Director's act authorising the change from 20 to 51.",
        "Mercancía en régimen 20 sin acto administrativo de cambio de régimen 20 a 51.",
        "Goods under régimen 20 without the administrative act authorising the change from 20 to 51.",
    ),
    CustomsCode(
        "R51-AUT-003", "BUSINESS",
        "The goods return within 2 years of shipment, extensions included.",
        "El plazo de permanencia en el exterior supera los 2 años desde el embarque.",
        "The time abroad exceeds 2 years from shipment.",
    ),
    CustomsCode(
        "R51-AUT-004", "BUSINESS",
        "Goods from régimen 20 return within 1 year (the cap stated for régimen 50, applied to 51).",
        "Mercancía proveniente del régimen 20: el plazo no puede superar 1 año.",
        "Goods from régimen 20: the time abroad cannot exceed 1 year.",
    ),
    CustomsCode(
        "R51-ID-001", "VALIDATION",
        "Company and public-body RUCs pass the mod-11 check (real active RUCs may not: a warning only).",
        "El RUC no cumple el dígito verificador módulo 11 (advertencia).",
        "The RUC fails the mod-11 check digit (warning).",
        "WARNING",
    ),
)

BY_CODE: dict[str, CustomsCode] = {entry.code: entry for entry in CATALOGUE}


def table() -> str:
    rows = ["| code | stage | severity | rule | message (es) |", "|---|---|---|---|---|"]
    rows += [f"| `{c.code}` | {c.stage} | {c.severity} | {c.rule} | {c.message_es} |" for c in CATALOGUE]
    return "\n".join(rows)


if __name__ == "__main__":
    print(table())
