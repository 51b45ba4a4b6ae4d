"""The shape of the `liaison` command line: one app, every command on it at import."""

from __future__ import annotations

import subprocess
import sys


def test_importing_the_package_alone_gives_the_whole_command_line() -> None:
    # A fresh interpreter: nothing another test imported may register a command for it.
    probe = (
        "import click, typer\n"
        "from services.cli import app\n"
        "command = typer.main.get_command(app)\n"
        "print(' '.join(sorted(command.list_commands(click.Context(command)))))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, check=True, timeout=60
    )
    names = set(done.stdout.split())
    assert {"due", "why", "report", "policy", "import", "export", "record", "run"} <= names
    assert {"worker", "deliveries", "serve", "status", "token", "demo-data", "db"} <= names


def test_a_command_module_imported_first_does_not_loop_back_into_the_package() -> None:
    # Importing one family first (as a test or a tool might) must work on its own.
    probe = "import services.cli.scheduler, services.cli.root\nprint('ok')\n"
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "ok"
