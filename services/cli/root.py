"""The root of the `liaison` command line: the typer `app` every command module adds itself
to, and the small checks more than one family of commands shares.

The command modules import `app` from here, never from the package: the package's
`__init__` imports the command modules (that is what registers them), so a command module
importing the package back would be a cycle.
"""

from __future__ import annotations

from pathlib import Path

import typer

app = typer.Typer(
    name="liaison",
    help="Keeps organizations in touch with their mobile members.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)


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
