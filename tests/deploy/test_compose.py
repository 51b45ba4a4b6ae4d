"""The Compose file, parsed: every service there, started in order, running real commands."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest
import yaml

from tests.deploy.commands import MissingCommand, check_liaison_args
from tests.deploy.layout import DEPLOY, compose

LIAISON_SERVICES = ("migrate", "scheduler", "worker", "web")


def services() -> dict[str, Any]:
    found: dict[str, Any] = compose()["services"]
    return found


def test_the_compose_file_runs_every_part_of_an_installation() -> None:
    assert set(services()) == {
        "postgres",
        "redis",
        "migrate",
        "scheduler",
        "worker",
        "web",
        "prometheus",
        "grafana",
    }


@pytest.mark.parametrize("name", LIAISON_SERVICES)
def test_each_liaison_service_runs_the_liaison_image_with_a_real_subcommand(name: str) -> None:
    service = services()[name]
    assert service["image"] == "liaison:latest"
    assert service["build"]["dockerfile"] == "deploy/Dockerfile"
    assert 'ENTRYPOINT ["liaison"]' in (DEPLOY / "Dockerfile").read_text()
    try:
        check_liaison_args(service["command"])
    except MissingCommand as exc:
        pytest.skip(f"`liaison {exc}` does not exist yet")


def test_the_liaison_services_read_the_env_file_and_reach_postgres_and_redis_by_name() -> None:
    for name in LIAISON_SERVICES:
        service = services()[name]
        assert service["env_file"] == ".env"
        env = service["environment"]
        assert "@postgres:5432/" in env["LIAISON_DATABASE_URL"]
        assert env["LIAISON_REDIS_URL"].startswith("redis://redis:6379/")


def test_migrations_run_once_after_postgres_is_healthy_and_the_rest_wait_for_them() -> None:
    s = services()
    assert s["migrate"]["command"] == ["db", "upgrade"]
    assert s["migrate"]["restart"] == "no"
    assert s["migrate"]["depends_on"]["postgres"]["condition"] == "service_healthy"
    for name in ("scheduler", "worker", "web"):
        depends = s[name]["depends_on"]
        assert depends["migrate"]["condition"] == "service_completed_successfully", name
        assert depends["redis"]["condition"] == "service_healthy", name
        assert s[name]["restart"] == "unless-stopped", name


def test_postgres_redis_and_web_have_healthchecks() -> None:
    s = services()
    assert "pg_isready" in " ".join(s["postgres"]["healthcheck"]["test"])
    assert s["redis"]["healthcheck"]["test"] == ["CMD", "redis-cli", "ping"]
    assert "/healthz" in " ".join(s["web"]["healthcheck"]["test"])


def test_redis_persists_its_queues_across_restarts() -> None:
    command = services()["redis"]["command"]
    assert command[command.index("--appendonly") + 1] == "yes"


def test_workers_scale_by_replicas() -> None:
    replicas = services()["worker"]["deploy"]["replicas"]
    assert str(replicas).startswith("${LIAISON_WORKER_REPLICAS")


def test_prometheus_scrapes_the_web_metrics_and_loads_the_alert_rules() -> None:
    config = yaml.safe_load((DEPLOY / "prometheus.yml").read_text())
    [job] = config["scrape_configs"]
    assert job["metrics_path"] == "/metrics"
    assert job["static_configs"][0]["targets"] == ["web:8000"]
    mounts = services()["prometheus"]["volumes"]
    assert "./prometheus.yml:/etc/prometheus/prometheus.yml:ro" in mounts
    assert config["rule_files"] == ["/etc/prometheus/alerts.yml"]
    assert "./alerts.yml:/etc/prometheus/alerts.yml:ro" in mounts


def metric_names_served() -> set[str]:
    """The metric families the web service declares (read from its source, not guessed)."""

    source = (DEPLOY.parent / "services" / "web" / "metrics.py").read_text()
    return set(re.findall(r'"(liaison_[a-z_]+)"', source))


def test_alert_rules_use_only_metrics_the_web_service_serves() -> None:

    served = metric_names_served()
    rules = yaml.safe_load((DEPLOY / "alerts.yml").read_text())["groups"][0]["rules"]
    assert {r["alert"] for r in rules} >= {
        "LiaisonQueueBacklog",
        "LiaisonDeadNotifications",
        "LiaisonNoWorker",
        "LiaisonSchedulerStale",
    }
    checked = 0
    for rule in rules:
        for name in re.findall(r"liaison_[a-z_]+", rule["expr"]):
            assert name.removesuffix("_bucket") in served, (rule["alert"], name)
            checked += 1
    assert checked >= len(rules)  # every rule's expression names a metric


def test_grafana_is_provisioned_with_the_dashboard_over_prometheus() -> None:
    dashboard = json.loads((DEPLOY / "grafana" / "liaison-dashboard.json").read_text())
    datasource = yaml.safe_load(
        (DEPLOY / "grafana" / "provisioning" / "datasources" / "prometheus.yml").read_text()
    )["datasources"][0]
    assert datasource["url"] == "http://prometheus:9090"
    served = metric_names_served()

    checked = 0
    for panel in dashboard["panels"]:
        assert panel["datasource"]["uid"] == datasource["uid"]
        for target in panel["targets"]:
            for name in re.findall(r"liaison_[a-z_]+", target["expr"]):
                assert name.removesuffix("_bucket") in served, (panel["title"], name)
                checked += 1
    assert checked >= len(dashboard["panels"]) > 0  # every panel charts a metric
    provider = yaml.safe_load(
        (DEPLOY / "grafana" / "provisioning" / "dashboards" / "liaison.yml").read_text()
    )["providers"][0]
    mount = (
        f"./grafana/liaison-dashboard.json:{provider['options']['path']}/liaison-dashboard.json:ro"
    )
    assert mount in services()["grafana"]["volumes"]
