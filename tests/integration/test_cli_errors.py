"""Every bad argument, path, URL or unreachable server gives one masked line and a status.

The commands run through `services.cli.main`, as the installed `liaison` does, so that
the central translation of known failures is what is tested. Exit statuses: 2 for a bad
argument (Click's usage error), 1 for a command that could not do its work (a file, a
database or Redis), never a traceback.
"""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

import services.cli as cli

Run = tuple[int, str, str]


@pytest.fixture
def liaison(
    liaison_env: dict[str, str], monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
):  # type: ignore[no-untyped-def]
    # pytest's own log capture stays in place: the test does not need liaison's handler.
    monkeypatch.setattr(cli, "configure_logging", lambda level: None)
    monkeypatch.setenv("COLUMNS", "300")  # Click's usage error on one line of its box

    def run(*args: str) -> Run:
        monkeypatch.setattr(sys, "argv", ["liaison", *args])
        try:
            cli.main()
            code = 0
        except SystemExit as exc:
            code = exc.code if isinstance(exc.code, int) else 1
        out, err = capsys.readouterr()
        return code, out, err

    return run


def one_line(err: str) -> str:
    """The error's one line, after checking that nothing else was printed."""
    assert "Traceback" not in err
    lines = [line for line in err.splitlines() if line.strip()]
    assert len(lines) == 1, err
    return lines[0]


@pytest.mark.parametrize(
    "args",
    [
        ("due", "--as-of", "9999-12-31"),
        ("due", "--as-of", "0001-01-01"),
        ("why", "M0001", "--as-of", "9999-12-31"),
        ("report", "--period", "2026-Q4", "--as-of", "0001-01-01"),
        ("run", "--dry-run", "--as-of", "9999-12-31"),
        ("run", "--dry-run", "--as-of", "0001-01-01T00:00"),
    ],
)
def test_an_as_of_day_out_of_range_is_a_usage_error(liaison, args: tuple[str, ...]) -> None:  # type: ignore[no-untyped-def]
    code, _, err = liaison(*args)
    assert code == 2
    assert "Traceback" not in err and "between 1902-01-01 and 2098-12-31" in err


@pytest.mark.parametrize("period", ["9999-Q4", "9999", "0001-01"])
def test_a_report_period_out_of_range_is_one_line(liaison, period: str) -> None:  # type: ignore[no-untyped-def]
    code, _, err = liaison("report", "--period", period, "--as-of", "2026-11-22")
    assert code == 1
    assert one_line(err) == (
        f"liaison: {period!r} is out of range: a period lies between 1902 and 2098"
    )


@pytest.mark.parametrize(
    "args",
    [
        ("due", "--as-of", "2026-11-22", "--format", "csv", "--out", "{missing}/due.csv"),
        ("due", "--as-of", "2026-11-22", "--format", "xlsx", "--out", "{missing}/due.xlsx"),
        ("report", "--period", "2026-Q4", "--format", "csv", "--out", "{missing}/r.csv"),
        ("report", "--period", "2026-Q4", "--format", "xlsx", "--out", "{missing}/r.xlsx"),
        ("export", "members", "--out", "{missing}/members.csv"),
        ("export", "all", "--format", "xlsx", "--out", "{missing}/ledger.xlsx"),
    ],
)
def test_an_out_file_in_a_missing_folder_is_one_line(  # type: ignore[no-untyped-def]
    liaison, tmp_path: Path, args: tuple[str, ...]
) -> None:
    missing = tmp_path / "no-such-folder"
    code, _, err = liaison(*(a.format(missing=missing) for a in args))
    assert code == 2
    assert "Traceback" not in err and "Exception ignored" not in err
    assert f"the folder '{missing}' does not exist" in err


def test_a_file_that_cannot_be_written_is_one_line(liaison, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    """What no check before the work can see (here a file in the way of the folder)
    still ends as one line, from `main`'s translation of OSError."""
    (tmp_path / "taken").write_text("")
    code, _, err = liaison("export", "all", "--out", str(tmp_path / "taken"))
    assert code == 1
    assert one_line(err).startswith(f"liaison: cannot open {tmp_path / 'taken'}")


def test_a_malformed_database_url_is_one_line_and_does_not_echo_the_url(  # type: ignore[no-untyped-def]
    liaison, monkeypatch: pytest.MonkeyPatch
) -> None:
    for url in ("not a url:secret", "foo://user:secret@host/db"):
        monkeypatch.setenv("LIAISON_DATABASE_URL", url)
        code, _, err = liaison("due", "--as-of", "2026-11-22")
        assert code == 1
        line = one_line(err)
        assert line.startswith("liaison: LIAISON_DATABASE_URL is not a database URL")
        assert "secret" not in line


def test_an_unreachable_database_is_one_line_without_its_password(  # type: ignore[no-untyped-def]
    liaison, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(
        "LIAISON_DATABASE_URL", "postgresql+psycopg://liaison:secret@127.0.0.1:9/liaison"
    )
    code, _, err = liaison("due", "--as-of", "2026-11-22")
    assert code == 1
    line = one_line(err)
    assert line.startswith("liaison: the database cannot be reached: ")
    assert "secret" not in line
