"""The systemd units, parsed: real commands, one environment file, restarts, hardening."""

from __future__ import annotations

import pytest

from tests.deploy.commands import MissingCommand, check_liaison_args
from tests.deploy.layout import exec_start_args, unit, unit_names

SERVICES = (
    "liaison-migrate.service",
    "liaison-scheduler.service",
    "liaison-worker@.service",
    "liaison-web.service",
)
HARDENING = {
    "NoNewPrivileges": "yes",
    "ProtectSystem": "strict",
    "ProtectHome": "yes",
    "PrivateTmp": "yes",
    "ReadWritePaths": "/var/lib/liaison",
    "User": "liaison",
}


def test_the_layout_has_the_four_services_and_a_target() -> None:
    assert unit_names() == sorted([*SERVICES, "liaison.target"])


@pytest.mark.parametrize("name", SERVICES)
def test_each_service_starts_a_real_liaison_subcommand(name: str) -> None:
    try:
        check_liaison_args(exec_start_args(name))
    except MissingCommand as exc:
        pytest.skip(f"`liaison {exc}` does not exist yet")


@pytest.mark.parametrize("name", SERVICES)
def test_each_service_reads_the_one_environment_file_and_is_hardened(name: str) -> None:
    service = unit(name)["Service"]
    assert service["EnvironmentFile"] == "/etc/liaison/liaison.env"
    for key, value in HARDENING.items():
        assert service[key] == value, (name, key)


def test_migrations_are_a_oneshot_the_long_running_services_require() -> None:
    migrate = unit("liaison-migrate.service")["Service"]
    assert migrate["Type"] == "oneshot"
    assert migrate["RemainAfterExit"] == "yes"
    assert exec_start_args("liaison-migrate.service") == ["db", "upgrade"]
    for name in SERVICES[1:]:
        section = unit(name)["Unit"]
        assert "liaison-migrate.service" in section["Requires"].split(), name
        assert "liaison-migrate.service" in section["After"].split(), name
        assert unit(name)["Service"]["Restart"] == "always", name


def test_the_target_wants_the_scheduler_the_web_and_two_workers() -> None:
    wants = unit("liaison.target")["Unit"]["Wants"].split()
    assert set(wants) == {
        "liaison-scheduler.service",
        "liaison-web.service",
        "liaison-worker@1.service",
        "liaison-worker@2.service",
    }
    for name in SERVICES:
        assert unit(name)["Install"]["WantedBy"] == "liaison.target"
        assert unit(name)["Unit"]["PartOf"] == "liaison.target"


def test_long_running_services_stop_gracefully_on_sigterm() -> None:
    for name in ("liaison-scheduler.service", "liaison-worker@.service"):
        service = unit(name)["Service"]
        assert service["KillSignal"] == "SIGTERM"
        assert int(service["TimeoutStopSec"]) >= 60
