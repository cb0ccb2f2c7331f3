from __future__ import annotations

import pytest
from pydantic import ValidationError

from gateway.settings import Settings


def test_ops_variables_are_spelled_as_documented(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GATEWAY_KAFKA__BOOTSTRAP_SERVERS", "broker-a:9092,broker-b:9092")
    monkeypatch.setenv("GATEWAY_ECUAPASS__URL", "https://ecuapass.example:8443/")
    monkeypatch.setenv("GATEWAY_TOPICS__PARTITIONS", "12")
    settings = Settings()
    assert settings.kafka.bootstrap_servers == "broker-a:9092,broker-b:9092"
    assert str(settings.ecuapass.url) == "https://ecuapass.example:8443/"
    assert settings.topics.partitions == 12


def test_default_topics() -> None:
    topics = Settings().topics
    assert (topics.input, topics.acks, topics.rejections, topics.dlq) == (
        "ecuapass.case-events.v1",
        "ecuapass.acks.v1",
        "ecuapass.rejections.v1",
        "ecuapass.dlq.v1",
    )
    assert topics.partitions == 6


def test_unknown_variable_in_a_section_fails_at_start(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GATEWAY_KAFKA__BOOTSTRAP_SERVER", "typo:9092")
    with pytest.raises(ValidationError, match="bootstrap_server"):
        Settings()


def test_sasl_without_credentials_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GATEWAY_KAFKA__SECURITY_PROTOCOL", "SASL_SSL")
    with pytest.raises(ValidationError, match="sasl_username and sasl_password"):
        Settings()


def test_secrets_do_not_print(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GATEWAY_ECUAPASS__TOKEN", "s3cr3t-token")
    settings = Settings()
    assert "s3cr3t-token" not in repr(settings)
    assert settings.ecuapass.token is not None
    assert settings.ecuapass.token.get_secret_value() == "s3cr3t-token"
