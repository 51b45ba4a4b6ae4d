"""Every shipped policy parameter is checked by what it means; its default passes."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from services.notifier.sms_routes import SMS_ROUTE_ROW
from services.scheduler.planning.message_policy import MESSAGE_RULES
from services.scheduler.tasks.policy_values import PolicyError, check_value
from shared.rule_defaults import DEFAULT_RULES

ROWS = [*DEFAULT_RULES, *MESSAGE_RULES, SMS_ROUTE_ROW]


@pytest.mark.parametrize(
    ("rule", "param", "value"),
    [(r["name"], p, v) for r in ROWS for p, v in r["params"].items() if p != "source"]
    + [(r["name"], "enabled", r["enabled"]) for r in ROWS],
)
def test_every_shipped_default_is_a_value_its_parameter_accepts(
    rule: str, param: str, value: Any
) -> None:
    check_value(rule, param, value, value)


@pytest.mark.parametrize(
    ("rule", "param", "value"),
    [
        ("quiet_hours", "start", "25:00"),
        ("quiet_hours", "start", "21:60"),
        ("quiet_hours", "end", 8),
        ("liaison_digest", "local_time", "9"),
        ("liaison_digest", "weekdays", "mon"),
        ("branch_escalation", "overdue_days", -1),
        ("branch_escalation", "overdue_days", True),
        ("event_reminder", "lead_days", 400),
        ("monthly_contact", "period", "fortnight"),
        ("monthly_contact", "min_age", 200),
        ("annual_site_visit", "places", ["garden"]),
        ("annual_site_visit", "places", []),
        ("key_date_visit", "key_dates", ["02-29"]),
        ("key_date_visit", "key_dates", ["7/1"]),
        ("frequent_mover_contact", "interval_days", 0),
        ("certificate_review", "cycle_months", 1_000),
        ("sms_route", "template_codes", ["SMS_1"]),
        ("monthly_contact", "enabled", "yes"),
    ],
)
def test_a_value_the_parameter_cannot_hold_is_refused(rule: str, param: str, value: Any) -> None:
    with pytest.raises(PolicyError, match=f"{rule}.{param}"):
        check_value(rule, param, value, None)


def test_every_rule_row_a_fresh_database_is_seeded_with_accepts_its_own_defaults(
    tmp_path: Path,
) -> None:
    # Rows other rooms seed through migrations (page_photos, sms_route…) included: a
    # default that `policy set` would refuse could never be set back.
    from sqlalchemy import select

    from shared.db import make_engine, upgrade
    from shared.models import Rule

    engine = make_engine(f"sqlite:///{tmp_path / 'fresh.sqlite3'}")
    upgrade(engine)
    with engine.connect() as conn:
        rows = conn.execute(select(Rule.name, Rule.enabled, Rule.params)).all()
    engine.dispose()
    assert len(rows) >= len(ROWS)
    for name, enabled, params in rows:
        check_value(name, "enabled", enabled, enabled)
        for param, value in params.items():
            if param != "source":
                check_value(name, param, value, value)
