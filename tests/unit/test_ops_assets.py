"""The ops assets in ``deploy/`` query what the gateway and the mock export, and are well formed.

Every metric name in the dashboard's queries and the alert rules must be a sample name of the gateway's or the
mock's registry (``_total``, ``_bucket``, ``_sum``, ``_count`` included), and every label in a matcher or a
``by (...)`` must be a label of the metrics it applies to (or a label Prometheus adds: ``job``, ``instance``). The
PromQL reading here is deliberately small: enough for the expressions in ``deploy/``, not a parser.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from prometheus_client.metrics import MetricWrapperBase

from ecuapass_mock.metrics import MockMetrics
from gateway.runtime.metrics import GatewayMetrics

DEPLOY = Path(__file__).resolve().parents[2] / "deploy"
DASHBOARD = DEPLOY / "grafana" / "dashboards" / "ecuapass-gateway.json"
ALERTS = DEPLOY / "prometheus" / "alerts.yml"
TARGET_LABELS = frozenset({"job", "instance"})  # added by Prometheus when it scrapes
SCRAPE_METRICS = {"up": set[str]()}  # written by Prometheus itself for every target

# Words of PromQL that look like identifiers: aggregations, keywords. Functions are recognised by their "(".
KEYWORDS = frozenset(
    {"sum", "min", "max", "avg", "count", "group", "stddev", "stdvar", "topk", "bottomk", "quantile", "count_values"}
    | {"by", "without", "on", "ignoring", "group_left", "group_right", "bool", "and", "or", "unless", "offset"}
)
STRING = re.compile(r'"(?:[^"\\]|\\.)*"')
MATCHERS = re.compile(r"\{([^{}]*)\}")
MATCHER = re.compile(r'\s*([A-Za-z_][A-Za-z0-9_]*)\s*(?:=~|!~|!=|=)\s*"(?:[^"\\]|\\.)*"\s*,?')
GROUPING = re.compile(r"\b(?:by|without)\s*\(([^()]*)\)")
IDENTIFIER = re.compile(r"(?<![\w:.$])([A-Za-z_:][A-Za-z0-9_:]*)(?=\s*([{\[)]|\s|$|[-+*/,]))")


# -- what the registries expose --------------------------------------------------------------------------------


def exposed(owner: GatewayMetrics | MockMetrics) -> dict[str, set[str]]:
    """Sample name -> its label names. A labelled metric shows no sample before a child exists: make one each."""
    for collector in vars(owner).values():
        if isinstance(collector, MetricWrapperBase) and collector._labelnames:
            collector.labels(*("probe" for _ in collector._labelnames))
    samples: dict[str, set[str]] = {}
    for family in owner.registry.collect():
        for sample in family.samples:
            samples.setdefault(sample.name, set()).update(sample.labels)
    return samples


@pytest.fixture(scope="module")
def metrics() -> dict[str, set[str]]:
    gateway, mock = exposed(GatewayMetrics()), exposed(MockMetrics())
    assert not set(gateway) & set(mock)
    return gateway | mock | SCRAPE_METRICS


def test_the_registries_expose_what_the_queries_rely_on(metrics: dict[str, set[str]]) -> None:
    assert metrics["ecuapass_gateway_outcomes_total"] == {"outcome", "document", "stage"}
    assert metrics["ecuapass_gateway_end_to_end_latency_seconds_bucket"] == {"document", "le"}
    assert metrics["ecuapass_gateway_consumer_lag_records"] == {"partition"}
    assert "ecuapass_mock_request_duration_seconds_count" in metrics


# -- reading PromQL --------------------------------------------------------------------------------------------


def metric_names(expr: str) -> set[str]:
    """Identifiers that are neither functions, keywords, label names, durations nor Grafana variables."""
    text = STRING.sub('""', expr)
    text = MATCHERS.sub("{}", text)  # label names inside selectors
    text = re.sub(r"\[[^\]]*\]", "[]", text)  # durations, $__rate_interval
    text = GROUPING.sub(" ", text)  # label names of by (...) / without (...)
    names = set()
    for match in IDENTIFIER.finditer(text):
        name = match.group(1)
        if name not in KEYWORDS and not re.match(r"\s*\(", text[match.end() :]):
            names.add(name)
    return names


def selectors(expr: str) -> Iterator[tuple[str, list[str]]]:
    """(metric name, label names of its matchers) for every ``name{...}`` selector."""
    for match in re.finditer(r"([A-Za-z_:][A-Za-z0-9_:]*)\s*\{((?:[^{}\"]|\"(?:[^\"\\]|\\.)*\")*)\}", expr):
        body = match.group(2)
        labels = [m.group(1) for m in MATCHER.finditer(body)]
        assert MATCHER.sub("", body).strip() == "", f"unreadable matchers {body!r} in {expr}"
        yield match.group(1), labels


def groupings(expr: str) -> Iterator[tuple[list[str], str]]:
    """(labels of ``by (...)``, the aggregated expression) for every ``AGG by (...) (EXPR)``."""
    assert not re.search(r"\)\s*(?:by|without)\s*\(", expr), f"write `sum by (...) (...)`, not a trailing by: {expr}"
    for match in GROUPING.finditer(expr):
        labels = [label.strip() for label in match.group(1).split(",") if label.strip()]
        rest = expr[match.end() :].lstrip()
        assert rest.startswith("("), f"no expression after {match.group(0)!r} in {expr}"
        depth = 0
        for end, char in enumerate(rest):
            depth += {"(": 1, ")": -1}.get(char, 0)
            if depth == 0:
                yield labels, rest[: end + 1]
                break


def test_promql_reading_on_known_expressions() -> None:
    expr = (
        'histogram_quantile(0.99, sum by (document, le) (rate(a_bucket{le=~"5(\\\\.0)?", job=~"$job"}'
        "[$__rate_interval]))) / on() group_left sum(b_total offset 15m) > 2 * c and d"
    )
    assert metric_names(expr) == {"a_bucket", "b_total", "c", "d"}
    assert list(selectors(expr)) == [("a_bucket", ["le", "job"])]
    assert [labels for labels, _ in groupings(expr)] == [["document", "le"]]
    assert metric_names('max by (job, instance) (x{state=~"open|half_open"}) == 1') == {"x"}


# -- the queries -----------------------------------------------------------------------------------------------


def dashboard() -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads(DASHBOARD.read_text(encoding="utf-8"))
    return loaded


def panels(container: dict[str, Any]) -> Iterator[dict[str, Any]]:
    for panel in container.get("panels", []):
        yield panel
        yield from panels(panel)  # rows hold their panels while collapsed


def alert_rules() -> list[dict[str, Any]]:
    groups = yaml.safe_load(ALERTS.read_text(encoding="utf-8"))["groups"]
    return [rule for group in groups for rule in group["rules"]]


def queries() -> list[tuple[str, str]]:
    found = [
        (f"panel {panel['id']} {panel['title']!r} {target['refId']}", target["expr"])
        for panel in panels(dashboard())
        for target in panel.get("targets", [])
    ]
    found += [(f"alert {rule['alert']}", rule["expr"]) for rule in alert_rules()]
    return found


@pytest.mark.parametrize(("where", "expr"), queries(), ids=[where for where, _ in queries()])
def test_every_query_uses_exported_metrics_and_labels(where: str, expr: str, metrics: dict[str, set[str]]) -> None:
    names = metric_names(expr)
    assert names, f"{where}: no metric found in {expr}"
    unknown = names - set(metrics)
    assert not unknown, f"{where}: {sorted(unknown)} are not exported by the gateway or the mock"
    for name, labels in selectors(expr):
        missing = set(labels) - metrics[name] - TARGET_LABELS
        assert not missing, f"{where}: {name} has no label {sorted(missing)}"
    for labels, inner in groupings(expr):
        for name in metric_names(inner):
            missing = set(labels) - metrics[name] - TARGET_LABELS
            assert not missing, f"{where}: by {labels} over {name}, which has no label {sorted(missing)}"


def test_dashboard_variables_query_exported_metrics(metrics: dict[str, set[str]]) -> None:
    for variable in dashboard()["templating"]["list"]:
        if variable["type"] == "query":
            name = re.match(r"label_values\((\w+)", variable["query"]["query"])
            assert name is not None and name.group(1) in metrics, variable["name"]


# -- the dashboard ---------------------------------------------------------------------------------------------


def test_dashboard_is_well_formed() -> None:
    board = dashboard()
    assert board["uid"] == "ecuapass-gateway" and board["title"]
    every = list(panels(board))
    ids = [panel["id"] for panel in every]
    assert len(ids) == len(set(ids)), "panel ids must be unique"
    variables = {variable["name"] for variable in board["templating"]["list"]}
    assert {"datasource", "job", "instance"} <= variables
    for panel in every:
        assert {"h", "w", "x", "y"} <= set(panel["gridPos"]) and panel["gridPos"]["x"] + panel["gridPos"]["w"] <= 24
        if panel["type"] == "row":
            continue
        assert panel["title"] and panel.get("description"), panel["id"]
        assert panel["datasource"]["uid"] == "${datasource}", panel["title"]
        refs = [target["refId"] for target in panel["targets"]]
        assert refs and len(refs) == len(set(refs)), panel["title"]


def test_dashboard_covers_what_ops_look_at() -> None:
    exprs = " ".join(expr for where, expr in queries() if where.startswith("panel"))
    for metric in (
        "ecuapass_gateway_events_consumed_total",
        "ecuapass_gateway_outcomes_total",
        "ecuapass_gateway_rejection_errors_total",
        "ecuapass_gateway_dead_letters_total",
        "ecuapass_gateway_events_in_flight",
        "ecuapass_gateway_circuit_state",
        "ecuapass_gateway_consumption_paused",
        "ecuapass_gateway_consumer_lag_records",
        "ecuapass_gateway_partition_stalled_seconds",
        "ecuapass_gateway_endpoint_request_duration_seconds_bucket",
        "ecuapass_gateway_end_to_end_latency_seconds_bucket",
        "ecuapass_gateway_filing_retries_total",
    ):
        assert metric in exprs, metric


# -- the alert rules -------------------------------------------------------------------------------------------


def test_alert_rules_are_complete() -> None:
    rules = alert_rules()
    assert {rule["alert"] for rule in rules} == {
        "EcuapassGatewayStalled",
        "EcuapassGatewayPartitionStalled",
        "EcuapassGatewayRejectionRateHigh",
        "EcuapassGatewayDown",
        "EcuapassGatewaySigningCertificateExpiring",
        "EcuapassGatewayCircuitOpen",
        "EcuapassGatewayDeadLettersGrowing",
        "EcuapassGatewayLatencySLOBurnFast",
        "EcuapassGatewayLatencySLOBurnSlow",
        "EcuapassGatewayIntakeStopped",
    }
    for rule in rules:
        assert re.fullmatch(r"\d+[smh]", rule["for"]), rule["alert"]
        assert rule["labels"]["severity"] in {"critical", "warning"}, rule["alert"]
        assert rule["annotations"]["summary"] and rule["annotations"]["description"], rule["alert"]
        assert rule["annotations"]["runbook"], rule["alert"]
    for rule in rules:
        if "SLO" in rule["alert"]:
            assert "99 %" in rule["annotations"]["description"] and "5 s" in rule["annotations"]["description"]


def test_prometheus_config_scrapes_gateway_and_mock_and_loads_the_rules() -> None:
    config = yaml.safe_load((DEPLOY / "prometheus" / "prometheus.yml").read_text(encoding="utf-8"))
    assert config["rule_files"] == ["alerts.yml"]
    jobs = {job["job_name"]: job for job in config["scrape_configs"]}
    assert jobs["ecuapass-gateway"]["metrics_path"] == "/metrics"
    assert jobs["ecuapass-gateway"]["static_configs"][0]["targets"] == ["127.0.0.1:9464"]
    assert jobs["ecuapass-mock"]["metrics_path"] == "/metrics"


def test_grafana_provisioning_points_at_the_dashboards() -> None:
    provisioning = DEPLOY / "grafana" / "provisioning"
    datasources = yaml.safe_load((provisioning / "datasources" / "prometheus.yml").read_text(encoding="utf-8"))
    assert [d["type"] for d in datasources["datasources"]] == ["prometheus"]
    providers = yaml.safe_load((provisioning / "dashboards" / "ecuapass.yml").read_text(encoding="utf-8"))
    assert [p["type"] for p in providers["providers"]] == ["file"]


PROMTOOL = shutil.which("promtool")


@pytest.mark.skipif(PROMTOOL is None, reason="promtool not installed (Debian package prometheus)")
@pytest.mark.parametrize(
    "command",
    [["check", "rules", "alerts.yml"], ["check", "config", "prometheus.yml"], ["test", "rules", "alerts.test.yml"]],
    ids=["check-rules", "check-config", "alert-scenarios"],
)
def test_promtool(command: list[str]) -> None:
    assert PROMTOOL is not None
    done = subprocess.run(
        [PROMTOOL, *command], cwd=DEPLOY / "prometheus", capture_output=True, text=True, timeout=120, check=False
    )
    assert done.returncode == 0, done.stdout + done.stderr
