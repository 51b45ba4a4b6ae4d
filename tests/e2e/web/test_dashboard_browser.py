"""The ops dashboard in headless Chromium against a running `liaison serve`: it loads,
shows a dead letter, requeues it, and the queue figure changes. A screenshot is kept
under test-artifacts/."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import redis
from sqlalchemy import update

from services.notifier.enqueuing import notification_message
from services.web.tokens import create_token
from shared.db import make_engine, transaction, upgrade
from shared.models import Notification
from tests.conftest import in_ci, require_server
from tests.integration.web.ledger import NOW, seed_ledger, send_digest

ROOT = Path(__file__).resolve().parents[3]
ARTIFACTS = ROOT / "test-artifacts"
CHROMIUM_FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--window-size=1280,1600",
)


def _binary(*names: str) -> str | None:
    return next((p for n in names if (p := shutil.which(n))), None)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def browser(tmp_path: Path) -> Iterator[object]:
    chromium = _binary("chromium", "chromium-browser", "google-chrome")
    driver_path = _binary("chromedriver")
    if chromium is None or driver_path is None:
        message = (
            "chromium and chromium-driver are not installed "
            "(apt-get install chromium chromium-driver)"
        )
        if in_ci():
            pytest.fail(message, pytrace=False)
        pytest.skip(message)
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = chromium
    for flag in CHROMIUM_FLAGS:
        options.add_argument(flag)
    options.add_argument(f"--user-data-dir={tmp_path / 'chromium-profile'}")
    driver = webdriver.Chrome(options=options, service=Service(executable_path=driver_path))
    yield driver
    driver.quit()


@pytest.fixture
def served(tmp_path: Path, redis_server_url: str) -> Iterator[tuple[str, str]]:
    """`liaison serve` on a real port, with a ledger, an ops token and a dead letter."""
    client = redis.Redis.from_url(redis_server_url)
    client.flushdb()
    url = f"sqlite:///{tmp_path / 'liaison.sqlite3'}"
    engine = make_engine(url)
    upgrade(engine)
    seed_ledger(engine)
    send_digest(engine, "LA")
    with transaction(engine) as s:
        s.execute(update(Notification).values(status="dead", last_error="retries exhausted"))
    message = notification_message(1).copy(
        options={"redis_message_id": "dead-1", "traceback": "Traceback…\nTimeoutError: SMTP"}
    )
    client.zadd("liaison:notifications.XQ", {"dead-1": 1_700_000_000_000})
    client.hset("liaison:notifications.XQ.msgs", "dead-1", message.encode())
    token = create_token(engine, "ops", now=NOW).token
    engine.dispose()
    port = _free_port()
    env = {
        **os.environ,
        "LIAISON_DATABASE_URL": url,
        "LIAISON_HOME": str(tmp_path / "var"),
        "LIAISON_REDIS_URL": redis_server_url,
    }
    liaison = Path(sys.executable).with_name("liaison")
    process = subprocess.Popen(
        [str(liaison), "serve", "--host", "127.0.0.1", "--port", str(port)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 20
        while True:
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                    break
            except OSError:
                if process.poll() is not None or time.monotonic() > deadline:
                    err = process.stderr.read().decode() if process.stderr else ""
                    require_server("liaison serve", err[-500:] or "did not start")
                time.sleep(0.2)
        yield base, token
    finally:
        process.terminate()
        process.wait(timeout=10)


def _waiting(driver: object) -> str:
    from selenium.webdriver.common.by import By

    cell = driver.find_element(  # type: ignore[attr-defined]
        By.CSS_SELECTOR, 'tr[data-queue="notifications"] td[data-field="waiting"]'
    )
    return str(cell.text)


@pytest.mark.slow
def test_the_dashboard_shows_a_dead_letter_and_requeues_it(
    browser: object, served: tuple[str, str]
) -> None:
    from selenium.common.exceptions import (
        NoSuchElementException,
        StaleElementReferenceException,
    )
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support import expected_conditions as ec
    from selenium.webdriver.support.ui import WebDriverWait

    base, token = served
    driver = browser
    wait = WebDriverWait(driver, 15)  # type: ignore[arg-type]
    driver.get(base + "/")  # type: ignore[attr-defined]
    wait.until(ec.presence_of_element_located((By.ID, "token")))
    driver.find_element(By.ID, "token").send_keys(token)  # type: ignore[attr-defined]
    driver.find_element(By.ID, "login").click()  # type: ignore[attr-defined]
    try:
        wait.until(ec.presence_of_element_located((By.ID, "queues")))
    except Exception:
        print(driver.page_source)  # type: ignore[attr-defined]
        raise
    rows = driver.find_elements(By.CSS_SELECTOR, "tr.dead-letter")  # type: ignore[attr-defined]
    assert len(rows) == 1
    assert "TimeoutError: SMTP" in rows[0].text
    assert "+86 138****0001" in rows[0].text
    assert _waiting(driver) == "0"
    assert "svg" in driver.page_source  # type: ignore[attr-defined]
    ARTIFACTS.mkdir(exist_ok=True)
    driver.save_screenshot(str(ARTIFACTS / "dashboard.png"))  # type: ignore[attr-defined]
    rows[0].find_element(By.CSS_SELECTOR, "button.requeue").click()
    # The page reloads after the requeue: cells may go stale while it does.
    WebDriverWait(
        driver,  # type: ignore[arg-type]
        15,
        ignored_exceptions=(StaleElementReferenceException, NoSuchElementException),
    ).until(lambda d: _waiting(d) == "1")
    assert driver.find_elements(By.CSS_SELECTOR, "tr.dead-letter") == []  # type: ignore[attr-defined]
    driver.save_screenshot(str(ARTIFACTS / "dashboard-after-requeue.png"))  # type: ignore[attr-defined]
