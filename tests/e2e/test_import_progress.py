"""`liaison import` of a 20,000-member ledger: a moving bar on a terminal, nothing in a pipe.

The command runs as a real process, once on a pseudo-terminal (what a secretary sees)
and once piped (what a script sees).
"""

from __future__ import annotations

import errno
import os
import re
import subprocess
from datetime import date
from pathlib import Path

import pytest

from tests.drills.processes import LIAISON, liaison_env

pytestmark = pytest.mark.slow

MEMBERS = 20_000
#: the kinds a members import needs: the members' organizations, and liaisons beside them
FILES = ("organizations.csv", "liaisons.csv", "members.csv")
_ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")
_COUNT_LINE = re.compile(r"^[a-z]+: \d+ read, \d+ written$")


@pytest.fixture(scope="module")
def members_ledger(tmp_path_factory: pytest.TempPathFactory) -> list[str]:
    from shared.ledger.synthetic import generate_ledger

    out = tmp_path_factory.mktemp("members20k")
    generate_ledger(out, members=MEMBERS, seed=3, as_of=date(2026, 11, 22))
    return [str(out / name) for name in FILES]


def _env(database_url: str, home: Path) -> dict[str, str]:
    return liaison_env(
        LIAISON_DATABASE_URL=database_url, LIAISON_HOME=str(home), COLUMNS="120", TERM="xterm"
    )


def _run_on_a_terminal(args: list[str], env: dict[str, str]) -> tuple[int, str]:
    """Run `args` with stdin, stdout and stderr on a pseudo-terminal; what it showed."""
    controller, terminal = os.openpty()
    process = subprocess.Popen(
        args, stdin=terminal, stdout=terminal, stderr=terminal, env=env, close_fds=True
    )
    os.close(terminal)
    shown = bytearray()
    while True:
        try:
            chunk = os.read(controller, 65536)
        except OSError as exc:  # EIO: the process closed its end of the terminal
            if exc.errno != errno.EIO:
                raise
            break
        if not chunk:
            break
        shown += chunk
    os.close(controller)
    return process.wait(timeout=60), shown.decode("utf-8", "replace")


def test_a_20000_member_import_on_a_terminal_shows_a_bar_whose_count_moves_to_the_end(
    members_ledger: list[str], database_url: str, tmp_path: Path
) -> None:
    code, shown = _run_on_a_terminal(
        [LIAISON, "import", *members_ledger], _env(database_url, tmp_path)
    )
    assert code == 0, shown
    frames = _ANSI.sub("", shown).replace("\r\n", "\n").replace("\r", "\n")
    counts = [
        int(found.replace(",", ""))
        for found in re.findall(r"members\.csv\s.*?([\d,]+) rows", frames)
    ]
    assert len(set(counts)) >= 3, counts  # drawn at least three times with a new count
    assert counts == sorted(counts), counts  # only ever forward
    assert counts[-1] == MEMBERS
    assert "━" in frames  # the bar itself, not a bare counter
    assert f"members: {MEMBERS} read, {MEMBERS} written" in frames


def test_a_20000_member_import_piped_prints_only_its_counts(
    members_ledger: list[str], database_url: str, tmp_path: Path
) -> None:
    done = subprocess.run(
        [LIAISON, "import", *members_ledger],
        env=_env(database_url, tmp_path),
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert done.stderr == ""
    lines = done.stdout.splitlines()
    assert len(lines) == len(FILES)
    assert all(_COUNT_LINE.match(line) for line in lines), lines
    assert f"members: {MEMBERS} read, {MEMBERS} written" in lines
