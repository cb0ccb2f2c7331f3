"""The gateway's one settings object.

Built once by the entry point (``Settings()`` reads ``GATEWAY_*`` environment variables, ``__`` nests) and passed
down; nothing else reads the environment. The README's settings table is generated from these fields
(``python -m gateway.settings``), so every field carries its description.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, HttpUrl, SecretStr, field_validator, model_validator
from pydantic.fields import FieldInfo
from pydantic_settings import BaseSettings, SettingsConfigDict

# Room a dead letter's dlq.* headers take above the record they carry (they hold far less).
DEAD_LETTER_HEADROOM = 16_384


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class KafkaSettings(_Section):
    bootstrap_servers: str = Field(
        "127.0.0.1:9092", description="Comma-separated `host:port` list of the Kafka brokers."
    )
    client_id: str = Field("ecuapass-gateway", description="Client id the gateway's Kafka clients announce.")
    group_id: str = Field(
        "ecuapass-gateway",
        description="Consumer group of the gateway; replicas in one group split the partitions.",
    )
    security_protocol: Literal["PLAINTEXT", "SSL", "SASL_PLAINTEXT", "SASL_SSL"] = Field(
        "PLAINTEXT", description="How the gateway connects to the brokers."
    )
    sasl_mechanism: Literal["PLAIN", "SCRAM-SHA-256", "SCRAM-SHA-512"] = Field(
        "PLAIN", description="SASL mechanism, with `SASL_PLAINTEXT` or `SASL_SSL`."
    )
    sasl_username: str | None = Field(None, description="SASL user name.")
    sasl_password: SecretStr | None = Field(None, description="SASL password (never logged).")
    ssl_cafile: Path | None = Field(None, description="PEM file of the CA that signed the brokers' certificates.")
    ssl_certfile: Path | None = Field(None, description="PEM client certificate, for mutual TLS.")
    ssl_keyfile: Path | None = Field(None, description="PEM private key of the client certificate.")
    session_timeout_ms: int = Field(
        10_000,
        ge=1_000,
        description="Consumer session timeout; a consumer silent this long leaves the group.",
    )
    heartbeat_interval_ms: int = Field(3_000, ge=100, description="Consumer heartbeat interval.")
    auto_offset_reset: Literal["earliest", "latest"] = Field(
        "earliest", description="Where a new consumer group starts reading the input topic."
    )
    request_timeout_ms: int = Field(30_000, ge=1_000, description="Kafka request timeout.")
    fetch_max_wait_ms: int = Field(
        500,
        ge=1,
        le=10_000,
        description="Longest time a fetch waits for new records. Keep the default with Apache Kafka, which answers "
        "as soon as records arrive; Tansu answers a waiting fetch only after about half of it, so the embedded "
        "stack uses 20.",
    )
    max_message_bytes: int = Field(
        1_048_576, ge=1_024, description="Largest record the gateway produces (outcomes, dead letters)."
    )
    compression_type: Literal["none", "gzip", "snappy", "lz4", "zstd"] = Field(
        "none",
        description="Compression of the records the gateway produces. Input records may use any codec whatever "
        "this says. `none` costs the least CPU per outcome; `lz4` or `zstd` save broker space and network.",
    )

    @model_validator(mode="after")
    def _sasl_needs_credentials(self) -> KafkaSettings:
        if self.security_protocol.startswith("SASL") and not (self.sasl_username and self.sasl_password):
            raise ValueError("sasl_username and sasl_password are required with a SASL security protocol")
        return self


class TopicSettings(_Section):
    input: str = Field("ecuapass.case-events.v1", description="Canonical case events (input), keyed by case id.")
    acks: str = Field("ecuapass.acks.v1", description="Acknowledgments: documents customs accepted.")
    rejections: str = Field("ecuapass.rejections.v1", description="Rejections, by the gateway or by customs.")
    dlq: str = Field("ecuapass.dlq.v1", description="Dead letters: events that could not be processed.")
    quarantine: str = Field(
        "ecuapass.dlq-quarantine.v1", description="Dead letters replayed too often, set aside by `dlq replay`."
    )
    notifications: str = Field(
        "ecuapass.notifications.v1",
        description="Customs notifications pulled by the intake, as CloudEvents keyed by case id.",
    )
    archive: str = Field(
        "ecuapass.archive.v1", description="Raw customs documents as received (each notification's XML), first."
    )
    intake_dlq: str = Field(
        "ecuapass.intake.dlq.v1",
        description="Notifications the intake cannot read (malformed, unknown type), raw, with why and where.",
    )
    intake_feeds: str = Field(
        "ecuapass.intake.feeds.v1",
        description="The intake's control topic: one partition per feed, holding its cursor; the instance "
        "assigned a partition pulls that feed.",
    )
    create_missing: bool = Field(True, description="Create missing topics when the gateway starts.")
    partitions: int = Field(6, ge=1, description="Partitions of topics the gateway creates.")
    replication_factor: int = Field(1, ge=1, description="Replication factor of topics the gateway creates.")


class EcuapassSettings(_Section):
    url: HttpUrl = Field(
        HttpUrl("http://127.0.0.1:8081/"),
        description="Base URL of the Ecuapass-style endpoint (or the mock).",
    )
    connect_timeout_s: float = Field(3.0, gt=0, description="Time allowed to open a connection to the endpoint.")
    read_timeout_s: float = Field(30.0, gt=0, description="Time allowed for the endpoint's answer.")
    max_connections: int = Field(100, ge=1, description="Connection pool size towards the endpoint.")
    token: SecretStr | None = Field(None, description="Bearer token sent to the endpoint (never logged).")
    token_file: Path | None = Field(
        None, description="File holding the bearer token instead (a mounted secret; surrounding whitespace ignored)."
    )
    ssl_cafile: Path | None = Field(
        None, description="PEM file of the CA that signed the endpoint's certificate (default: the system's CAs)."
    )
    ssl_certfile: Path | None = Field(None, description="PEM client certificate, for mutual TLS with the endpoint.")
    ssl_keyfile: Path | None = Field(
        None, description="PEM private key of the client certificate, unencrypted (default: in the certificate file)."
    )
    prefer_async: bool = Field(
        False, description="Ask for two-stage replies (reception first) and poll the status query for the decision."
    )
    poll_interval_s: float = Field(0.5, gt=0, description="Interval between status queries awaiting a decision.")
    decision_timeout_s: float = Field(
        300.0, gt=0, description="Longest wait for customs' decision on a received document."
    )

    @model_validator(mode="after")
    def _consistent_credentials(self) -> EcuapassSettings:
        if self.token is not None and self.token_file is not None:
            raise ValueError("give the bearer token as token or as token_file, not both")
        if self.ssl_keyfile is not None and self.ssl_certfile is None:
            raise ValueError("ssl_keyfile needs ssl_certfile")
        if (self.ssl_cafile or self.ssl_certfile) and self.url.scheme != "https":
            raise ValueError("ssl_cafile and ssl_certfile need an https:// url")
        return self


class RetrySettings(_Section):
    max_attempts: int = Field(6, ge=1, description="Attempts per filing (or feed request), the first included.")
    max_elapsed_s: float = Field(
        120.0, gt=0, description="Give up retrying a filing (or feed request) after this long."
    )
    initial_backoff_s: float = Field(0.2, gt=0, description="Backoff ceiling of the first retry (full jitter).")
    max_backoff_s: float = Field(15.0, gt=0, description="Largest wait between two attempts.")


class IntakeSettings(_Section):
    """The intake of customs notifications: the feeds pulled (one per set of endpoint credentials), how often,
    and their own retries and circuit, so that a failing feed does not stop filing, nor the reverse."""

    enabled: bool = Field(
        False,
        description="Pull customs' notification feeds (ours [G]: Ecuapass publishes none); the dev stack turns "
        "it on.",
    )
    path: str = Field("/api/v1/notifications", description="Path of the feed under `GATEWAY_ECUAPASS__URL`.")
    interval_s: float = Field(5.0, gt=0, description="Pause between polls of a feed that has nothing more.")
    page_size: int = Field(100, ge=1, le=10_000, description="Notifications asked for per page.")
    retry: RetrySettings = Field(
        default_factory=RetrySettings,
        description="Retries of one feed request (then the intake waits `interval_s` and asks again).",
    )
    failure_threshold: int = Field(
        5, ge=1, description="Transient failures in a row that open a feed's circuit (each feed has its own)."
    )
    open_s: float = Field(10.0, gt=0, description="How long a feed's circuit stays open before a probe.")


class ProcessingSettings(_Section):
    max_in_flight: int = Field(
        200, ge=1, description="Events filed concurrently (different cases; one case's events stay in order)."
    )
    batch_max_records: int = Field(500, ge=1, description="Most records taken from Kafka in one poll.")
    batch_timeout_ms: int = Field(100, ge=1, description="Longest wait to fill a poll.")
    max_event_bytes: int = Field(
        1_032_192,
        ge=1_024,
        description="Larger input records go to the dead-letter topic unread, cut to their first 4 KiB. At most "
        "`GATEWAY_KAFKA__MAX_MESSAGE_BYTES` less 16 KiB, so that a dead letter, headers included, always fits.",
    )
    publish_retry_s: float = Field(
        1.0,
        gt=0,
        description="Pause before publishing an outcome again after a transient failure (the broker away or busy). "
        "A record the broker refuses for good is not retried: an acknowledgment or rejection becomes an "
        "`unpublishable` dead letter, a dead letter stops its partition.",
    )
    commit_interval_ms: int = Field(
        200, ge=10, description="How often finished work is committed (one commit for all partitions)."
    )
    redelivery_window: int = Field(
        10_000,
        ge=0,
        description="After a partition is assigned, this many records past its committed offset are checked "
        "with the status query before filing (a previous owner may have filed them).",
    )
    drain_timeout_s: float = Field(
        30.0, gt=0, description="On SIGTERM or a rebalance, how long in-flight events may take to finish."
    )
    stall_after_s: float = Field(
        60.0,
        gt=0,
        description="A partition whose position has not moved for this long while records wait behind it (and "
        "that the gateway did not pause on purpose) is stalled: `/readyz` fails and "
        "`ecuapass_gateway_partition_stalled_seconds` shows it.",
    )


class CircuitSettings(_Section):
    failure_threshold: int = Field(
        10, ge=1, description="Transient failures in a row that open the circuit to the endpoint."
    )
    open_s: float = Field(5.0, gt=0, description="How long the circuit stays open before a probe.")


class OpsSettings(_Section):
    enabled: bool = Field(True, description="Serve /metrics, /healthz and /readyz.")
    host: str = Field("127.0.0.1", description="Address of the ops HTTP server (0.0.0.0 in a container).")
    port: int = Field(9464, ge=0, le=65535, description="Port of the ops HTTP server (0: any free port).")


class TracingSettings(_Section):
    exporter: Literal["none", "console", "otlp"] = Field(
        "none", description="Where OpenTelemetry spans go; W3C trace context is propagated in every case."
    )
    otlp_endpoint: str = Field(
        "http://127.0.0.1:4318/v1/traces", description="OTLP/HTTP endpoint, with the `otlp` exporter."
    )
    service_name: str = Field("ecuapass-gateway", description="`service.name` of the spans.")


_RUC = re.compile(r"\d{13}")


class AgencySettings(_Section):
    """One agency the gateway files for: the certificate its e-documents are signed with and its endpoint
    credentials. Keyed by the agency's RUC (the events' ``sender``)."""

    name: str | None = Field(None, description="The agency's name, for people (logs, error messages).")
    certificate: Path = Field(
        description="The agency's signing certificate: PKCS#12 (`.p12`/`.pfx`, certificate and key) or PEM "
        "(certificate, optionally followed by its chain). Its subject carries the agency's RUC."
    )
    key: Path | None = Field(None, description="PEM private key of a PEM `certificate` (not with PKCS#12).")
    password: SecretStr | None = Field(
        None, description="Password of the PKCS#12 file or of the encrypted PEM key (never logged)."
    )
    password_file: Path | None = Field(
        None, description="File holding that password instead (a mounted secret; surrounding whitespace ignored)."
    )
    token: SecretStr | None = Field(
        None, description="The agency's bearer token for the endpoint, instead of `GATEWAY_ECUAPASS__TOKEN`."
    )
    token_file: Path | None = Field(None, description="File holding the agency's bearer token instead.")
    ssl_certfile: Path | None = Field(
        None, description="The agency's PEM client certificate for mutual TLS, instead of the `ecuapass` one."
    )
    ssl_keyfile: Path | None = Field(None, description="PEM private key of the agency's client certificate.")

    @model_validator(mode="after")
    def _consistent(self) -> AgencySettings:
        if self.password is not None and self.password_file is not None:
            raise ValueError("give the certificate password as password or as password_file, not both")
        if self.key is not None and self.certificate.suffix.lower() in (".p12", ".pfx"):
            raise ValueError("a PKCS#12 certificate holds its key: key is for PEM certificates")
        if self.token is not None and self.token_file is not None:
            raise ValueError("give the bearer token as token or as token_file, not both")
        if self.ssl_keyfile is not None and self.ssl_certfile is None:
            raise ValueError("ssl_keyfile needs ssl_certfile")
        return self

    def endpoint(self, base: EcuapassSettings) -> EcuapassSettings:
        """The endpoint settings of this agency: ``base`` with the agency's credentials where it has its own."""
        update: dict[str, object] = {}
        if self.token is not None or self.token_file is not None:
            update |= {"token": self.token, "token_file": self.token_file}
        if self.ssl_certfile is not None:
            update |= {"ssl_certfile": self.ssl_certfile, "ssl_keyfile": self.ssl_keyfile}
        return base.model_copy(update=update)


class Settings(BaseSettings):
    """Everything the gateway can be told; environment variables `GATEWAY_<SECTION>__<FIELD>`."""

    model_config = SettingsConfigDict(env_prefix="GATEWAY_", env_nested_delimiter="__", extra="forbid", frozen=True)

    kafka: KafkaSettings = Field(default_factory=KafkaSettings)
    topics: TopicSettings = Field(default_factory=TopicSettings)
    ecuapass: EcuapassSettings = Field(default_factory=EcuapassSettings)
    retry: RetrySettings = Field(default_factory=RetrySettings)
    processing: ProcessingSettings = Field(default_factory=ProcessingSettings)
    circuit: CircuitSettings = Field(default_factory=CircuitSettings)
    intake: IntakeSettings = Field(default_factory=IntakeSettings)
    ops: OpsSettings = Field(default_factory=OpsSettings)
    tracing: TracingSettings = Field(default_factory=TracingSettings)
    agencies: dict[str, AgencySettings] = Field(
        default_factory=dict,
        description="The agencies filed for, by RUC: `GATEWAY_AGENCIES='{\"<RUC>\": {...}}'` (JSON) or "
        "`GATEWAY_AGENCIES__<RUC>__<FIELD>`. None: documents are filed unsigned with the `ecuapass` credentials; "
        "some: each is signed with its sender's certificate and events from other senders are rejected.",
    )
    source: str = Field(
        "urn:ecuapass-gateway", description="CloudEvents `source` of the outcomes the gateway publishes."
    )
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = Field(
        "INFO", description="Log level. Identifiers are masked at INFO and above; payloads appear only at DEBUG."
    )
    log_format: Literal["auto", "json", "text"] = Field(
        "auto", description="`json`: one JSON object per line; `text`: for a person; `auto`: text on a terminal."
    )

    @field_validator("agencies")
    @classmethod
    def _agencies_by_ruc(cls, agencies: dict[str, AgencySettings]) -> dict[str, AgencySettings]:
        for ruc in agencies:
            if not _RUC.fullmatch(ruc):
                raise ValueError(f"agencies are keyed by their 13-digit RUC, not {ruc!r}")
        return agencies

    @model_validator(mode="after")
    def _agency_tls_needs_https(self) -> Settings:
        for agency in self.agencies.values():
            if agency.ssl_certfile is not None and self.ecuapass.url.scheme != "https":
                raise ValueError("an agency's ssl_certfile needs an https:// ecuapass url")
        return self

    @model_validator(mode="after")
    def _dead_letters_fit(self) -> Settings:
        # A dead letter is the record plus its dlq.* headers; one the broker refuses would stop its partition.
        room = self.kafka.max_message_bytes - DEAD_LETTER_HEADROOM
        if self.processing.max_event_bytes > room:
            raise ValueError(
                f"processing.max_event_bytes must leave {DEAD_LETTER_HEADROOM} bytes under kafka.max_message_bytes "
                f"for a dead letter's headers: at most {room}"
            )
        return self


def environment_variable(path: str) -> str:
    """The environment variable of a setting's field path: ``ecuapass.token_file`` -> ``GATEWAY_ECUAPASS__TOKEN_FILE``,
    ``agencies.<RUC>.token`` -> ``GATEWAY_AGENCIES__<RUC>__TOKEN``. The one place that spells settings so: errors
    name field paths, and the entry point renders them with this."""
    prefix = Settings.model_config.get("env_prefix") or ""
    delimiter = Settings.model_config.get("env_nested_delimiter") or "__"
    return prefix + delimiter.join(part.upper() for part in path.split("."))


# The customs endpoint's credentials: an agency's own replace the ecuapass section's (``AgencySettings.endpoint``).
ENDPOINT_CREDENTIALS = ("token", "token_file", "ssl_cafile", "ssl_certfile", "ssl_keyfile")


def endpoint_fields(agency: AgencySettings | None = None) -> dict[str, str]:
    """Where each credential of an endpoint's settings comes from, as the field path its errors name: the
    ``ecuapass`` section's, or ``agencies.<RUC>.*`` for those ``agency`` has of its own."""
    fields = {name: f"ecuapass.{name}" for name in ENDPOINT_CREDENTIALS}
    own: tuple[str, ...] = ()
    if agency is not None and (agency.token is not None or agency.token_file is not None):
        own += ("token", "token_file")
    if agency is not None and agency.ssl_certfile is not None:
        own += ("ssl_certfile", "ssl_keyfile")
    return fields | {name: f"agencies.<RUC>.{name}" for name in own}


def setting_fields() -> Iterator[tuple[str, FieldInfo]]:
    """Every setting as its field path and field, in declaration order: ``kafka.bootstrap_servers``...,
    ``agencies`` and ``agencies.<RUC>.certificate``..., ``source``..."""
    for name, field in Settings.model_fields.items():
        section = field.annotation
        if name == "agencies":
            yield name, field
            for sub, subfield in AgencySettings.model_fields.items():
                yield f"agencies.<RUC>.{sub}", subfield
        elif isinstance(section, type) and issubclass(section, BaseModel):
            yield from _section_fields(name, section)
        else:
            yield name, field


def _section_fields(path: str, section: type[BaseModel]) -> Iterator[tuple[str, FieldInfo]]:
    """A section's leaf fields, nested sections (``intake.retry``) included."""
    for sub, subfield in section.model_fields.items():
        kind = subfield.annotation
        if isinstance(kind, type) and issubclass(kind, BaseModel):
            yield from _section_fields(f"{path}.{sub}", kind)
        else:
            yield f"{path}.{sub}", subfield


def feed_names(settings: Settings) -> list[str]:
    """The notification feeds the intake pulls, sorted (the control topic's partition of each is its index):
    ``default``, with the ``ecuapass`` credentials, and the RUC of each agency with credentials of its own."""
    own = [ruc for ruc, agency in settings.agencies.items() if agency.endpoint(settings.ecuapass) != settings.ecuapass]
    return sorted(["default", *own])


def feed_endpoint(settings: Settings, feed: str) -> EcuapassSettings:
    """The endpoint settings (credentials) a feed is pulled with."""
    return settings.ecuapass if feed == "default" else settings.agencies[feed].endpoint(settings.ecuapass)


def settings_table() -> str:
    """The README's settings table, one row per leaf field, in declaration order."""
    rows = ["| environment variable | default | meaning |", "|---|---|---|"]
    rows += [_row(environment_variable(path), field) for path, field in setting_fields()]
    return "\n".join(rows)


def _row(variable: str, field: FieldInfo) -> str:
    if field.is_required():
        shown = "required"
    else:
        default = field.get_default(call_default_factory=True)
        shown = "—" if default is None else f"`{default}`"
    return f"| `{variable}` | {shown} | {field.description or ''} |"


if __name__ == "__main__":
    print(settings_table())
