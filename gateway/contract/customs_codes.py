"""The Ecuapass-style endpoint's error catalogue: every code customs (our mock) can answer with.

Ecuapass publishes no error catalogue, so the codes are ours [G]; the rules behind them are SENAE's where
``shared/domain/regime51.md`` says so. The mock raises these codes; the gateway uses the catalogue to add the English
message to a rejection. ``contracts/rejection-codes.md`` is generated from this table
(``python -m gateway.contract.customs_codes``).
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
        "R51-REC-001",
        "RECEPTION",
        "The body is well-formed XML without DTD or entities.",
        "El documento no es XML bien formado o contiene DTD/entidades.",
        "The document is not well-formed XML or carries a DTD/entities.",
    ),
    CustomsCode(
        "R51-REC-002",
        "RECEPTION",
        "The root element is a known e-document.",
        "Tipo de documento electrónico desconocido.",
        "Unknown e-document type.",
    ),
    CustomsCode(
        "R51-VAL-001",
        "VALIDATION",
        "The document is valid against its XSD.",
        "El documento no cumple el esquema XSD.",
        "The document is not valid against its XSD.",
    ),
    CustomsCode(
        "R51-DUP-001",
        "RECEPTION",
        "A message id, or a sender's document reference, is reused only for the same payload.",
        "Referencia duplicada: ya se recibió un documento distinto con el mismo identificador.",
        "Duplicate reference: a different document was already received under this identifier.",
    ),
    CustomsCode(
        "R51-SIG-001",
        "RECEPTION",
        "A document carries its sender's enveloped signature (ds:Signature, XAdES-BES), where signatures are required.",
        "El documento no está firmado electrónicamente.",
        "The document is not electronically signed.",
    ),
    CustomsCode(
        "R51-SIG-002",
        "RECEPTION",
        "The signature verifies: the document, the signing certificate and the signed properties are unchanged.",
        "La firma electrónica no es válida: el documento fue alterado o la firma está mal formada.",
        "The electronic signature is invalid: the document was altered or the signature is malformed.",
    ),
    CustomsCode(
        "R51-SIG-003",
        "RECEPTION",
        "The signing certificate chains to a trusted CA, is in force and allows digital signatures.",
        "El certificado de firma no es de confianza, está vencido o no permite firmar.",
        "The signing certificate is not trusted, not in force, or not allowed to sign.",
    ),
    CustomsCode(
        "R51-SIG-004",
        "RECEPTION",
        "The signing certificate's subject carries the sender's RUC (cmn:SenderRuc).",
        "El RUC del certificado de firma no corresponde al RUC del remitente.",
        "The signing certificate's RUC is not the sender's RUC.",
    ),
    CustomsCode(
        "R51-AUT-001",
        "BUSINESS",
        "An authorization request carries the exporter letter, the proforma invoice and the import declaration.",
        "Falta un documento de soporte obligatorio (carta del exportador, factura preliminar o DAI).",
        "A required supporting document is missing (exporter letter, proforma invoice or import declaration).",
    ),
    CustomsCode(
        "R51-AUT-002",
        "BUSINESS",
        "A line under régimen 20 needs the District Director's act authorising the change from 20 to 51.",
        "Mercancía en régimen 20 sin acto administrativo de cambio de régimen 20 a 51.",
        "Goods under régimen 20 without the administrative act authorising the change from 20 to 51.",
    ),
    CustomsCode(
        "R51-AUT-003",
        "BUSINESS",
        "The goods return within 2 years of shipment, extensions included.",
        "El plazo de permanencia en el exterior supera los 2 años desde el embarque.",
        "The time abroad exceeds 2 years from shipment.",
    ),
    CustomsCode(
        "R51-AUT-004",
        "BUSINESS",
        "Goods from régimen 20 return within 1 year (the cap stated for régimen 50, applied to 51).",
        "Mercancía proveniente del régimen 20: el plazo no puede superar 1 año.",
        "Goods from régimen 20: the time abroad cannot exceed 1 year.",
    ),
    # --- export-declaration (DAE 51) codes: R51-DAE-… ---
    CustomsCode(
        "R51-DAE-001",
        "BUSINESS",
        "A DAE under régimen 51 names an approved régimen-51 authorization.",
        "No existe una autorización aprobada al régimen 51 con ese número.",
        "There is no approved régimen-51 authorization with this number.",
    ),
    CustomsCode(
        "R51-DAE-002",
        "BUSINESS",
        "The exporter of the DAE is the holder of the authorization (same RUC).",
        "El exportador no es el titular de la autorización (RUC distinto).",
        "The exporter is not the holder of the authorization (different RUC).",
    ),
    CustomsCode(
        "R51-DAE-003",
        "BUSINESS",
        "The authorization is still valid on the day the DAE is filed.",
        "La autorización al régimen 51 está vencida.",
        "The régimen-51 authorization has expired.",
    ),
    CustomsCode(
        "R51-DAE-004",
        "BUSINESS",
        "The expected return date is not after the return date the authorization allows.",
        "La fecha prevista de retorno es posterior a la autorizada.",
        "The expected return date is after the authorised return date.",
    ),
    CustomsCode(
        "R51-DAE-005",
        "BUSINESS",
        "Each DAE line names an authorised line with the same tariff code and unit.",
        "La línea no corresponde a una línea autorizada (número, subpartida o unidad).",
        "The line does not match an authorised line (number, tariff code or unit).",
    ),
    CustomsCode(
        "R51-DAE-006",
        "BUSINESS",
        "The quantity exported under an authorised line, over every DAE, stays within the authorised quantity.",
        "La cantidad exportada acumulada supera la cantidad autorizada.",
        "The cumulative exported quantity exceeds the authorised quantity.",
    ),
    CustomsCode(
        "R51-DAE-007",
        "BUSINESS",
        "The line net weights add up to the total net weight, within 0.5 %.",
        "La suma de los pesos netos de las líneas no coincide con el peso neto total (tolerancia 0,5 %).",
        "The line net weights do not add up to the total net weight (0.5 % tolerance).",
    ),
    CustomsCode(
        "R51-DAE-008",
        "BUSINESS",
        "The line FOB values add up to the total FOB value, within 0.01 USD.",
        "La suma de los valores FOB de las líneas no coincide con el FOB total.",
        "The line FOB values do not add up to the total FOB value.",
    ),
    CustomsCode(
        "R51-DAE-009",
        "BUSINESS",
        "A USD invoice's total equals the total FOB value, within 0.01 USD.",
        "El total de la factura en USD no coincide con el FOB total.",
        "The USD invoice total does not match the total FOB value.",
    ),
    CustomsCode(
        "R51-DAE-010",
        "BUSINESS",
        "Goods declared in a maritime district are loaded at that district's port.",
        "El puerto de embarque no corresponde al distrito aduanero.",
        "The port of loading does not belong to the customs district.",
    ),
    CustomsCode(
        "R51-DAE-011",
        "BUSINESS",
        "Goods declared in an air district (019 Guayaquil aéreo, 055 Quito) leave by air (transport mode 4).",
        "En un distrito aéreo (019, 055) el modo de transporte debe ser aéreo (4).",
        "In an air district (019, 055) the transport mode must be air (4).",
    ),
    # --- warehouse-entry codes: R51-ING-… ---
    CustomsCode(
        "R51-ING-001",
        "BUSINESS",
        "A warehouse entry names a DAE under régimen 51 that customs accepted.",
        "No existe una DAE de régimen 51 aceptada con ese número.",
        "No accepted régimen-51 DAE has this number.",
    ),
    CustomsCode(
        "R51-ING-002",
        "BUSINESS",
        "The goods of a DAE enter the temporary warehouse once: one entry per DAE.",
        "La DAE ya tiene registrado un ingreso al depósito temporal.",
        "The DAE already has a warehouse entry.",
    ),
    CustomsCode(
        "R51-ING-003",
        "BUSINESS",
        "The entry is registered in the DAE's customs district.",
        "El distrito del ingreso no coincide con el de la DAE.",
        "The district of the entry differs from the DAE's.",
    ),
    CustomsCode(
        "R51-ING-004",
        "BUSINESS",
        "The packages received equal the packages declared in the DAE.",
        "El número de bultos recibidos no coincide con el declarado en la DAE.",
        "The number of packages received differs from the DAE's.",
    ),
    CustomsCode(
        "R51-ING-005",
        "BUSINESS",
        "A gross weight more than 5 % off the DAE's needs a declared shortage (lighter) or overage (heavier).",
        "El peso bruto recibido difiere más del 5 % del declarado en la DAE sin novedad de faltante o sobrante.",
        "The gross weight received is more than 5 % off the DAE's and no shortage or overage is declared.",
    ),
    CustomsCode(
        "R51-ING-006",
        "BUSINESS",
        "The gross weight received is within 10 % of the DAE's, novelty or not.",
        "El peso bruto recibido difiere más del 10 % del declarado en la DAE.",
        "The gross weight received is more than 10 % off the DAE's.",
    ),
    CustomsCode(
        "R51-ING-007",
        "BUSINESS",
        "The entry time is not in the future (5 minutes of clock difference tolerated).",
        "La fecha y hora de ingreso está en el futuro.",
        "The entry time is in the future.",
    ),
    CustomsCode(
        "R51-ID-001",
        "VALIDATION",
        "Company and public-body RUCs pass the mod-11 check (real active RUCs may not: a warning only).",
        "El RUC no cumple el dígito verificador módulo 11 (advertencia).",
        "The RUC fails the mod-11 check digit (warning).",
        "WARNING",
    ),
    CustomsCode(
        "R51-ID-002",
        "VALIDATION",
        "A natural-person RUC (third digit 0-5) is a valid cédula followed by an establishment other than 000.",
        "El RUC de persona natural no es válido (cédula o establecimiento).",
        "The natural-person RUC is not valid (cédula or establishment).",
    ),
    CustomsCode(
        "R51-ID-003",
        "VALIDATION",
        "A container number carries a correct ISO 6346 check digit.",
        "El número de contenedor no cumple el dígito de control ISO 6346.",
        "The container number fails the ISO 6346 check digit.",
    ),
)

BY_CODE: dict[str, CustomsCode] = {entry.code: entry for entry in CATALOGUE}


def table() -> str:
    rows = ["| code | stage | severity | rule | message (es) |", "|---|---|---|---|---|"]
    rows += [f"| `{c.code}` | {c.stage} | {c.severity} | {c.rule} | {c.message_es} |" for c in CATALOGUE]
    return "\n".join(rows)


def document() -> str:
    """``contracts/rejection-codes.md``."""
    return f"# Rejection codes of the Ecuapass-style endpoint (generated by `make docs`; do not edit)\n\n{table()}\n"


if __name__ == "__main__":
    print(document(), end="")
