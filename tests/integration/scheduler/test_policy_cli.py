"""`liaison policy set|unset` as a secretary runs them: every value checked, one line when
refused, nothing stored from a refused command, and a way back to the inherited value."""

from __future__ import annotations

import sys
from datetime import date

import pytest
from sqlalchemy import Engine, func, insert, select

import services.cli as cli
from services.notifier.sms_routes import SMS_ROUTE_ROW
from services.scheduler.planning.message_policy import MESSAGE_RULES
from shared.models import PolicyOverride, Rule
from tests.integration.scheduler.ledger import build_ledger

Run = tuple[int, str, str]


@pytest.fixture
def liaison(
    engine: Engine,
    liaison_env: dict[str, str],
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
):  # type: ignore[no-untyped-def]
    """`liaison ARGS` through `services.cli.main`, as the installed command runs."""
    build_ledger(engine, seed=21, members=8, as_of=date(2026, 11, 22))
    with engine.begin() as conn:  # the message rules, as migrations 0003 and 0006 seed them
        conn.execute(insert(Rule), [*MESSAGE_RULES, SMS_ROUTE_ROW])
    monkeypatch.setattr(cli, "configure_logging", lambda level: None)
    monkeypatch.setenv("COLUMNS", "300")

    def run(*args: str) -> Run:
        monkeypatch.setattr(sys, "argv", ["liaison", *args])
        try:
            cli.main()
            code = 0
        except SystemExit as exc:
            code = exc.code if isinstance(exc.code, int) else 1
        out, err = capsys.readouterr()
        return code, out, err

    return run


def overrides(engine: Engine) -> int:
    with engine.connect() as conn:
        return int(conn.execute(select(func.count()).select_from(PolicyOverride)).scalar_one())


@pytest.mark.parametrize(
    ("assignment", "says"),
    [
        ("quiet_hours.start=25:00", 'quiet_hours.start must be a time of day "HH:MM"'),
        ("quiet_hours.end=8am", 'quiet_hours.end must be a time of day "HH:MM"'),
        ('liaison_digest.weekdays=["mon","funday"]', "liaison_digest.weekdays must be a list"),
        ("event_reminder.reach=everyone", "event_reminder.reach must be one of"),
        ("event_reminder.same_day=1", "event_reminder.same_day must be true or false"),
        ("monthly_contact.required=0", "monthly_contact.required must be a whole number from 1"),
        ('quarterly_visit.kinds=["visit","lunch"]', "quarterly_visit.kinds must be a list of"),
        ('key_date_visit.key_dates=["02-30"]', "'02-30' is not a day of the year"),
        ("monthly_contact.source=reviews", "cannot be overridden"),
        ("sms_route.provider=pigeon", "sms_route.provider must be one of"),
    ],
)
def test_policy_set_refuses_a_value_its_parameter_cannot_hold_in_one_line(
    liaison, engine: Engine, assignment: str, says: str
) -> None:  # type: ignore[no-untyped-def]
    code, out, err = liaison(
        "policy", "set", "--org", "TH", "monthly_contact.required=2", assignment
    )
    assert code == 1
    lines = [line for line in err.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("liaison: ") and says in lines[0], err
    assert out == "" and overrides(engine) == 0  # the good value before it was not kept


def test_policy_set_takes_good_values_and_unset_gives_back_the_inherited_one(
    liaison, engine: Engine
) -> None:  # type: ignore[no-untyped-def]
    code, out, err = liaison("policy", "set", "--org", "TH", "quiet_hours.start=22:00")
    assert code == 0, err
    code, out, err = liaison("policy", "set", "--org", "TH-XC", "quiet_hours.start=20:30")
    assert code == 0 and out.strip() == 'TH-XC: quiet_hours.start = "20:30"', err
    code, out, err = liaison("policy", "unset", "--org", "TH-XC", "quiet_hours.start")
    assert code == 0, err
    assert out.strip() == 'TH-XC: quiet_hours.start unset; now "22:00"  [TH]'
    code, out, _ = liaison("policy", "show", "--org", "TH-XC-01")
    assert 'quiet_hours.start = "22:00"  [TH]' in out
    code, out, err = liaison("policy", "unset", "--org", "TH", "quiet_hours.start")
    assert out.strip() == 'TH: quiet_hours.start unset; now "21:00"  [default]'
    assert overrides(engine) == 0


def test_policy_unset_of_a_value_the_organization_does_not_have_is_one_line(liaison) -> None:  # type: ignore[no-untyped-def]
    code, _, err = liaison("policy", "unset", "--org", "TH-XC", "quiet_hours.start")
    assert code == 1
    assert err.strip() == "liaison: TH-XC has no value of its own for quiet_hours.start"
    code, _, err = liaison("policy", "unset", "--org", "TH-XC", "quiet_hours.colour")
    assert code == 1 and "has no parameter 'colour'" in err


@pytest.mark.parametrize("command", ["show", "set", "unset"])
def test_policy_for_an_unknown_organization_is_a_usage_error(liaison, command: str) -> None:  # type: ignore[no-untyped-def]
    extra = {"show": [], "set": ["quiet_hours.start=22:00"], "unset": ["quiet_hours.start"]}
    code, _, err = liaison("policy", command, "--org", "NOPE", *extra[command])
    assert code == 2 and "no organization with code 'NOPE'" in err
