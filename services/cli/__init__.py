"""The `liaison` command line. Each family of commands lives in its own module, which adds
its commands to `app` (`services/cli/root.py`); importing the modules here is what
registers them, so `services.cli.app` is always the whole command line."""

from __future__ import annotations

import logging
import sys

import typer

from services.cli import demo_data, ledger, notifier, page_links, reminders, scheduler, web
from services.cli.root import app
from shared.masking import MaskingFilter
from shared.settings import load_settings


def configure_logging(level: str) -> None:
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    handler.addFilter(MaskingFilter())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
    # Alembic announces its plugins at INFO on import; a person running a command
    # should see only what liaison itself has to say.
    logging.getLogger("alembic").setLevel(logging.WARNING)


def main() -> None:
    """The `liaison` command. Whatever ends a command, a person reads one masked line and
    gets an exit status (`services/cli/failures.py`), never a traceback."""
    from services.cli.failures import explain

    try:
        settings = load_settings()
        configure_logging(settings.log_level)
        app()
    except Exception as exc:  # the one boundary where every failure is told
        failure = explain(exc)
        typer.echo(f"liaison: {failure.line}", err=True)
        sys.exit(failure.status)


__all__ = [
    "app",
    "configure_logging",
    "demo_data",
    "ledger",
    "main",
    "notifier",
    "page_links",
    "reminders",
    "scheduler",
    "web",
]  # fmt: skip
