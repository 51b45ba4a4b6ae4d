"""The `liaison` command line. Each family of commands lives in its own module."""

from __future__ import annotations

import logging
import sys
from pathlib import Path

import typer

from shared.masking import MaskingFilter
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


def check_out(path: Path | None) -> None:
    """Refuse an `--out` file whose folder does not exist before any work is done (a due
    listing of a province takes minutes), as a usage error naming the folder."""
    if path is None:
        return
    if path.is_dir():
        raise typer.BadParameter(f"{str(path)!r} is a folder, not a file", param_hint="--out")
    if not path.parent.is_dir():
        raise typer.BadParameter(
            f"{str(path)!r}: the folder {str(path.parent)!r} does not exist", param_hint="--out"
        )


def _register() -> None:
    # Imported here, not at module top, so that `import services.cli` stays cheap and the
    # command modules can import this one for `app` without a cycle.
    from services.cli import (  # noqa: F401
        demo_data,
        ledger,
        notifier,
        page_links,
        reminders,
        scheduler,
        web,
    )


def main() -> None:
    """The `liaison` command. Whatever ends a command, a person reads one masked line and
    gets an exit status (`services/cli/failures.py`), never a traceback."""
    from services.cli.failures import explain

    try:
        settings = load_settings()
        configure_logging(settings.log_level)
        _register()
        app()
    except Exception as exc:  # the one boundary where every failure is told
        failure = explain(exc)
        typer.echo(f"liaison: {failure.line}", err=True)
        sys.exit(failure.status)
