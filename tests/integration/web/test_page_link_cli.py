"""`liaison page-link issue|revoke` as the installed command, on both databases."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import Engine

from shared.clock import SystemClock
from shared.page_links import LinkState, check_link, load_page_settings

SECRET = "cli-page-secret-0123456789"
LIAISON = str(Path(sys.executable).with_name("liaison"))


def run(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [LIAISON, *args], env={**os.environ, **env}, capture_output=True, text=True, timeout=120
    )


@pytest.fixture
def env(liaison_env: dict[str, str], monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    monkeypatch.setenv("LIAISON_PAGE_SECRET", SECRET)
    monkeypatch.setenv("LIAISON_PUBLIC_URL", "https://liaison.example.org")
    return {
        **liaison_env,
        "LIAISON_PAGE_SECRET": SECRET,
        "LIAISON_PUBLIC_URL": "https://liaison.example.org",
    }


def test_a_link_is_issued_for_a_liaison_by_name_and_opens_until_revoked(
    env: dict[str, str], ledger: Engine
) -> None:
    issued = run(env, "page-link", "issue", "LA", "--days", "7")
    assert issued.returncode == 0, issued.stderr
    head, url = issued.stdout.strip().splitlines()
    assert "LA (联络员甲)" in head and "expires" in head
    assert url.startswith("https://liaison.example.org/p/")
    token = url.rsplit("/", 1)[1]
    with ledger.connect() as conn:
        check = check_link(conn, load_page_settings(), token, now=SystemClock().now())
    assert check.state is LinkState.OPEN and check.liaison_id == "LA"

    revoked = run(env, "page-link", "revoke", "--liaison", "LA")
    assert revoked.returncode == 0 and "1 link(s) revoked" in revoked.stdout
    with ledger.connect() as conn:
        check = check_link(conn, load_page_settings(), token, now=SystemClock().now())
    assert check.state is LinkState.REVOKED
    again = run(env, "page-link", "revoke", token.split("-")[0])
    assert again.returncode != 0 and "no live link" in again.stderr


def test_issuing_without_a_secret_or_for_an_unknown_liaison_is_one_clear_line(
    env: dict[str, str], ledger: Engine
) -> None:
    unknown = run(env, "page-link", "issue", "NOBODY")
    assert unknown.returncode != 0 and "NOBODY" in unknown.stderr
    assert "Traceback" not in unknown.stderr
    no_secret = run({**env, "LIAISON_PAGE_SECRET": ""}, "page-link", "issue", "LA")
    assert no_secret.returncode != 0 and "LIAISON_PAGE_SECRET" in no_secret.stderr
    assert len(no_secret.stderr.strip().splitlines()) == 1
