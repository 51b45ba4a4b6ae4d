"""The page link's MAC: short, bound to its row, and never mistaken for personal data."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta

import pytest

from shared.errors import ConfigurationError
from shared.masking import mask_text
from shared.page_links import MAC_CHARS, load_page_settings, mac_of

ISSUED = datetime(2026, 11, 20, 2, 0, tzinfo=UTC)


def test_a_mac_is_16_base32_characters_and_changes_with_every_part_it_signs() -> None:
    mac = mac_of("s" * 20, 7, "LA", ISSUED)
    assert len(mac) == MAC_CHARS and set(mac) <= set("abcdefghijklmnopqrstuvwxyz234567")
    others = {
        mac_of("t" * 20, 7, "LA", ISSUED),
        mac_of("s" * 20, 8, "LA", ISSUED),
        mac_of("s" * 20, 7, "LB", ISSUED),
        mac_of("s" * 20, 7, "LA", ISSUED + timedelta(microseconds=1)),
    }
    assert mac not in others and len(others) == 4


def test_links_pass_through_the_masking_of_outgoing_messages_unchanged() -> None:
    rng = random.Random(19)
    for _ in range(2000):
        secret = "".join(rng.choices("abcdef0123456789", k=32))
        link_id = rng.randrange(1, 10**7)
        url = f"https://liaison.example.org/p/{link_id}-{mac_of(secret, link_id, 'L1', ISSUED)}"
        assert mask_text(url) == url


@pytest.mark.parametrize(
    "env",
    [
        {"LIAISON_PAGE_SECRET": "short"},
        {"LIAISON_PAGE_SECRET": "s" * 20, "LIAISON_PAGE_LINK_DAYS": "0"},
        {"LIAISON_PAGE_SECRET": "s" * 20, "LIAISON_PAGE_LINK_DAYS": "thirty"},
        {"LIAISON_PHOTO_MAX_BYTES": str(64 * 1024 * 1024)},
    ],
)
def test_unusable_page_settings_are_refused_by_name(env: dict[str, str]) -> None:
    with pytest.raises(ConfigurationError, match="LIAISON_P"):
        load_page_settings(env)


def test_the_photos_live_beside_the_database_by_default() -> None:
    settings = load_page_settings({"LIAISON_HOME": "/srv/liaison"})
    assert str(settings.photos_dir) == "/srv/liaison/photos" and not settings.enabled
