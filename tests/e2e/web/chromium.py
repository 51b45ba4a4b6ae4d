"""Headless Chromium for the page tests: one way to find it, start it and skip or fail
without it (`SKIP_BROWSER=1` skips; in CI a missing browser fails, as a missing server does)."""

from __future__ import annotations

import os
import shutil
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import in_ci

INSTALL = "sudo apt-get install -y chromium chromium-driver fonts-wqy-zenhei"
FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
)


def binary(*names: str) -> str | None:
    return next((p for n in names if (p := shutil.which(n))), None)


def start_chromium(
    profile: Path, *, flags: tuple[str, ...] = (), mobile: dict[str, Any] | None = None
) -> Any:
    """A Selenium driver of headless Chromium with its profile in `profile`; `flags` are
    added to the usual ones, `mobile` is Chrome's mobileEmulation (device metrics, agent)."""
    if os.environ.get("SKIP_BROWSER") == "1":
        pytest.skip("SKIP_BROWSER=1")
    chromium = binary("chromium", "chromium-browser", "google-chrome")
    driver_path = binary("chromedriver")
    if chromium is None or driver_path is None:
        message = f"chromium and chromium-driver are not installed ({INSTALL})"
        if in_ci():
            pytest.fail(message, pytrace=False)
        pytest.skip(message)
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = chromium
    for flag in (*FLAGS, *flags):
        options.add_argument(flag)
    options.add_argument(f"--user-data-dir={profile}")
    if mobile is not None:
        options.add_experimental_option("mobileEmulation", mobile)
    return webdriver.Chrome(options=options, service=Service(executable_path=driver_path))
