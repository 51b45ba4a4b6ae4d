"""Running the real `liaison` command line inside a test.

`services.cli.app` is the whole command line once the package is imported (its
`__init__` imports every command module), so a test invokes exactly what the installed
`liaison` script runs, minus `main()`'s logging setup and failure translation (tests of
those call `services.cli.main` itself).
"""

from __future__ import annotations

from typing import Any

from typer.testing import CliRunner, Result

from services.cli import app


def liaison(*args: str, **kwargs: Any) -> Result:
    """Run `liaison ARGS…` in-process; `kwargs` go to `CliRunner.invoke` (env, input…)."""
    return CliRunner().invoke(app, list(args), **kwargs)
