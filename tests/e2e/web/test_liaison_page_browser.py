"""Acceptance: the liaison's page on a phone. Headless Chromium at 390×844 opens the link
from a rendered digest SMS, records a home visit for one task and a delivery of study
materials for another, and sees both tasks gone; `liaison due` (the installed command)
agrees. Screenshots are kept under test-artifacts/ (page-*.png)."""

from __future__ import annotations

import json
import os
import re
import subprocess
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from services.notifier.rendering import render_message
from services.scheduler.planning.digest import digest_refresher
from shared.clock import SystemClock
from shared.db import make_engine
from shared.models import Notification
from shared.page_links import load_page_settings
from tests.e2e.web.chromium import start_chromium
from tests.e2e.web.serving import LIAISON, free_port, liaison_serve
from tests.e2e.web.test_dashboard_browser import ARTIFACTS
from tests.integration.web.ledger import seed_ledger, send_digest

SECRET = "browser-page-secret-0123456789"
PHONE = {"width": 390, "height": 844, "pixelRatio": 2}


@pytest.fixture
def phone(tmp_path: Path) -> Iterator[object]:
    driver = start_chromium(
        tmp_path / "chromium-profile",
        flags=("--lang=zh-CN",),
        mobile={
            "deviceMetrics": PHONE,
            "userAgent": "Mozilla/5.0 (Linux; Android 13) AppleWebKit/537.36 (KHTML, like Gecko) "
            "Chrome/120 Mobile Safari/537.36 MicroMessenger/8.0",
        },
    )
    yield driver
    driver.quit()


@pytest.fixture
def served(
    database_url: str, tmp_path: Path, redis_server_url: str
) -> Iterator[tuple[str, dict[str, str]]]:
    """`liaison serve` on a real port over the two-town ledger, with page links on."""
    engine = make_engine(database_url)
    seed_ledger(engine)
    engine.dispose()
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    env = {
        **os.environ,
        "LIAISON_DATABASE_URL": database_url,
        "LIAISON_HOME": str(tmp_path / "var"),
        "LIAISON_REDIS_URL": redis_server_url,
        "LIAISON_PAGE_SECRET": SECRET,
        "LIAISON_PUBLIC_URL": base,
    }
    with liaison_serve(env, tmp_path / "serve.log", port=port):
        yield base, env


def _digest_sms(database_url: str, env: dict[str, str]) -> str:
    """LA's digest as the worker renders it at send time: refreshed (tasks, link), then
    rendered to the SMS text."""
    engine = make_engine(database_url)
    try:
        send_digest(engine, "LA", status="queued")
        refresh = digest_refresher(SystemClock(), load_page_settings(env))
        with Session(engine) as session:
            notification = session.scalars(select(Notification)).one()
            data = refresh(session, notification)
        assert data is not None
        return render_message("liaison_digest", "sms", "zh-CN", data).text
    finally:
        engine.dispose()


def _due(env: dict[str, str], day: str) -> set[tuple[str, str]]:
    done = subprocess.run(
        [LIAISON, "due", "--as-of", day, "--liaison", "LA", "--format", "jsonl"],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    return {(t["member_id"], t["rule"]) for t in map(json.loads, done.stdout.splitlines())}


def _tap(driver: object, rule: str, action: str) -> None:
    from selenium.webdriver.common.by import By

    form = driver.find_element(  # type: ignore[attr-defined]
        By.CSS_SELECTOR, f'section[data-member="MA"] form[data-rule="{rule}"]'
    )
    button = form.find_element(By.CSS_SELECTOR, f'button[value="{action}"]')
    driver.execute_script("arguments[0].scrollIntoView({block: 'center'});", button)  # type: ignore[attr-defined]
    button.click()


def _rules_shown(driver: object) -> set[str]:
    from selenium.webdriver.common.by import By

    forms = driver.find_elements(By.CSS_SELECTOR, "form.task")  # type: ignore[attr-defined]
    return {f.get_attribute("data-rule") for f in forms}


def _full_screenshot(driver: object, name: str) -> None:
    """The whole page, not only the first screen: the phone's width, the page's height."""
    height = driver.execute_script("return document.documentElement.scrollHeight")  # type: ignore[attr-defined]
    driver.execute_cdp_cmd(  # type: ignore[attr-defined]
        "Emulation.setDeviceMetricsOverride",
        {"width": PHONE["width"], "height": int(height), "deviceScaleFactor": 2, "mobile": True},
    )
    driver.save_screenshot(str(ARTIFACTS / name))  # type: ignore[attr-defined]
    driver.execute_cdp_cmd(  # type: ignore[attr-defined]
        "Emulation.setDeviceMetricsOverride",
        {
            "width": PHONE["width"],
            "height": PHONE["height"],
            "deviceScaleFactor": 2,
            "mobile": True,
        },
    )


@pytest.mark.slow
def test_a_liaison_records_a_visit_and_a_delivery_from_the_digest_link_on_a_phone(
    phone: object, served: tuple[str, dict[str, str]], database_url: str
) -> None:
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support import expected_conditions as ec
    from selenium.webdriver.support.ui import WebDriverWait

    base, env = served
    driver = phone
    wait = WebDriverWait(driver, 20)  # type: ignore[arg-type]
    sms = _digest_sms(database_url, env)
    found = re.search(r"(https?://\S+/p/\d+-[a-z2-7]+)", sms)
    assert found is not None, sms
    today = datetime.now(ZoneInfo("Asia/Shanghai")).date().isoformat()
    before = _due(env, today)
    assert {("MA", "quarterly_visit"), ("MA", "materials_delivery")} <= before
    db = "sqlite" if database_url.startswith("sqlite") else "postgresql"
    ARTIFACTS.mkdir(exist_ok=True)

    driver.get(found[1])  # type: ignore[attr-defined]
    wait.until(ec.presence_of_element_located((By.CSS_SELECTOR, "form.task")))
    page = driver.find_element(By.TAG_NAME, "body").text  # type: ignore[attr-defined]
    assert "联络员甲同志的待办" in page and "张三" in page and "李四" not in page
    width = driver.execute_script("return document.documentElement.scrollWidth")  # type: ignore[attr-defined]
    assert width <= PHONE["width"], "nothing runs off the side of a 390 px screen"
    smallest = driver.execute_script(  # type: ignore[attr-defined]
        "return Math.min(...[...document.querySelectorAll('.actions button')]"
        ".map(b => b.getBoundingClientRect().height))"
    )
    assert smallest >= 48, "touch targets of at least 48 px"
    _full_screenshot(driver, f"page-{db}-1-opened.png")

    _tap(driver, "quarterly_visit", "home_visit")
    wait.until(ec.presence_of_element_located((By.CSS_SELECTOR, ".notice.ok")))
    notice = driver.find_element(By.CSS_SELECTOR, ".notice.ok").text  # type: ignore[attr-defined]
    assert notice == "已登记：张三 已上门走访（家中）"
    assert "quarterly_visit" not in _rules_shown(driver)
    driver.save_screenshot(str(ARTIFACTS / f"page-{db}-2-after-visit.png"))  # type: ignore[attr-defined]

    _tap(driver, "materials_delivery", "delivery")
    wait.until(ec.text_to_be_present_in_element((By.CSS_SELECTOR, ".notice.ok"), "已发放学习资料"))
    shown = _rules_shown(driver)
    assert "quarterly_visit" not in shown and "materials_delivery" not in shown
    _full_screenshot(driver, f"page-{db}-3-after-delivery.png")

    after = _due(env, today)
    assert ("MA", "quarterly_visit") not in after and ("MA", "materials_delivery") not in after
    page_rules = {("MA", r) for r in shown}
    assert page_rules == after, "the page lists exactly what `liaison due` lists"

    # Readable at 360 px as well: nothing runs off the side.
    driver.execute_cdp_cmd(  # type: ignore[attr-defined]
        "Emulation.setDeviceMetricsOverride",
        {"width": 360, "height": 740, "deviceScaleFactor": 2, "mobile": True},
    )
    widths = driver.execute_script(  # type: ignore[attr-defined]
        "return [window.innerWidth, document.documentElement.scrollWidth]"
    )
    assert widths == [360, 360], widths
    driver.save_screenshot(str(ARTIFACTS / f"page-{db}-4-at-360px.png"))  # type: ignore[attr-defined]

    driver.get(base + "/p/1-aaaaaaaaaaaaaaaa")  # type: ignore[attr-defined]
    wait.until(ec.presence_of_element_located((By.CSS_SELECTOR, "main.refused")))
    assert "链接无效" in driver.find_element(By.TAG_NAME, "h1").text  # type: ignore[attr-defined]
    driver.save_screenshot(str(ARTIFACTS / f"page-{db}-5-forged-link.png"))  # type: ignore[attr-defined]
