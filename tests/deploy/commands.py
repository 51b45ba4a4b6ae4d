"""Checking a command line against the real `liaison` typer app, without running it."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import typer

from services.cli import app


def liaison_command() -> Any:
    """The click command typer builds (typer ships its own copy of click, hence Any)."""
    return typer.main.get_command(app)


class MissingCommand(LookupError):
    """Raised when a command line names a `liaison` subcommand that does not exist (yet)."""


def check_liaison_args(args: Sequence[str]) -> list[str]:
    """Parse `args` (what follows `liaison`) as the CLI would; the subcommand path it names.

    Raises MissingCommand for an unknown subcommand, and click's usage error for options
    the subcommand does not take or values of the wrong type.
    """
    command = liaison_command()
    rest = list(args)
    path: list[str] = []
    while hasattr(command, "list_commands"):  # a group: the next word names a subcommand
        if not rest or rest[0].startswith("-"):
            raise MissingCommand(f"{' '.join(args)}: no subcommand after {path}")
        name, rest = rest[0], rest[1:]
        sub = command.get_command(command.make_context("liaison", [], resilient_parsing=True), name)
        if sub is None:
            raise MissingCommand(" ".join([*path, name]))
        path.append(name)
        command = sub
    # make_context parses and validates every option and argument, as a real run would.
    command.make_context(" ".join(["liaison", *path]), rest)
    return path
