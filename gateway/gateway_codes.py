"""The gateway's own error catalogue: every code a rejection by the gateway (``rejected_by: gateway``, stage
``CONTRACT``) can carry, and the one warning it adds to acknowledgments.

A field that breaks the event contract is reported as ``GW-`` + its validation error type: the strict models'
types (``GW-STRING_PATTERN_MISMATCH``, ``GW-MISSING``…) and the régimen-51 checks of ``gateway.events``
(``GW-RUC_INVALID``, ``GW-RETURN_BEFORE_SHIPMENT``…). Each carries the path of the field in the publisher's event,
an English message (the validator's own, with the offending value's details) and the Spanish one below.
``contracts/gateway-codes.md`` is generated from this table (``python -m gateway.gateway_codes``); customs' codes
are in ``gateway.contract.customs_codes``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

Group = Literal["envelope", "field", "régimen 51", "gateway"]


@dataclass(frozen=True, slots=True)
class GatewayCode:
    code: str
    group: Group
    rule: str
    message_es: str
    severity: Literal["ERROR", "WARNING"] = "ERROR"

    @property
    def error_type(self) -> str:
        """The validation error type behind the code: ``GW-STRING_TOO_LONG`` -> ``string_too_long``."""
        return self.code.removeprefix("GW-").lower()


def _field(error_type: str, rule: str, message_es: str, group: Group = "field") -> GatewayCode:
    return GatewayCode(f"GW-{error_type.upper()}", group, rule, message_es)


CATALOGUE: tuple[GatewayCode, ...] = (
    # The record as a whole: what the decoder refuses before looking at any field.
    GatewayCode(
        "GW-DUPLICATE_KEY",
        "envelope",
        "A member appears once in its JSON object (readers disagree on which of two counts).",
        "El miembro aparece más de una vez en el mismo objeto JSON.",
    ),
    GatewayCode(
        "GW-PARTITION_KEY_MISMATCH",
        "envelope",
        "The partitionkey attribute, when sent, equals the subject (the case id, which is also the Kafka key).",
        "El atributo partitionkey, si se envía, es igual a subject (el caso).",
    ),
    GatewayCode(
        "GW-TOO_MANY_ERRORS",
        "envelope",
        "Only the first 100 errors of an event are listed; this entry counts the rest.",
        "El evento tiene más errores, no listados.",
    ),
    # Form of a field: the strict models' error types.
    _field("missing", "A required field is present.", "Campo obligatorio ausente."),
    _field(
        "extra_forbidden", "No field outside the contract (the JSON Schemas).", "Campo no permitido por el contrato."
    ),
    _field("string_type", "The field is a JSON string.", "Debe ser un texto."),
    _field("int_type", "The field is a JSON integer.", "Debe ser un número entero."),
    _field("bool_type", "The field is true or false.", "Debe ser verdadero o falso."),
    _field("decimal_type", "The field is a decimal number.", "Debe ser un número decimal."),
    _field("decimal_parsing", "The field is a decimal number.", "Debe ser un número decimal."),
    _field(
        "decimal_max_places", "No more decimal places than the field allows.", "Tiene más decimales de los permitidos."
    ),
    _field("decimal_max_digits", "No more digits than the field allows.", "Tiene más dígitos de los permitidos."),
    _field(
        "decimal_whole_digits",
        "No more digits before the decimal point than the field allows.",
        "Tiene más dígitos enteros de los permitidos.",
    ),
    _field("finite_number", "A number is finite: no NaN, Infinity or overflow (1e999).", "Debe ser un número finito."),
    _field("greater_than", "The number is above the field's minimum.", "Debe ser mayor que el mínimo permitido."),
    _field("greater_than_equal", "The number is at least the field's minimum.", "Es menor que el mínimo permitido."),
    _field("less_than_equal", "The number is at most the field's maximum.", "Supera el máximo permitido."),
    _field(
        "string_pattern_mismatch",
        "The text has the field's format (identifier formats, tariff codes, references).",
        "No tiene el formato requerido.",
    ),
    _field("string_too_short", "The text is at least the field's minimum length.", "Es demasiado corto."),
    _field("string_too_long", "The text is at most the field's maximum length.", "Es demasiado largo."),
    _field(
        "too_short",
        "The list has at least the elements the field requires.",
        "Tiene menos elementos de los requeridos.",
    ),
    _field("too_long", "The list has at most the elements the field allows.", "Tiene más elementos de los permitidos."),
    _field("literal_error", "The value is one of the field's allowed values.", "No es uno de los valores permitidos."),
    _field("date_type", "The field is a date, YYYY-MM-DD.", "Debe ser una fecha (AAAA-MM-DD)."),
    _field(
        "date_from_datetime_parsing",
        "The field is a valid date, YYYY-MM-DD.",
        "Debe ser una fecha válida (AAAA-MM-DD).",
    ),
    _field("date_parsing", "The field is a valid date, YYYY-MM-DD.", "Debe ser una fecha válida (AAAA-MM-DD)."),
    _field("datetime_type", "The field is an RFC 3339 date-time.", "Debe ser una fecha y hora RFC 3339."),
    _field(
        "datetime_parsing", "The field is a valid RFC 3339 date-time.", "Debe ser una fecha y hora RFC 3339 válida."
    ),
    _field(
        "timezone_aware",
        "A date-time states its offset (Z or ±hh:mm).",
        "La fecha y hora debe indicar la zona horaria.",
    ),
    _field("model_type", "The field is a JSON object.", "Debe ser un objeto JSON."),
    _field("dict_type", "The field is a JSON object.", "Debe ser un objeto JSON."),
    _field("list_type", "The field is a JSON array.", "Debe ser una lista JSON."),
    _field("tuple_type", "The field is a JSON array.", "Debe ser una lista JSON."),
    _field(
        "xml_char_invalid",
        "Text holds only characters XML 1.0 can carry (no control characters or non-characters).",
        "Contiene caracteres que XML 1.0 no admite.",
    ),
    # Régimen 51: identifiers, code lists and the procedure's rules (shared/domain/regime51.md).
    _field(
        "ruc_invalid",
        "A RUC is 13 digits: province 01-24 or 30, third digit 0-6 or 9, establishment not 000; a natural person's is "
        "a valid cédula + establishment.",
        "El RUC no es válido.",
        "régimen 51",
    ),
    _field(
        "cedula_invalid",
        "A cédula is 10 digits with a valid province and check digit.",
        "La cédula no es válida (provincia o dígito verificador).",
        "régimen 51",
    ),
    _field(
        "container_number_invalid",
        "A container number carries a correct ISO 6346 check digit.",
        "El número de contenedor no cumple el dígito de control ISO 6346.",
        "régimen 51",
    ),
    _field(
        "district_unknown", "A SENAE customs district code.", "No es un distrito aduanero de la SENAE.", "régimen 51"
    ),
    _field(
        "country_unknown",
        "An ISO 3166-1 alpha-2 country code.",
        "No es un código de país ISO 3166-1 alfa-2.",
        "régimen 51",
    ),
    _field(
        "unit_unknown",
        "A UN/ECE Rec. 20 unit code the contract admits.",
        "No es una unidad UN/ECE Rec. 20 admitida.",
        "régimen 51",
    ),
    _field("currency_unknown", "An ISO 4217 currency code.", "No es un código de moneda ISO 4217.", "régimen 51"),
    _field("incoterm_unknown", "An Incoterms 2020 code.", "No es un Incoterm 2020.", "régimen 51"),
    _field(
        "incoterm_mode_mismatch",
        "FAS, FOB, CFR and CIF are sea-only Incoterms: the transport mode is 1 (sea).",
        "FAS, FOB, CFR y CIF son Incoterms solo marítimos: el modo de transporte debe ser 1.",
        "régimen 51",
    ),
    _field(
        "oce_code_required",
        "The operator is a registered foreign-trade operator (OCE code given).",
        "El operador debe estar registrado como OCE (código OCE obligatorio).",
        "régimen 51",
    ),
    _field(
        "return_before_shipment",
        "The return date is after the shipment date.",
        "La fecha de retorno debe ser posterior a la fecha de embarque.",
        "régimen 51",
    ),
    _field(
        "line_number_out_of_sequence",
        "Line numbers are 1, 2, 3… in order.",
        "Los números de línea deben ser 1, 2, 3… en orden.",
        "régimen 51",
    ),
    _field(
        "net_weight_above_gross",
        "The net weight does not exceed the gross weight.",
        "El peso neto no puede superar el peso bruto.",
        "régimen 51",
    ),
    _field(
        "seal_required",
        "Every container enters the warehouse sealed (at least one seal).",
        "Todo contenedor debe tener al menos un sello.",
        "régimen 51",
    ),
    _field(
        "container_duplicated",
        "A container is listed once in a warehouse entry.",
        "El contenedor está repetido en el ingreso.",
        "régimen 51",
    ),
    _field(
        "seal_duplicated",
        "A seal closes one container: it appears once.",
        "El sello está repetido: un sello cierra un solo contenedor.",
        "régimen 51",
    ),
    _field(
        "novelty_contradictory",
        "A reception is not short and over at once.",
        "Novedades contradictorias: no puede haber faltante y sobrante a la vez.",
        "régimen 51",
    ),
    _field(
        "novelty_exceeds_received",
        "Damage is declared on no more packages than were received.",
        "La avería declarada afecta a más bultos de los recibidos.",
        "régimen 51",
    ),
    # The gateway's own steps after the event is valid.
    GatewayCode(
        "GW-AGENCY_UNKNOWN",
        "gateway",
        "With agencies configured (GATEWAY_AGENCIES), the sender is one of them: the gateway files only with an "
        "agency's certificate and credentials.",
        "El remitente no es una agencia configurada en el gateway: no tiene su certificado de firma ni sus "
        "credenciales, y no presenta documentos en su nombre.",
    ),
    GatewayCode(
        "GW-XSD_INVALID",
        "gateway",
        "The e-document built from the event is valid against its XSD (a failure points at the event field behind "
        "the element).",
        "El documento generado no cumple el esquema XSD.",
    ),
    GatewayCode(
        "GW-REPLY_UNEXPLAINED",
        "gateway",
        "Customs rejected the document without listing errors: the rejection carries this entry instead.",
        "Aduana respondió sin detallar errores.",
    ),
    GatewayCode(
        "GW-RUC_CHECK_DIGIT",
        "régimen 51",
        "A company (third digit 9) or public-body (6) RUC passes the mod-11 check digit. Real RUCs may not: a warning "
        "on the acknowledgment, the document is filed anyway.",
        "El RUC no cumple el dígito verificador módulo 11; se presenta igualmente (advertencia).",
        "WARNING",
    ),
)

BY_CODE: dict[str, GatewayCode] = {entry.code: entry for entry in CATALOGUE}
#: Spanish message by validation error type, for ``gateway.events.validation``.
SPANISH: dict[str, str] = {entry.error_type: entry.message_es for entry in CATALOGUE}


def table() -> str:
    rows = ["| code | kind | severity | rule | message (es) |", "|---|---|---|---|---|"]
    rows += [f"| `{c.code}` | {c.group} | {c.severity} | {c.rule} | {c.message_es} |" for c in CATALOGUE]
    return "\n".join(rows)


def document() -> str:
    """``contracts/gateway-codes.md``."""
    return (
        "# Rejection codes of the gateway (generated by `make docs`; do not edit)\n\n"
        "A rejection with `rejected_by: gateway` (stage `CONTRACT`) lists these codes, each with the JSON path of the "
        "event field, the offending value, an English message (with details of the value) and the Spanish one "
        "below. Customs' codes are in `rejection-codes.md`. Records that are not events at all (not JSON, not a "
        "CloudEvent, an unknown type, too large) go to the dead-letter topic instead, with `dlq.reason`.\n\n"
        f"{table()}\n"
    )


if __name__ == "__main__":
    print(document(), end="")
