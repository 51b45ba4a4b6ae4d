"""Ledgers as branches keep them (issue 15): Chinese enum spellings, one ID number per
person, dates in a possible order, and two visits on one day at two places."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import Engine, select

from shared.errors import ImportRejected
from shared.ledger.importer import import_files
from shared.models import Event, Interaction, Liaison, Member
from tests.integration.ledger.conftest import ledger_rows
from tests.integration.ledger.sample import M1_ID, write_csv

Ledger = dict[str, list[dict[str, object]]]


def problems_of(engine: Engine, paths: list[Path]) -> list[str]:
    with pytest.raises(ImportRejected) as caught:
        import_files(engine, paths)
    return caught.value.problems


def members_only(ledger: Ledger) -> Ledger:
    return {k: ledger[k] for k in ("organizations", "liaisons", "members")}


def test_the_chinese_words_branches_write_in_enum_columns_import_as_the_codes(
    engine: Engine, tmp_path: Path, ledger: Ledger
) -> None:
    ledger["interactions"] = [
        {"member_id": "M001", "kind": "走访", "on": "2026-02-20", "place": "家中"},
        {"member_id": "M001", "kind": "电话", "on": "2026-02-21"},
        {"member_id": "M002", "kind": "微信", "on": "2026-02-22", "place": "工作单位"},
    ]
    ledger["members"][0]["status"] = "正常"
    ledger["members"][2]["status"] = "已返乡"
    ledger["members"][1]["channels"] = "短信+邮件"
    ledger["liaisons"][0]["channels"] = "企业微信"
    ledger["events"][0]["type"] = "主题党日"
    import_files(engine, write_csv(tmp_path, ledger=ledger))
    with engine.connect() as conn:
        facts = conn.execute(
            select(Interaction.kind, Interaction.place).order_by(Interaction.on_date)
        ).all()
        members = dict(conn.execute(select(Member.member_id, Member.status)).all())
        channels = conn.execute(select(Member.channels).where(Member.member_id == "M002"))
        liaison = conn.execute(select(Liaison.channels).where(Liaison.liaison_id == "L01"))
        event = conn.execute(select(Event.type).where(Event.event_id == "E01"))
        assert [tuple(f) for f in facts] == [
            ("visit", "home"),
            ("phone", None),
            ("wechat", "workplace"),
        ]
        assert members == {"M001": "active", "M002": "active", "M003": "returned"}
        assert channels.scalar_one() == "sms+email"
        assert liaison.scalar_one() == "wecom"
        assert event.scalar_one() == "theme_day"


def test_a_word_that_is_no_spelling_of_an_enum_is_still_refused_with_the_chinese_choices(
    engine: Engine, tmp_path: Path, ledger: Ledger
) -> None:
    ledger["members"][0]["status"] = "出差"
    problems = problems_of(engine, write_csv(tmp_path, ledger=members_only(ledger)))
    assert len(problems) == 1
    assert problems[0].startswith("members.csv:2: status: 出差: not one of active (正常)")


def test_one_id_number_under_two_member_ids_in_one_file_set_is_refused(
    engine: Engine, tmp_path: Path, ledger: Ledger
) -> None:
    ledger["members"][2]["id_number"] = M1_ID
    problems = problems_of(engine, write_csv(tmp_path, ledger=members_only(ledger)))
    masked = f"{M1_ID[:6]}********{M1_ID[-4:]}"
    assert problems == [
        f"members.csv:4: id_number: {masked}: "
        "already the ID number of member M001 (row 2): one person, one member id"
    ]
    assert not any(ledger_rows(engine).values())


def test_an_id_number_already_recorded_under_another_member_id_is_refused(
    engine: Engine, tmp_path: Path, ledger: Ledger
) -> None:
    import_files(engine, write_csv(tmp_path / "first", ledger=members_only(ledger)))
    newcomer = {**ledger["members"][2], "member_id": "M004", "name": "张三丰", "id_number": M1_ID}
    ledger["members"] = [newcomer]
    problems = problems_of(engine, write_csv(tmp_path / "second", ledger=members_only(ledger)))
    masked = f"{M1_ID[:6]}********{M1_ID[-4:]}"
    assert problems == [
        f"members.csv:2: id_number: {masked}: "
        "already the ID number of member M001 (recorded): one person, one member id"
    ]


def test_an_id_number_moved_from_one_member_id_to_another_in_the_same_file_set_is_taken(
    engine: Engine, tmp_path: Path, ledger: Ledger
) -> None:
    import_files(engine, write_csv(tmp_path / "first", ledger=members_only(ledger)))
    corrected = {**ledger["members"][0], "id_number": ledger["members"][2]["id_number"]}
    ledger["members"] = [corrected, {**ledger["members"][2], "id_number": M1_ID}]
    import_files(engine, write_csv(tmp_path / "second", ledger=members_only(ledger)))
    with engine.connect() as conn:
        m3 = conn.execute(select(Member.id_number).where(Member.member_id == "M003"))
        assert m3.scalar_one() == M1_ID


@pytest.mark.parametrize(
    ("column", "value", "what"),
    [
        ("join_date", "1941-07-01", "before the birth date (1942-03-15)"),
        ("mobile_since", "1941-12-31", "before the birth date (1942-03-15)"),
        ("certificate_issued_on", "1960-01-01", "before join_date (1968-02-29)"),
    ],
)
def test_a_date_in_an_impossible_order_is_refused(
    engine: Engine, tmp_path: Path, ledger: Ledger, column: str, value: str, what: str
) -> None:
    ledger["members"][1][column] = value
    problems = problems_of(engine, write_csv(tmp_path, ledger=members_only(ledger)))
    assert problems == [f"members.csv:3: {column}: {value}: {what}"]


def test_a_join_date_before_the_birth_date_inside_the_id_number_is_refused(
    engine: Engine, tmp_path: Path, ledger: Ledger
) -> None:
    ledger["members"][0]["join_date"] = "1979-12-31"  # M001 is born 1980-01-02
    problems = problems_of(engine, write_csv(tmp_path, ledger=members_only(ledger)))
    assert problems == ["members.csv:2: join_date: 1979-12-31: before the birth date (1980-01-02)"]


def test_two_visits_on_one_day_at_two_places_are_two_facts_and_importing_again_changes_nothing(
    engine: Engine, tmp_path: Path, ledger: Ledger
) -> None:
    ledger["interactions"].append(
        {"member_id": "M001", "kind": "visit", "on": "2026-02-20", "place": "home"}
    )
    paths = write_csv(tmp_path, ledger=ledger)
    first = import_files(engine, paths)
    again = import_files(engine, paths)
    assert first.written("interactions") == again.written("interactions") == 4
    with engine.connect() as conn:
        places = conn.execute(
            select(Interaction.place)
            .where(Interaction.member_id == "M001", Interaction.kind == "visit")
            .order_by(Interaction.place)
        ).scalars()
        assert list(places) == ["home", "workplace"]
    assert ledger_rows(engine)["interactions"] == 4  # the placeless facts were not doubled
