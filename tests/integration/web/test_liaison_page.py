"""The liaison's page over HTTP (the app on the test database, SQLite and PostgreSQL):
what it shows, what a tap records, and every refusal a hostile or stale request gets."""

from __future__ import annotations

import io
from datetime import timedelta
from html import unescape
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from PIL import Image
from sqlalchemy import Engine, func, select

from services.scheduler.tasks.due import DueQuery, compute_due
from shared.db import transaction
from shared.models import Interaction, Liaison, MaterialDelivery, PageRecord, PolicyOverride
from shared.page_links import IssuedLink, issue_link, load_page_settings, revoke_links
from tests.cli import liaison
from tests.integration.web.conftest import Tokens, bearer
from tests.integration.web.ledger import AS_OF, NOW

SECRET = "page-test-secret-0123456789"


@pytest.fixture
def page_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    photos = tmp_path / "photos"
    monkeypatch.setenv("LIAISON_PAGE_SECRET", SECRET)
    monkeypatch.setenv("LIAISON_PHOTOS_DIR", str(photos))
    monkeypatch.setenv("LIAISON_PHOTO_MAX_BYTES", str(200_000))
    return photos


def _issue(engine: Engine, liaison_id: str = "LA", days: int = 30) -> IssuedLink:
    with transaction(engine) as s:
        return issue_link(s, load_page_settings(), liaison_id, now=NOW, issued_by="cli", days=days)


def _open_tasks(engine: Engine, liaison_id: str = "LA") -> set[tuple[str, str]]:
    return {
        (t.member_id, t.rule) for t in compute_due(engine, DueQuery(AS_OF, liaison_id=liaison_id))
    }


def _task_key(engine: Engine, rule: str, member_id: str = "MA") -> str:
    for t in compute_due(engine, DueQuery(AS_OF, liaison_id="LA")):
        if t.member_id == member_id and t.rule == rule:
            start = t.window_start.isoformat() if t.window_start else ""
            end = t.window_end.isoformat() if t.window_end else ""
            return f"{rule}|{start}|{end}"
    raise AssertionError(f"no open {rule} task of {member_id}")


def _visit_form(engine: Engine) -> dict[str, str]:
    return {"member_id": "MA", "task": _task_key(engine, "quarterly_visit"), "action": "home_visit"}


def _jpeg(size: tuple[int, int] = (64, 48), gps: bool = False) -> bytes:
    image = Image.new("RGB", size, (200, 30, 40))
    exif = Image.Exif()
    if gps:
        exif[0x8825] = {1: "N", 2: (31.0, 14.0, 0.0), 3: "E", 4: (121.0, 28.0, 0.0)}
    out = io.BytesIO()
    image.save(out, "JPEG", exif=exif.tobytes())
    return out.getvalue()


def test_the_page_lists_the_liaisons_tasks_with_the_members_name_phone_and_campaign(
    client: TestClient, ledger: Engine, page_env: Path
) -> None:
    link = _issue(ledger)
    response = client.get(link.path)
    assert response.status_code == 200
    html = response.text
    assert "联络员甲同志的待办" in html
    assert "张三" in html and 'href="tel:+8613712345678"' in html
    assert "拨打电话 137 1234 5678" in html and "链接有效期至12月20日" in html
    assert "学习资料发放" in html and "学习材料" in html  # the campaign's title
    assert "活动证审核" in html and "已审核活动证" in html
    assert "李四" not in html  # LB's member
    assert "上次联系：暂无记录" in html
    assert response.headers["cache-control"] == "no-store"
    count = len(_open_tasks(ledger))
    assert f'<strong id="task-count">{count}</strong>' in html


def test_a_tap_records_a_home_visit_from_the_page_and_the_task_is_gone(
    client: TestClient, ledger: Engine, page_env: Path
) -> None:
    link = _issue(ledger)
    assert ("MA", "quarterly_visit") in _open_tasks(ledger)
    response = client.post(
        link.path + "/record",
        data={
            "member_id": "MA",
            "task": _task_key(ledger, "quarterly_visit"),
            "action": "home_visit",
            "note": "谈心谈话，身体健康",
        },
        follow_redirects=False,
    )
    assert response.status_code == 303
    assert response.headers["location"].startswith(link.path + "?done=")
    page = client.get(response.headers["location"])
    assert "已登记：张三 已上门走访（家中）" in page.text
    assert "上次联系：11月20日（走访）" in page.text
    assert ("MA", "quarterly_visit") not in _open_tasks(ledger)
    with ledger.connect() as conn:
        visit = conn.execute(select(Interaction)).one()
        audit = conn.execute(select(PageRecord)).one()
    assert (visit.kind, visit.place, visit.source, visit.liaison_id) == (
        "visit",
        "home",
        "page",
        "LA",
    )
    assert visit.on_date == AS_OF and visit.note == "谈心谈话，身体健康"
    assert (audit.link_id, audit.liaison_id, audit.member_id, audit.action) == (
        link.link_id,
        "LA",
        "MA",
        "home_visit",
    )
    assert audit.recorded_at == NOW


def test_a_delivery_tap_records_the_campaign_the_task_is_for(
    client: TestClient, ledger: Engine, page_env: Path
) -> None:
    link = _issue(ledger)
    response = client.post(
        link.path + "/record",
        data={
            "member_id": "MA",
            "task": _task_key(ledger, "materials_delivery"),
            "action": "delivery",
        },
        follow_redirects=False,
    )
    assert response.status_code == 303
    with ledger.connect() as conn:
        delivered = conn.execute(
            select(MaterialDelivery.campaign_id, MaterialDelivery.on_date)
        ).all()
    assert delivered == [("CA", AS_OF)]
    assert ("MA", "materials_delivery") not in _open_tasks(ledger)


def test_a_second_tap_on_a_task_already_done_says_so_and_records_nothing_more(
    client: TestClient, ledger: Engine, page_env: Path
) -> None:
    link = _issue(ledger)
    form = {"member_id": "MA", "task": _task_key(ledger, "certificate_review"), "action": "review"}
    client.post(link.path + "/record", data=form, follow_redirects=False)
    again = client.post(link.path + "/record", data=form, follow_redirects=False)
    assert again.status_code == 303 and again.headers["location"].endswith("?notice=already")
    assert "该任务已登记过" in client.get(again.headers["location"]).text
    with ledger.connect() as conn:
        assert conn.execute(select(func.count()).select_from(PageRecord)).scalar() == 1


def test_a_forged_link_gets_a_refusal_page(
    client: TestClient, ledger: Engine, page_env: Path
) -> None:
    link = _issue(ledger)
    number, mac = link.token.split("-")
    forged = "a" * len(mac) if mac != "a" * len(mac) else "b" * len(mac)
    for path in (
        f"/p/{number}-{forged}",
        "/p/999-abcdefghijklmnop",
        "/p/1",
        "/p/1'--",
        "/p/-1-abcdefghijklmnop",
    ):
        response = client.get(path)
        assert response.status_code == 404, path
        assert "链接无效" in response.text and "Traceback" not in response.text
    posted = client.post(f"/p/{number}-{forged}/record", data={"member_id": "MA"})
    assert posted.status_code == 404


def test_an_expired_link_gets_a_refusal_page(
    client: TestClient, ledger: Engine, page_env: Path
) -> None:
    with transaction(ledger) as s:
        link = issue_link(
            s, load_page_settings(), "LA", now=NOW - timedelta(days=31), issued_by="cli"
        )
    response = client.get(link.path)
    assert response.status_code == 410 and "链接已过期" in response.text
    assert "张三" not in response.text


def test_a_revoked_link_gets_a_refusal_page_and_records_nothing(
    client: TestClient, ledger: Engine, page_env: Path
) -> None:
    link = _issue(ledger)
    key = _task_key(ledger, "quarterly_visit")
    with transaction(ledger) as s:
        assert revoke_links(s, now=NOW, link_id=link.link_id) == 1
    assert client.get(link.path).status_code == 410
    response = client.post(
        link.path + "/record",
        data={"member_id": "MA", "task": key, "action": "home_visit"},
    )
    assert response.status_code == 410 and "链接已停用" in response.text
    assert ("MA", "quarterly_visit") in _open_tasks(ledger)


def test_recording_for_another_liaisons_member_is_refused_and_nothing_is_written(
    client: TestClient, ledger: Engine, page_env: Path
) -> None:
    link = _issue(ledger)  # LA's link
    theirs = next(
        t
        for t in compute_due(ledger, DueQuery(AS_OF, liaison_id="LB"))
        if t.rule == "monthly_contact"
    )
    key = f"monthly_contact|{theirs.window_start}|{theirs.window_end}"
    response = client.post(
        link.path + "/record", data={"member_id": "MB", "task": key, "action": "phone"}
    )
    assert response.status_code == 403 and "无权登记" in response.text
    with ledger.connect() as conn:
        assert conn.execute(select(func.count()).select_from(Interaction)).scalar() == 0
        assert conn.execute(select(func.count()).select_from(PageRecord)).scalar() == 0


@pytest.mark.parametrize(
    "form",
    [
        {"member_id": "MA", "action": "phone"},  # no task
        {"member_id": "MA", "task": "monthly_contact|2026-13-01|x", "action": "phone"},
        {"member_id": "MA", "task": "certificate_review", "action": "delivery"},
        {"member_id": "MA", "task": "x", "action": "phone", "note": "长" * 501},
    ],
)
def test_a_bad_form_gets_a_clear_refusal(
    client: TestClient, ledger: Engine, page_env: Path, form: dict[str, str]
) -> None:
    link = _issue(ledger)
    response = client.post(link.path + "/record", data=form)
    assert response.status_code == 400 and "登记未成功" in response.text
    assert "<h1>" in response.text and "Traceback" not in response.text
    with ledger.connect() as conn:
        assert conn.execute(select(func.count()).select_from(Interaction)).scalar() == 0


def test_an_action_that_does_not_answer_the_task_is_a_bad_form(
    client: TestClient, ledger: Engine, page_env: Path
) -> None:
    link = _issue(ledger)
    response = client.post(
        link.path + "/record",
        data={
            "member_id": "MA",
            "task": _task_key(ledger, "certificate_review"),
            "action": "phone",
        },
    )
    assert response.status_code == 400 and "登记未成功" in response.text


def test_a_form_posted_from_another_site_is_refused(
    client: TestClient, ledger: Engine, page_env: Path
) -> None:
    link = _issue(ledger)
    response = client.post(
        link.path + "/record",
        data={
            "member_id": "MA",
            "task": _task_key(ledger, "quarterly_visit"),
            "action": "home_visit",
        },
        headers={"Origin": "https://evil.example"},
    )
    assert response.status_code == 403 and "请求被拒绝" in response.text
    assert ("MA", "quarterly_visit") in _open_tasks(ledger)


def test_a_photo_is_stored_without_its_location(
    client: TestClient, ledger: Engine, page_env: Path
) -> None:
    link = _issue(ledger)
    response = client.post(
        link.path + "/record",
        data={
            "member_id": "MA",
            "task": _task_key(ledger, "quarterly_visit"),
            "action": "home_visit",
        },
        files={"photo": ("visit.jpg", _jpeg(gps=True), "image/jpeg")},
        follow_redirects=False,
    )
    assert response.status_code == 303
    with ledger.connect() as conn:
        name = conn.execute(select(PageRecord.photo)).scalar_one()
    assert name is not None
    stored = Image.open(page_env / name)
    assert stored.format == "JPEG" and stored.size == (64, 48)
    assert 0x8825 not in stored.getexif()
    assert 0x8825 in Image.open(io.BytesIO(_jpeg(gps=True))).getexif()  # the upload had one


def test_an_oversized_photo_is_refused_and_nothing_is_recorded(
    client: TestClient, ledger: Engine, page_env: Path
) -> None:
    link = _issue(ledger)
    response = client.post(
        link.path + "/record",
        data={
            "member_id": "MA",
            "task": _task_key(ledger, "quarterly_visit"),
            "action": "home_visit",
        },
        files={"photo": ("big.jpg", b"\xff\xd8" + b"0" * 300_000, "image/jpeg")},
    )
    assert response.status_code == 413 and "照片太大" in response.text
    assert ("MA", "quarterly_visit") in _open_tasks(ledger)
    assert not list(page_env.rglob("*.jpg"))


def test_a_file_that_is_not_an_image_is_refused_and_nothing_is_kept(
    client: TestClient, ledger: Engine, page_env: Path
) -> None:
    link = _issue(ledger)
    response = client.post(
        link.path + "/record",
        data={
            "member_id": "MA",
            "task": _task_key(ledger, "quarterly_visit"),
            "action": "home_visit",
        },
        files={"photo": ("x.jpg", b"<?php echo 1; ?>", "image/jpeg")},
    )
    assert response.status_code == 400 and "照片无法识别" in response.text
    assert ("MA", "quarterly_visit") in _open_tasks(ledger)
    assert not list(page_env.rglob("*.jpg"))


def test_without_a_page_secret_the_page_says_it_is_not_configured(
    client: TestClient, ledger: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("LIAISON_PAGE_SECRET", raising=False)
    response = client.get("/p/1-abcdefghijklmnop")
    assert response.status_code == 503 and "暂未开通" in response.text


def test_a_record_from_the_page_shows_in_liaison_why_with_its_source_and_link(
    client: TestClient, ledger: Engine, page_env: Path, liaison_env: dict[str, str]
) -> None:
    link = _issue(ledger)
    client.post(
        link.path + "/record",
        data={**_visit_form(ledger), "note": "电话 13912345678 已打通"},
        follow_redirects=False,
    )
    result = liaison("why", "MA", "--as-of", AS_OF.isoformat())
    assert result.exit_code == 0, result.output
    assert "quarterly_visit: satisfied" in result.output
    assert "recorded on the liaison's page (source page):" in result.output
    line = next(x for x in result.output.splitlines() if "home_visit for quarterly_visit" in x)
    assert f"by LA (联络员甲) through link {link.link_id}" in line
    assert "13912345678" not in line, "a phone in the note is masked"


def test_a_body_over_the_forms_limit_is_refused_as_it_streams_in(
    client: TestClient, ledger: Engine, page_env: Path
) -> None:
    link = _issue(ledger)
    response = client.post(
        link.path + "/record",
        data=_visit_form(ledger),
        files={"photo": ("huge.jpg", b"\xff\xd8" + b"0" * (17 * 1024 * 1024), "image/jpeg")},
    )
    # Refused by the body limit before the route runs: FastAPI's own 413, not our page.
    assert response.status_code == 413
    assert ("MA", "quarterly_visit") in _open_tasks(ledger)


def test_a_malformed_multipart_body_is_a_bad_form(
    client: TestClient, ledger: Engine, page_env: Path
) -> None:
    link = _issue(ledger)
    response = client.post(
        link.path + "/record",
        content=b'--xyz\r\nContent-Disposition: form-data; name="member_id"\r\n\r\nMA',
        headers={"Content-Type": "multipart/form-data; boundary=xyz"},
    )
    assert response.status_code == 400 and "登记未成功" in response.text


def test_the_members_history_names_the_page_as_the_source_of_what_it_recorded(
    client: TestClient, ledger: Engine, page_env: Path, tokens: Tokens
) -> None:
    link = _issue(ledger)
    for rule, action in (
        ("quarterly_visit", "workplace_visit"),
        ("materials_delivery", "delivery"),
        ("certificate_review", "review"),
    ):
        form = {"member_id": "MA", "task": _task_key(ledger, rule), "action": action}
        assert client.post(link.path + "/record", data=form, follow_redirects=False).is_redirect
    response = client.get("/api/v1/members/MA/history", headers=bearer(tokens.admin))
    facts = {(f["kind"], f["detail"], f["source"]) for f in response.json()["facts"]}
    assert {
        ("interaction", "visit @workplace", "page"),
        ("delivery", "CA", "page"),
        ("review", None, "page"),
    } <= facts


def test_a_photo_keeps_its_location_where_the_members_organization_says_so(
    client: TestClient, ledger: Engine, page_env: Path
) -> None:
    with transaction(ledger) as s:  # town A, above MA's branch A1: inherited
        s.add(PolicyOverride(org="A", rule="page_photos", param="keep_location", value=True))
    link = _issue(ledger)
    response = client.post(
        link.path + "/record",
        data=_visit_form(ledger),
        files={"photo": ("visit.jpg", _jpeg(gps=True), "image/jpeg")},
        follow_redirects=False,
    )
    assert response.status_code == 303
    with ledger.connect() as conn:
        name = conn.execute(select(PageRecord.photo)).scalar_one()
    gps = Image.open(page_env / name).getexif().get_ifd(0x8825)
    assert gps.get(1) == "N" and gps.get(3) == "E"


def test_a_liaison_with_nothing_open_is_told_so(
    client: TestClient, ledger: Engine, page_env: Path
) -> None:
    with transaction(ledger) as s:
        s.add(Liaison(liaison_id="LC", name="联络员丙", org="A1"))
    response = client.get(_issue(ledger, "LC").path)
    assert response.status_code == 200 and "今天没有待办任务" in response.text
    assert "<form" not in response.text


def test_a_liaison_whose_locale_is_english_reads_the_page_in_english(
    client: TestClient, ledger: Engine, page_env: Path
) -> None:
    link = _issue(ledger, "LB")  # Liaison B, locale en
    page = client.get(link.path)
    text = unescape(page.text)
    assert page.status_code == 200 and '<html lang="en">' in text
    assert "Liaison B's open tasks" in text and "As of 20 Nov: " in text
    assert "李四" in text and "Call 137 9876 5432" in text
    assert "certificate review" in text and "Certificate reviewed" in text
    assert "同志" not in text
    tasks = compute_due(ledger, DueQuery(AS_OF, liaison_id="LB"))
    review = next(t for t in tasks if t.rule == "certificate_review")
    form = {
        "member_id": "MB",
        "task": f"certificate_review|{review.window_start}|{review.window_end}",
        "action": "review",
    }
    done = client.post(link.path + "/record", data=form)
    assert "Recorded: 李四, Certificate reviewed" in done.text
    refused = client.post(link.path + "/record", data={**form, "member_id": "MA"})
    assert refused.status_code == 403 and "Not yours to record" in refused.text
