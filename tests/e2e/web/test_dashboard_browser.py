"""The acceptance test of the ops view (issue 16), in headless Chromium against the real
processes: `liaison serve`, a `liaison worker` and, for the counts, `liaison status`.

SMTP is down (a port nothing listens on): every email dies after its retries. The dead
alert must appear within one alert interval; the page (badge, queue table, scheduler
card), `liaison status` and `/metrics` must give the same dead count; the worker must be
seen. Then SMTP comes back, "requeue all" (with its confirmation) brings the count to zero
and the alert clears. It runs on SQLite and on PostgreSQL; screenshots at desktop and
phone widths are saved under test-artifacts/ by each run (the PostgreSQL run's remain;
docs/web.md describes them).
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import redis
from sqlalchemy import Engine, func, select

from services.notifier.testing.smtp_server import SmtpTestServer
from services.web.tokens import create_token
from shared.models import Notification, NotificationEvent
from shared.status_keys import LAST_TICK_KEY, status_record
from tests.drills.planting import enqueue_all, plant
from tests.e2e.web.chromium import start_chromium
from tests.e2e.web.serving import (
    LIAISON,
    ROOT,
    free_port,
    liaison_serve,
    start_process,
    stop_process,
)
from tests.integration.web.ledger import NOW, seed_ledger

ARTIFACTS = ROOT / "test-artifacts"
DESKTOP = (1280, 900)
PHONE = (390, 844)  #: an iPhone 12's CSS pixels
EMAILS = 6
ALERT_CHECK_S = 3  #: the alert interval of this test's `liaison serve`


def wait_for(what: str, check: Callable[[], Any], timeout_s: float, every_s: float = 0.3) -> Any:
    deadline = time.monotonic() + timeout_s
    while True:
        value = check()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"{what}: not within {timeout_s} s")
        time.sleep(every_s)


@pytest.fixture
def browser(tmp_path: Path) -> Iterator[Any]:
    driver = start_chromium(
        tmp_path / "chromium-profile",
        flags=("--hide-scrollbars", f"--window-size={DESKTOP[0]},{DESKTOP[1]}"),
    )
    yield driver
    driver.quit()


@dataclass
class Served:
    base: str
    token: str
    env: dict[str, str]
    engine: Engine
    smtp: SmtpTestServer
    redis: redis.Redis


@pytest.fixture
def served(
    tmp_path: Path, database_url: str, engine: Engine, redis_server_url: str
) -> Iterator[Served]:
    """`liaison serve` and one `liaison worker` on the test database (SQLite, then
    PostgreSQL), SMTP down, emails queued to die."""
    client = redis.Redis.from_url(redis_server_url)
    client.flushdb()
    url = database_url
    seed_ledger(engine)
    token = create_token(engine, "ops", now=NOW).token
    smtp = SmtpTestServer()  # not started: its port refuses every connection
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("LIAISON_", "TWILIO_"))}
    env.update(
        LIAISON_DATABASE_URL=url,
        LIAISON_HOME=str(tmp_path / "var"),
        LIAISON_REDIS_URL=redis_server_url,
        LIAISON_SMTP_HOST=smtp.host,
        LIAISON_SMTP_PORT=str(smtp.port),
        LIAISON_SMTP_SECURITY="none",
        LIAISON_SMTP_FROM="liaison@example.org",
        LIAISON_SMTP_TIMEOUT_S="3",
        LIAISON_MAX_RETRIES="1",
        LIAISON_MIN_BACKOFF_MS="100",
        LIAISON_MAX_BACKOFF_MS="200",
        LIAISON_ALERT_CHECK_S=str(ALERT_CHECK_S),
        LIAISON_ALERT_SCHEDULER_STALE_S="3600",
        LIAISON_LOG_LEVEL="WARNING",
    )
    # A scheduler that ticked just now: this test is about dead notifications.
    client.set(LAST_TICK_KEY, status_record(datetime.now(UTC)))
    ids = plant(engine, EMAILS, channel="email")
    enqueue_all(engine, redis_server_url, ids)
    worker = start_process([LIAISON, "worker", "--processes", "1", "--threads", "2"], env,
                           tmp_path / "worker.log")  # fmt: skip
    try:
        with liaison_serve(env, tmp_path / "serve.log", port=port) as serving:
            yield Served(serving.base, token, env, engine, smtp, client)
    finally:
        stop_process(worker)
        if smtp.running:
            smtp.stop()


def dead_now(engine: Engine) -> int:
    with engine.connect() as conn:
        return int(
            conn.scalar(
                select(func.count()).select_from(Notification).where(Notification.status == "dead")
            )
            or 0
        )


def page_figures(driver: Any) -> dict[str, int]:
    """The dead count as the page shows it: badge, queue table, scheduler card."""
    from selenium.webdriver.common.by import By

    badge = driver.find_element(By.ID, "dead-count").text
    cell = driver.find_element(
        By.CSS_SELECTOR, 'tr[data-queue="notifications"] td[data-field="dead"]'
    ).text
    card = driver.find_element(By.ID, "scheduler-counts").text
    found = re.search(r"(\d+) (?:已放弃|dead)", card)
    assert found, card
    return {"badge": int(badge), "queue": int(cell), "card": int(found[1])}


def alert_keys(driver: Any) -> list[str]:
    from selenium.webdriver.common.by import By

    return [a.get_attribute("data-alert") for a in driver.find_elements(By.CSS_SELECTOR, ".alert")]


def screenshot(driver: Any, name: str, size: tuple[int, int]) -> Path:
    """The whole page at `size`'s width (as tall as the page), saved as test-artifacts/name."""
    driver.set_window_size(*size)
    height = driver.execute_script("return document.documentElement.scrollHeight")
    driver.set_window_size(size[0], max(size[1], int(height)))
    ARTIFACTS.mkdir(exist_ok=True)
    path = ARTIFACTS / name
    driver.save_screenshot(str(path))
    driver.set_window_size(*DESKTOP)
    return path


def metric(base: str, name: str) -> float:
    import urllib.request

    with urllib.request.urlopen(base + "/metrics", timeout=10) as response:
        text = response.read().decode()
    found = re.search(rf"^{name} (\S+)$", text, flags=re.MULTILINE)
    assert found, text[:2000]
    return float(found[1])


def api_alerts(base: str, token: str) -> list[dict[str, Any]]:
    import urllib.request

    request = urllib.request.Request(
        base + "/api/v1/alerts?lang=en", headers={"Authorization": f"Bearer {token}"}
    )
    with urllib.request.urlopen(request, timeout=10) as response:
        return list(json.loads(response.read()))


def status_dead(env: dict[str, str]) -> int:
    done = subprocess.run(
        [LIAISON, "status", "--lang", "en"], env={**env, "COLUMNS": "200"}, cwd=ROOT,
        capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stdout + done.stderr
    found = re.search(r"Dead notifications: (\d+)", done.stdout)
    assert found, done.stdout
    return int(found[1])


@pytest.mark.slow
def test_dead_emails_alert_count_the_same_everywhere_and_requeue_all_clears_them(
    browser: Any, served: Served
) -> None:
    from selenium.common.exceptions import NoSuchElementException, StaleElementReferenceException
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support import expected_conditions as ec
    from selenium.webdriver.support.ui import WebDriverWait

    driver, base = browser, served.base
    wait = WebDriverWait(driver, 20)
    driver.get(base + "/")
    wait.until(ec.presence_of_element_located((By.ID, "token")))
    assert driver.find_element(By.ID, "login").text == "登录"  # Chinese first
    driver.find_element(By.ID, "token").send_keys(served.token)
    driver.find_element(By.ID, "login").click()
    wait.until(ec.presence_of_element_located((By.ID, "queues")))

    # SMTP is down: every email dies after its one retry.
    wait_for("every email dead", lambda: dead_now(served.engine) == EMAILS, 90)
    died_at = time.monotonic()
    # The alert loop records the incident within one interval (plus a little for a busy
    # machine's page load); the page shows it.
    wait_for(
        "the dead incident recorded",
        lambda: any(a["key"] == "dead" and a["since"] for a in api_alerts(base, served.token)),
        ALERT_CHECK_S + 5,
    )
    assert time.monotonic() - died_at <= ALERT_CHECK_S + 5
    driver.get(base + "/")
    assert "dead" in alert_keys(driver)
    assert page_figures(driver) == {"badge": EMAILS, "queue": EMAILS, "card": EMAILS}
    assert metric(base, "liaison_dead_notifications") == EMAILS
    assert status_dead(served.env) == EMAILS
    groups = driver.find_elements(By.CSS_SELECTOR, "tr.dead-group")
    assert len(groups) == 1 and "cannot reach the SMTP server" in groups[0].text
    assert len(driver.find_elements(By.CSS_SELECTOR, "tr.dead-row")) == EMAILS
    workers = driver.find_elements(By.CSS_SELECTOR, "#workers tr.worker")
    assert len(workers) == 1 and "notifications" in workers[0].text
    height = driver.execute_script("return document.documentElement.scrollHeight")
    assert height < 3000, height  # one list of the dead, not two (5,204 px before)
    screenshot(driver, "dashboard-dead-desktop.png", DESKTOP)
    screenshot(driver, "dashboard-dead-phone.png", PHONE)

    # SMTP is back; "requeue all", confirmed, sends them all.
    served.smtp.start()
    driver.find_element(By.ID, "requeue-all").click()
    confirm = wait.until(ec.alert_is_present())
    assert str(EMAILS) in confirm.text
    confirm.accept()
    wait_for("every email sent", lambda: len(served.smtp.messages) >= EMAILS, 60)
    wait_for("no dead left", lambda: dead_now(served.engine) == 0, 30)
    wait_for(
        "the dead alert cleared",
        lambda: all(a["key"] != "dead" for a in api_alerts(base, served.token)),
        ALERT_CHECK_S + 5,
    )
    driver.get(base + "/")
    WebDriverWait(
        driver, 15, ignored_exceptions=(StaleElementReferenceException, NoSuchElementException)
    ).until(lambda d: page_figures(d) == {"badge": 0, "queue": 0, "card": 0})
    assert "dead" not in alert_keys(driver)
    assert metric(base, "liaison_dead_notifications") == 0
    assert status_dead(served.env) == 0
    with served.engine.connect() as conn:
        who = conn.scalars(
            select(NotificationEvent.detail).where(NotificationEvent.detail.like("requeued by%"))
        ).all()
    assert len(who) == EMAILS and all(d.startswith("requeued by ops token #") for d in who)
    screenshot(driver, "dashboard-after-requeue-desktop.png", DESKTOP)
    screenshot(driver, "dashboard-after-requeue-phone.png", PHONE)

    driver.get(base + "/?lang=en")
    assert driver.find_element(By.CSS_SELECTOR, "#queues h2").text == "Queues"
    screenshot(driver, "dashboard-english-desktop.png", DESKTOP)
    driver.get(base + "/compliance?lang=zh-CN")
    wait.until(ec.presence_of_element_located((By.ID, "compliance-table")))
    screenshot(driver, "compliance-desktop.png", DESKTOP)
    screenshot(driver, "compliance-phone.png", PHONE)
    driver.get(base + "/docs")
    assert "/api/v1/dead/requeue" in driver.page_source
    screenshot(driver, "docs-desktop.png", DESKTOP)
