"""Reading the deploy files: the Compose file, the systemd units, `.env.example`."""

from __future__ import annotations

import configparser
import shlex
from pathlib import Path
from typing import Any

import yaml

DEPLOY = Path(__file__).resolve().parents[2] / "deploy"
SYSTEMD = DEPLOY / "systemd"
LIAISON_BINARY = "/opt/liaison/.venv/bin/liaison"


def compose() -> dict[str, Any]:
    data: dict[str, Any] = yaml.safe_load((DEPLOY / "docker-compose.yml").read_text())
    return data


def unit(name: str) -> configparser.ConfigParser:
    """A systemd unit as sections of keys (systemd's syntax is close enough to INI)."""
    parser = configparser.ConfigParser(strict=False, interpolation=None)
    parser.optionxform = str  # type: ignore[assignment,method-assign]  # keys keep their case
    parser.read_string((SYSTEMD / name).read_text())
    return parser


def unit_names() -> list[str]:
    return sorted(p.name for p in SYSTEMD.iterdir() if p.suffix in {".service", ".target"})


def exec_start_args(name: str) -> list[str]:
    """What follows the liaison binary in a service's ExecStart."""
    words = shlex.split(unit(name)["Service"]["ExecStart"])
    assert words[0] == LIAISON_BINARY, f"{name} runs {words[0]}, not {LIAISON_BINARY}"
    return words[1:]


def env_example_names() -> list[str]:
    names = []
    for line in (DEPLOY / ".env.example").read_text().splitlines():
        stripped = line.strip()
        if stripped and not stripped.startswith("#"):
            names.append(stripped.split("=", 1)[0])
    return names


def env_example_values() -> dict[str, str]:
    values = {}
    for line in (DEPLOY / ".env.example").read_text().splitlines():
        stripped = line.strip()
        if stripped and not stripped.startswith("#"):
            name, _, value = stripped.partition("=")
            values[name] = value
    return values
