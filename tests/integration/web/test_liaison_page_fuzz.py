"""Fuzz: whatever a phone (or anyone holding a link) posts to the page's record form, the
answer is a redirect back to the page or a refusal page, never a server error, and nothing
is recorded that is not one of the liaison's open tasks."""

from __future__ import annotations

from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import Engine, select

from shared.db import transaction
from shared.models import PageRecord
from shared.page_links import issue_link, load_page_settings
from tests.integration.web.ledger import NOW

SECRET = "fuzz-page-secret-0123456789"
field = st.one_of(
    st.none(),
    st.text(max_size=40),
    st.sampled_from(["MA", "MB", "phone", "home_visit", "delivery", "review", "x" * 600,
                     "quarterly_visit|2026-10-01|2026-12-31", "monthly_contact||", "|||",
                     "materials_delivery|2026-11-01|2026-12-31", "\u202e", "😀", "'--"]),
)  # fmt: skip


@pytest.fixture
def link_path(ledger: Engine, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> str:
    monkeypatch.setenv("LIAISON_PAGE_SECRET", SECRET)
    monkeypatch.setenv("LIAISON_PHOTOS_DIR", str(tmp_path / "photos"))
    with transaction(ledger) as s:
        return issue_link(s, load_page_settings(), "LA", now=NOW, issued_by="cli").path


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(member=field, task=field, action=field, note=field, photo=st.binary(max_size=200))
def test_any_form_gets_a_redirect_or_a_refusal_and_records_only_open_tasks(
    client: TestClient,
    ledger: Engine,
    link_path: str,
    member: str | None,
    task: str | None,
    action: str | None,
    note: str | None,
    photo: bytes,
) -> None:
    data = {k: v for k, v in {"member_id": member, "task": task, "action": action,
                              "note": note}.items() if v is not None}  # fmt: skip
    files = {"photo": ("p.jpg", photo, "image/jpeg")} if photo else None
    response = client.post(link_path + "/record", data=data, files=files, follow_redirects=False)
    assert response.status_code in (303, 400, 403, 413), response.text[:300]
    if response.status_code != 303:
        assert "<h1>" in response.text and "Traceback" not in response.text
    with ledger.connect() as conn:
        members = set(conn.execute(select(PageRecord.member_id)).scalars())
    assert members <= {"MA"}, "only LA's member is ever recorded"
