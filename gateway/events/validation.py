"""From pydantic's validation errors to the field errors a rejection reports.

Each error keeps a stable code (``GW-`` + the error type, e.g. ``GW-STRING_PATTERN_MISMATCH``,
``GW-CEDULA_INVALID``), the JSON path of the field in the publisher's event (``data.items[0].tariff_code``), the
offending value, and a message in Spanish and in English.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, JsonValue, ValidationError
from pydantic_core import ErrorDetails


class FieldError(BaseModel):
    """One problem with one field, as a back-end developer needs it to act."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    code: str = Field(description="Stable error code: GW-… from the gateway, R51-… from customs.")
    path: str = Field(description="JSON path of the field in the answered event, e.g. data.items[0].tariff_code.")
    message_es: str
    message_en: str
    value: JsonValue = Field(None, description="The offending value, when there is one.")
    pointer: str | None = Field(None, description="XPath of the element in the e-document, when known.")
    severity: Literal["error", "warning"] = "error"


# Spanish messages for the error types our models can raise; the English text is pydantic's own (or ours).
_SPANISH: dict[str, str] = {
    "missing": "Campo obligatorio ausente.",
    "extra_forbidden": "Campo no permitido por el contrato.",
    "string_type": "Debe ser un texto.",
    "int_type": "Debe ser un número entero.",
    "bool_type": "Debe ser verdadero o falso.",
    "decimal_type": "Debe ser un número decimal.",
    "decimal_parsing": "Debe ser un número decimal.",
    "decimal_max_places": "Tiene más decimales de los permitidos.",
    "decimal_max_digits": "Tiene más dígitos de los permitidos.",
    "decimal_whole_digits": "Tiene más dígitos enteros de los permitidos.",
    "finite_number": "Debe ser un número finito.",
    "greater_than": "Debe ser mayor que el mínimo permitido.",
    "greater_than_equal": "Es menor que el mínimo permitido.",
    "less_than_equal": "Supera el máximo permitido.",
    "string_pattern_mismatch": "No tiene el formato requerido.",
    "string_too_short": "Es demasiado corto.",
    "string_too_long": "Es demasiado largo.",
    "too_short": "Tiene menos elementos de los requeridos.",
    "too_long": "Tiene más elementos de los permitidos.",
    "literal_error": "No es uno de los valores permitidos.",
    "date_type": "Debe ser una fecha (AAAA-MM-DD).",
    "date_from_datetime_parsing": "Debe ser una fecha válida (AAAA-MM-DD).",
    "date_parsing": "Debe ser una fecha válida (AAAA-MM-DD).",
    "datetime_type": "Debe ser una fecha y hora RFC 3339.",
    "datetime_parsing": "Debe ser una fecha y hora RFC 3339 válida.",
    "timezone_aware": "La fecha y hora debe indicar la zona horaria.",
    "model_type": "Debe ser un objeto JSON.",
    "tuple_type": "Debe ser una lista JSON.",
    "list_type": "Debe ser una lista JSON.",
    "dict_type": "Debe ser un objeto JSON.",
    "ruc_invalid": "El RUC no es válido.",
    "cedula_invalid": "La cédula no es válida (provincia o dígito verificador).",
    "container_number_invalid": "El número de contenedor no cumple el dígito de control ISO 6346.",
    "district_unknown": "No es un distrito aduanero de la SENAE.",
    "country_unknown": "No es un código de país ISO 3166-1 alfa-2.",
    "unit_unknown": "No es una unidad UN/ECE Rec. 20 admitida.",
    "oce_code_required": "El operador debe estar registrado como OCE (código OCE obligatorio).",
    "return_before_shipment": "La fecha de retorno debe ser posterior a la fecha de embarque.",
    "line_number_out_of_sequence": "Los números de línea deben ser 1, 2, 3… en orden.",
    "xml_char_invalid": "Contiene caracteres que XML 1.0 no admite.",
    # --- export-declaration (DAE 51) error types ---
    "currency_unknown": "No es un código de moneda ISO 4217.",
    "incoterm_unknown": "No es un Incoterm 2020.",
    "incoterm_mode_mismatch": "FAS, FOB, CFR y CIF son Incoterms solo marítimos: el modo de transporte debe ser 1.",
    "net_weight_above_gross": "El peso neto no puede superar el peso bruto.",
    # --- warehouse-entry error types ---
    "seal_required": "Todo contenedor debe tener al menos un sello.",
    "container_duplicated": "El contenedor está repetido en el ingreso.",
    "seal_duplicated": "El sello está repetido: un sello cierra un solo contenedor.",
    "novelty_contradictory": "Novedades contradictorias: no puede haber faltante y sobrante a la vez.",
    "novelty_exceeds_received": "La avería declarada afecta a más bultos de los recibidos.",
}


def json_path(location: Iterable[int | str]) -> str:
    """``("data", "items", 0, "tariff_code")`` -> ``data.items[0].tariff_code``."""
    path = ""
    for part in location:
        if isinstance(part, int) or (isinstance(part, str) and part.isdigit()):
            path += f"[{part}]"
        else:
            path += f".{part}" if path else str(part)
    return path


def field_errors(exc: ValidationError, *, skip: int = 0) -> list[FieldError]:
    """Every error of ``exc``, in order; ``skip`` drops leading location parts (a union's tag)."""
    return [_field_error(error, skip) for error in exc.errors(include_url=False)]


def _field_error(error: ErrorDetails, skip: int) -> FieldError:
    location: Sequence[int | str] = error["loc"][skip:]
    context: dict[str, Any] = dict(error.get("ctx") or {})
    extra = context.get("field")
    if isinstance(extra, str):
        location = [*location, *extra.split(".")]
    kind = error["type"]
    return FieldError(
        code=f"GW-{kind.upper()}",
        path=json_path(location),
        value=_jsonable(error.get("input")) if kind != "missing" else None,
        message_en=error["msg"],
        message_es=_SPANISH.get(kind, error["msg"]),
    )


def _jsonable(value: Any) -> Any:
    """The offending value as JSON can carry it; containers are summarised, not echoed."""
    if value is None or isinstance(value, bool | int | str):
        return value if not isinstance(value, str) or len(value) <= 200 else value[:200] + "…"
    if isinstance(value, float):
        return value if value == value and value not in (float("inf"), float("-inf")) else str(value)
    if isinstance(value, dict):
        return "{…}"
    if isinstance(value, list | tuple):
        return "[…]"
    return str(value)
