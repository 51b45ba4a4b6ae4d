"""`export --out`, `due --out` and `report`: a bar on a terminal, nothing extra in a pipe.

Each command runs as a real process over a county ledger, once on a pseudo-terminal
(what a secretary sees) and once piped (what a script sees).
"""

from __future__ import annotations

import re
import subprocess
from datetime import date
from pathlib import Path

import pytest
from sqlalchemy import Engine

from tests.drills.processes import LIAISON, liaison_env
from tests.e2e.test_import_progress import _ANSI, _run_on_a_terminal

pytestmark = pytest.mark.slow

MEMBERS = 1_500
AS_OF = "2026-11-22"


@pytest.fixture(scope="module")
def county_ledger(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from shared.ledger.synthetic import generate_ledger

    out = tmp_path_factory.mktemp("county")
    generate_ledger(out, members=MEMBERS, seed=5, as_of=date(2026, 11, 22))
    return out


@pytest.fixture
def env(engine: Engine, database_url: str, county_ledger: Path, tmp_path: Path) -> dict[str, str]:
    from shared.ledger.importer import import_files

    import_files(engine, sorted(county_ledger.glob("*.csv")))
    return liaison_env(
        LIAISON_DATABASE_URL=database_url,
        LIAISON_HOME=str(tmp_path / "home"),
        COLUMNS="120",
        TERM="xterm",
        LIAISON_LANG="en",
    )


def commands(out: Path) -> dict[str, list[str]]:
    return {
        "export": [LIAISON, "export", "all", "--format", "xlsx", "--out", str(out / "l.xlsx")],
        "due": [LIAISON, "due", "--as-of", AS_OF, "--format", "csv", "--out", str(out / "d.csv")],
        "report": [LIAISON, "report", "--period", "2026-Q4", "--as-of", AS_OF],
    }


def test_long_outputs_on_a_terminal_draw_a_bar_that_ends_at_the_count(
    env: dict[str, str], tmp_path: Path
) -> None:
    shown: dict[str, str] = {}
    for name, args in commands(tmp_path).items():
        code, screen = _run_on_a_terminal(args, env)
        assert code == 0, screen
        shown[name] = _ANSI.sub("", screen).replace("\r\n", "\n").replace("\r", "\n")
        assert "━" in shown[name], shown[name]  # the bar itself, not a bare counter
    [members] = re.findall(r"members\s.*?([\d,]+) rows", shown["export"])[-1:]
    assert int(members.replace(",", "")) == MEMBERS
    written = re.search(r"(\d+) open task\(s\) written to", shown["due"])
    assert written, shown["due"]
    tasks = re.findall(r"open tasks\s.*?([\d,]+) tasks", shown["due"])
    assert tasks and int(tasks[-1].replace(",", "")) == int(written[1])
    read = re.findall(r"members\s.*?([\d,]+) members", shown["report"])
    assert read and int(read[-1].replace(",", "")) >= MEMBERS  # and the returned or moved


def test_long_outputs_piped_print_only_what_they_always_printed(
    env: dict[str, str], tmp_path: Path
) -> None:
    done = {
        name: subprocess.run(
            args, env=env, capture_output=True, text=True, timeout=120, check=False
        )
        for name, args in commands(tmp_path).items()
    }
    assert all(d.returncode == 0 for d in done.values()), {n: d.stderr for n, d in done.items()}
    assert re.fullmatch(r"\d+ row\(s\) written to \S+\n", done["export"].stderr)
    assert re.fullmatch(r"\d+ open task\(s\) written to \S+\n", done["due"].stderr)
    assert done["report"].stderr == ""
    assert done["report"].stdout.startswith("compliance 2026-10-01..2026-12-31")
