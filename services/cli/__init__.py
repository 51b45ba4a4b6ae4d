"""The `liaison` command line. Each family of commands lives in its own module."""

from __future__ import annotations

import logging
import sys

import typer

from shared.errors import LiaisonError
from shared.masking import MaskingFilter, mask_text
from shared.settings import load_settings

app = typer.Typer(
    name="liaison",
    help="Keeps organizations in touch with their mobile members.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)


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


def _register() -> None:
    # Imported here, not at module top, so that `import services.cli` stays cheap and the
    # command modules can import this one for `app` without a cycle.
    from services.cli import demo_data, ledger, notifier, reminders, scheduler, web  # noqa: F401


def main() -> None:
    settings = load_settings()
    configure_logging(settings.log_level)
    _register()
    try:
        app()
    except LiaisonError as exc:
        typer.echo(f"liaison: {mask_text(str(exc))}", err=True)
        sys.exit(1)
