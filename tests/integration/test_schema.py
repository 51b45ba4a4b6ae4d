"""The migrations bring an empty database to the schema the models describe."""

from __future__ import annotations

from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from shared.db import current_revision, head_revision
from shared.models import Rule


def test_a_migrated_database_is_at_the_head_revision(engine: Engine) -> None:
    assert current_revision(engine) == head_revision(engine)


def test_the_rule_table_holds_every_rule_of_the_domain(engine: Engine) -> None:
    with Session(engine) as session:
        names = set(session.scalars(select(Rule.name)))
        ledger = session.get(Rule, "ledger_verification")
    assert names == {
        "monthly_contact",
        "quarterly_visit",
        "annual_site_visit",
        "frequent_mover_contact",
        "elderly_visits",
        "key_date_visit",
        "certificate_review",
        "materials_delivery",
        "ledger_verification",
    }
    assert ledger is not None and ledger.enabled is False
