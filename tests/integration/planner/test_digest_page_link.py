"""The digest refresher adds the liaison's page link at send time, on both databases."""

from __future__ import annotations

from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session

from services.scheduler.planning.digest import digest_refresher
from shared.clock import FixedClock
from shared.models import LiaisonLink, Notification
from shared.page_links import LinkState, check_link, load_page_settings
from tests.integration.web.ledger import NOW, seed_ledger, send_digest

ENV = {
    "LIAISON_PAGE_SECRET": "digest-page-secret-0123456789",
    "LIAISON_PUBLIC_URL": "https://liaison.example.org/",
}


def test_the_refreshed_digest_carries_a_live_link_to_the_liaisons_page(engine: Engine) -> None:
    seed_ledger(engine)
    send_digest(engine, "LA", status="queued")
    page = load_page_settings(ENV)
    refresh = digest_refresher(FixedClock(NOW), page)
    with Session(engine) as session:
        notification = session.scalars(select(Notification)).one()
        first = refresh(session, notification)
        again = refresh(session, notification)
    assert first is not None and again is not None
    link = str(first["link"])
    assert link.startswith("https://liaison.example.org/p/")
    assert again["link"] == link, "a retried send reuses the digest's link"
    with engine.connect() as conn:
        check = check_link(conn, page, link.rsplit("/", 1)[1], now=NOW)
        issued = conn.execute(select(func.count()).select_from(LiaisonLink)).scalar()
    assert check.state is LinkState.OPEN and check.liaison_id == "LA" and issued == 1


def test_without_a_page_secret_the_digest_has_no_link(engine: Engine) -> None:
    seed_ledger(engine)
    send_digest(engine, "LA", status="queued")
    refresh = digest_refresher(FixedClock(NOW), load_page_settings({}))
    with Session(engine) as session:
        fresh = refresh(session, session.scalars(select(Notification)).one())
    assert fresh is not None and "link" not in fresh
