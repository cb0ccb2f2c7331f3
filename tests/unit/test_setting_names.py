"""Errors name settings by field path (``ecuapass.token_file``, ``agencies.<RUC>.token_file``, ``kafka.ssl_cafile``);
only the entry point renders them as environment variables, with ``gateway.settings.environment_variable``.

The adapter knows which credential comes from where (an agency's own, or the ``ecuapass`` section's) and whose
credentials it holds: no wrapper patches its messages afterwards."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest

from adapters.http_customs_endpoint import HttpCustomsEndpoint
from gateway.bootstrap import customs_endpoint
from gateway.errors import ConfigurationError
from gateway.runtime.circuit import CircuitBreaker
from gateway.runtime.metrics import GatewayMetrics
from gateway.settings import AgencySettings, EcuapassSettings, RetrySettings, Settings, endpoint_fields
from gateway.settings import environment_variable as env

ROOT = Path(__file__).resolve().parents[2]
UNO, DOS, TRES = "1790011674001", "0992339411001", "0190678342001"
TOKEN = "t0ken-never-shown"


def test_field_paths_become_environment_variables() -> None:
    assert env("ecuapass.token_file") == "GATEWAY_ECUAPASS__TOKEN_FILE"
    assert env("agencies.<RUC>.ssl_certfile") == "GATEWAY_AGENCIES__<RUC>__SSL_CERTFILE"
    assert env("kafka.ssl_cafile") == "GATEWAY_KAFKA__SSL_CAFILE"
    assert env("agencies") == "GATEWAY_AGENCIES" and env("log_level") == "GATEWAY_LOG_LEVEL"


def test_explain_renders_exactly_the_fields_the_error_names() -> None:
    error = ConfigurationError(
        "check ecuapass.token or ecuapass.token_file (not ecuapass.tokens, nor xecuapass.token). "
        "Or agencies.<RUC>.token.",
        fields=("ecuapass.token", "ecuapass.token_file", "agencies.<RUC>.token"),
    )
    assert error.explain(env) == (
        "check GATEWAY_ECUAPASS__TOKEN or GATEWAY_ECUAPASS__TOKEN_FILE (not ecuapass.tokens, nor xecuapass.token). "
        "Or GATEWAY_AGENCIES__<RUC>__TOKEN."
    )
    assert ConfigurationError("no fields").explain(env) == "no fields"


def test_an_agencys_own_credentials_are_named_as_its_settings() -> None:
    base = EcuapassSettings(url="https://customs.test/", token=TOKEN)
    own_token = AgencySettings(certificate=Path("a.pem"), token_file=Path("t"))
    own_certificate = AgencySettings(certificate=Path("a.pem"), ssl_certfile=Path("c.pem"))
    assert endpoint_fields() == endpoint_fields(AgencySettings(certificate=Path("a.pem")))
    assert endpoint_fields()["token_file"] == "ecuapass.token_file"
    assert endpoint_fields(own_token)["token_file"] == "agencies.<RUC>.token_file"
    assert endpoint_fields(own_token)["ssl_certfile"] == "ecuapass.ssl_certfile"
    assert endpoint_fields(own_certificate)["ssl_keyfile"] == "agencies.<RUC>.ssl_keyfile"
    assert endpoint_fields(own_certificate)["token"] == "ecuapass.token"
    assert endpoint_fields(own_certificate)["ssl_cafile"] == "ecuapass.ssl_cafile"  # one CA for every agency
    assert own_token.endpoint(base).token is None  # the agency's token_file replaces the base token


def _settings(tmp_path: Path, **agencies: AgencySettings) -> Settings:
    token = tmp_path / "shared.token"
    token.write_text("shared-token", encoding="utf-8")
    return Settings(ecuapass=EcuapassSettings(token_file=token), agencies=agencies)


def test_an_agencys_unreadable_token_file_names_the_agency_and_its_setting(tmp_path: Path) -> None:
    settings = _settings(
        tmp_path,
        **{
            UNO: AgencySettings(name="Uno", certificate=tmp_path / "uno.pem"),
            DOS: AgencySettings(name="Dos", certificate=tmp_path / "dos.pem", token_file=tmp_path / "missing"),
        },
    )
    with pytest.raises(ConfigurationError) as caught:
        customs_endpoint(settings, CircuitBreaker(), GatewayMetrics())
    message = str(caught.value)
    assert message.startswith("with the credentials of agency **********001 (Dos): cannot read agencies.<RUC>.token")
    assert caught.value.fields == ("agencies.<RUC>.token_file",)
    assert "GATEWAY_AGENCIES__<RUC>__TOKEN_FILE" in caught.value.explain(env)
    assert "Uno" not in message and DOS not in message and "GATEWAY_" not in message


def test_the_shared_credentials_name_the_agencies_using_them_and_the_ecuapass_settings(tmp_path: Path) -> None:
    settings = Settings(
        ecuapass=EcuapassSettings(token_file=tmp_path / "missing"),
        agencies={
            UNO: AgencySettings(name="Uno", certificate=tmp_path / "uno.pem"),
            DOS: AgencySettings(name="Dos", certificate=tmp_path / "dos.pem", token=TOKEN),
            TRES: AgencySettings(name="Tres", certificate=tmp_path / "tres.pem"),
        },
    )
    with pytest.raises(ConfigurationError) as caught:
        customs_endpoint(settings, CircuitBreaker(), GatewayMetrics())
    assert str(caught.value).startswith(
        "with the credentials of agency **********001 (Uno), agency **********001 (Tres)"
    )
    assert caught.value.fields == ("ecuapass.token_file",)
    assert "cannot read GATEWAY_ECUAPASS__TOKEN_FILE" in caught.value.explain(env)


async def test_a_refused_probe_names_the_agencies_and_where_their_credentials_are_set() -> None:
    agency = AgencySettings(certificate=Path("a.pem"), token=TOKEN)
    endpoint = HttpCustomsEndpoint(
        agency.endpoint(EcuapassSettings(url="https://customs.test/")),
        RetrySettings(),
        transport=httpx.MockTransport(lambda request: httpx.Response(401)),
        fields=endpoint_fields(agency),
        credentials_of="agency B, agency C",
    )
    try:
        with pytest.raises(ConfigurationError) as caught:
            await endpoint.probe()
    finally:
        await endpoint.aclose()
    assert str(caught.value).startswith("with the credentials of agency B, agency C: the customs endpoint")
    assert "check agencies.<RUC>.token or agencies.<RUC>.token_file" in str(caught.value)
    assert "the client certificate (ecuapass.ssl_certfile)" in str(caught.value)
    assert "check GATEWAY_AGENCIES__<RUC>__TOKEN or GATEWAY_AGENCIES__<RUC>__TOKEN_FILE" in caught.value.explain(env)
    assert TOKEN not in caught.value.explain(env)


@pytest.mark.parametrize(
    "module",
    [
        "adapters/http_customs_endpoint.py",
        "adapters/http_credentials.py",
        "adapters/http_errors.py",
        "adapters/http_probe.py",
        "adapters/per_agency_customs_endpoint.py",
        "gateway/bootstrap.py",
        "gateway/runtime/tls.py",
        "gateway/kafka/security.py",
        "gateway/kafka/reading.py",
    ],
)
def test_modules_below_the_entry_point_never_spell_environment_variables(module: str) -> None:
    assert "GATEWAY_" not in (ROOT / module).read_text(encoding="utf-8")
