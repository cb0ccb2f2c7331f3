"""From pydantic's validation errors to the field errors a rejection reports.

Each error keeps a stable code (``GW-`` + the error type, e.g. ``GW-STRING_PATTERN_MISMATCH``,
``GW-CEDULA_INVALID``), the JSON path of the field in the publisher's event (``data.items[0].tariff_code``), the
offending value, and a message in Spanish and in English. Every code is in ``gateway.gateway_codes``.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, JsonValue, ValidationError
from pydantic_core import ErrorDetails

from gateway.gateway_codes import SPANISH


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


# The English text is pydantic's own (or our validators'); the Spanish one comes from the gateway's error catalogue
# (``gateway.gateway_codes``, published as ``contracts/gateway-codes.md``).


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
    error_type = error["type"]
    return FieldError(
        code=f"GW-{error_type.upper()}",
        path=json_path(location),
        value=_jsonable(error.get("input")) if error_type != "missing" else None,
        message_en=error["msg"],
        message_es=SPANISH.get(error_type, error["msg"]),
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
