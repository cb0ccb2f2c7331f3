"""``docker-compose.yml`` names nothing that does not exist, and holds together, checked without Docker.

Every ``GATEWAY_*`` / ``MOCK_*`` variable is a real setting with a valid value, every command of the project's image
parses with the real CLI, every mounted file exists, every port agrees with the code and the Prometheus targets,
every service has a health check and waits for what it needs. ``make test-containers`` also runs
``docker-compose config`` on it.
"""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Any

import pytest
import yaml
from pydantic import BaseModel
from pydantic_settings import BaseSettings

from ecuapass_mock.settings import MockSettings
from gateway.cli import service as commands
from gateway.cli.parser import build_parser
from gateway.settings import OpsSettings, Settings, TopicSettings

REPO = Path(__file__).resolve().parents[2]
COMPOSE: dict[str, Any] = yaml.safe_load((REPO / "docker-compose.yml").read_text(encoding="utf-8"))
SERVICES: dict[str, dict[str, Any]] = COMPOSE["services"]
OWN_IMAGE = "ecuapass-gateway:local"
OWN = {name: service for name, service in SERVICES.items() if service.get("image") == OWN_IMAGE}


def setting_names(model: type[BaseSettings], prefix: str) -> set[str]:
    """Every environment variable ``model`` reads: ``PREFIX_FIELD`` and ``PREFIX_SECTION__FIELD``."""
    names = set()
    for name, field in model.model_fields.items():
        section = field.annotation
        if isinstance(section, type) and issubclass(section, BaseModel):
            names |= {f"{prefix}{name.upper()}__{sub.upper()}" for sub in section.model_fields}
        else:
            names.add(f"{prefix}{name.upper()}")
    return names


def _environment(service: dict[str, Any]) -> dict[str, str]:
    environment = service.get("environment") or {}
    if isinstance(environment, list):
        environment = dict(item.split("=", 1) for item in environment)
    return {str(k): str(v) for k, v in environment.items()}


def _published(service: dict[str, Any]) -> list[str]:
    return [str(port) for port in service.get("ports", [])]


def test_the_environment_is_complete() -> None:
    assert set(SERVICES) == {"kafka", "kafka-topics", "mock", "gateway", "kafka-ui", "prometheus", "grafana"}
    assert SERVICES["kafka"]["image"].startswith("apache/kafka:")
    assert SERVICES["kafka"]["environment"]["KAFKA_PROCESS_ROLES"] == "broker,controller"  # KRaft, one node
    assert set(OWN) == {"mock", "gateway"}
    assert all(service["build"]["context"] == "." for service in OWN.values())
    assert (REPO / "Dockerfile").is_file()


@pytest.mark.parametrize("name", sorted(SERVICES))
def test_every_service_has_a_health_check(name: str) -> None:
    check = SERVICES[name].get("healthcheck")
    assert check, f"{name} has no health check"
    assert check["test"][0] in {"CMD", "CMD-SHELL"}
    assert not check.get("disable")


@pytest.mark.parametrize("name", sorted(SERVICES))
def test_every_dependency_waits_for_health_or_completion(name: str) -> None:
    for needed, rule in (SERVICES[name].get("depends_on") or {}).items():
        assert needed in SERVICES, f"{name} depends on an unknown service {needed}"
        one_shot = needed == "kafka-topics"
        expected = "service_completed_successfully" if one_shot else "service_healthy"
        assert rule == {"condition": expected}, f"{name} -> {needed}: {rule}"


def test_dependencies_are_what_each_service_needs() -> None:
    def needs(name: str) -> set[str]:
        return set(SERVICES[name].get("depends_on") or {})

    assert needs("kafka-topics") == {"kafka"}
    assert needs("gateway") == {"kafka", "kafka-topics", "mock"}
    assert needs("kafka-ui") == {"kafka"}
    assert needs("prometheus") == {"gateway", "mock"}
    assert needs("grafana") == {"prometheus"}
    assert not needs("kafka")
    assert not needs("mock")


def test_the_gateway_scales_and_prometheus_can_reach_it() -> None:
    gateway = SERVICES["gateway"]
    assert "container_name" not in gateway, "replicas cannot share a container name"
    assert "ports" not in gateway, "replicas cannot share a host port"
    assert gateway["deploy"]["replicas"] >= 2
    environment = _environment(gateway)
    assert environment["GATEWAY_OPS__HOST"] == "0.0.0.0"
    assert environment["GATEWAY_OPS__PORT"] == str(OpsSettings().port) == "9464"
    assert [str(port) for port in gateway["expose"]] == ["9464"]
    assert environment["GATEWAY_KAFKA__BOOTSTRAP_SERVERS"] == "kafka:9092"
    assert environment["GATEWAY_ECUAPASS__URL"] == "http://mock:8081/"
    assert "9464/healthz" in " ".join(gateway["healthcheck"]["test"])


@pytest.mark.parametrize(
    ("name", "prefix", "model"), [("gateway", "GATEWAY_", Settings), ("mock", "MOCK_", MockSettings)]
)
def test_project_variables_are_real_settings_with_valid_values(
    name: str, prefix: str, model: type[BaseSettings], monkeypatch: pytest.MonkeyPatch
) -> None:
    environment = _environment(SERVICES[name])
    assert environment
    unknown = set(environment) - setting_names(model, prefix)
    assert not unknown, f"{name}: not settings of {model.__name__}: {sorted(unknown)}"
    for variable in list(os.environ):
        if variable.startswith(prefix):
            monkeypatch.delenv(variable)
    for variable, value in environment.items():
        monkeypatch.setenv(variable, value)
    model()  # refuses invalid values


def test_no_other_service_sets_project_variables() -> None:
    for name, service in SERVICES.items():
        if name not in OWN:
            assert not [v for v in _environment(service) if v.startswith(("GATEWAY_", "MOCK_"))], name


@pytest.mark.parametrize("name", sorted(OWN))
def test_commands_of_the_project_image_parse(name: str) -> None:
    command = OWN[name]["command"]
    args = build_parser().parse_args(command)
    assert args.command is {"mock": commands.mock, "gateway": commands.run}[name]


def test_mock_port_agrees_everywhere() -> None:
    mock = SERVICES["mock"]
    args = build_parser().parse_args(mock["command"])
    assert args.host == "0.0.0.0"
    assert _published(mock) == [f"127.0.0.1:{args.port}:{args.port}"]
    assert f"127.0.0.1:{args.port}/healthz" in " ".join(mock["healthcheck"]["test"])
    assert f"mock:{args.port}" in _environment(SERVICES["gateway"])["GATEWAY_ECUAPASS__URL"]
    state_volume = next(v for v in mock["volumes"] if not v.startswith("."))
    assert str(args.state).startswith(state_volume.split(":")[1] + "/")


def test_topics_created_are_the_gateways_topics() -> None:
    script = " ".join(SERVICES["kafka-topics"]["command"])
    created = set(re.findall(r"\becuapass\.[a-z0-9.-]+\.v\d+\b", script))
    topics = TopicSettings()
    assert created == {topics.input, topics.acks, topics.rejections, topics.dlq, topics.quarantine}
    assert f"--partitions {topics.partitions}" in script
    assert _environment(SERVICES["gateway"])["GATEWAY_TOPICS__CREATE_MISSING"] == "false"


def test_published_ports_are_on_loopback() -> None:
    for name, service in SERVICES.items():
        for port in _published(service):
            assert port.startswith("127.0.0.1:"), f"{name}: {port}"


def test_mounted_files_exist_and_named_volumes_are_declared() -> None:
    declared = set(COMPOSE.get("volumes") or {})
    used = set()
    for name, service in SERVICES.items():
        for volume in service.get("volumes", []):
            source, target = volume.split(":")[:2]
            assert target.startswith("/"), f"{name}: {volume}"
            if source.startswith("."):
                assert (REPO / source).exists(), f"{name} mounts a missing {source}"
            else:
                assert source in declared, f"{name} uses an undeclared volume {source}"
                used.add(source)
    assert used == declared


def _mounts(service: str) -> dict[str, Path]:
    """Container path -> repository path, for the service's bind mounts."""
    return {
        volume.split(":")[1]: REPO / volume.split(":")[0]
        for volume in SERVICES[service].get("volumes", [])
        if volume.startswith(".")
    }


def test_prometheus_scrapes_the_gateway_and_the_mock_with_the_alert_rules() -> None:
    mounts = _mounts("prometheus")
    config = yaml.safe_load(mounts["/etc/prometheus/prometheus.yml"].read_text(encoding="utf-8"))
    for rule_file in config["rule_files"]:
        assert mounts[f"/etc/prometheus/{rule_file}"] == REPO / "deploy/prometheus/alerts.yml"
    jobs = {job["job_name"]: job for job in config["scrape_configs"]}
    reference = yaml.safe_load((REPO / "deploy/prometheus/prometheus.yml").read_text(encoding="utf-8"))
    assert set(jobs) == {job["job_name"] for job in reference["scrape_configs"]}, "the dashboard's jobs"
    (gateway_sd,) = jobs["ecuapass-gateway"]["dns_sd_configs"]
    assert gateway_sd["names"] == ["gateway"]
    assert gateway_sd["port"] == OpsSettings().port
    (mock_targets,) = jobs["ecuapass-mock"]["static_configs"]
    mock_port = build_parser().parse_args(SERVICES["mock"]["command"]).port
    assert mock_targets["targets"] == [f"mock:{mock_port}"]


def test_grafana_provisions_the_dashboard_and_the_data_source() -> None:
    mounts = _mounts("grafana")
    provisioning = mounts["/etc/grafana/provisioning/dashboards/ecuapass.yml"]
    (provider,) = yaml.safe_load(provisioning.read_text(encoding="utf-8"))["providers"]
    assert mounts[provider["options"]["path"]] == REPO / "deploy/grafana/dashboards"
    assert list((REPO / "deploy/grafana/dashboards").glob("*.json"))
    (source,) = yaml.safe_load(
        mounts["/etc/grafana/provisioning/datasources/prometheus.yml"].read_text(encoding="utf-8")
    )["datasources"]
    (reference,) = yaml.safe_load(
        (REPO / "deploy/grafana/provisioning/datasources/prometheus.yml").read_text(encoding="utf-8")
    )["datasources"]
    assert (source["uid"], source["name"], source["type"]) == (reference["uid"], reference["name"], reference["type"])
    assert source["url"] == "http://prometheus:9090"
    assert "127.0.0.1:9090:9090" in _published(SERVICES["prometheus"])
