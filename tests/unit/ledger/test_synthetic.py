"""The synthetic county ledger: deterministic, in the import format, valid, and realistic.

One 2,000-member ledger is generated per session and checked against the invariants the
importer enforces (checked here with python-stdnum and phonenumbers themselves, not with
our own parsers) and against the populations `rules.md` needs.
"""

from __future__ import annotations

import csv
import hashlib
from collections import Counter, defaultdict
from datetime import date, timedelta
from itertools import pairwise
from pathlib import Path

import phonenumbers
import pytest
from dateutil.relativedelta import relativedelta
from dateutil.rrule import rrulestr
from stdnum.cn import ric

from shared.errors import LedgerError
from shared.ledger.kinds import KINDS_BY_NAME
from shared.ledger.synthetic import FILE_KINDS, SyntheticSummary, generate_ledger
from shared.ledger.synthetic_dates import add_months, age_on, years_before
from tests.cli import liaison

AS_OF = date(2026, 11, 22)
MEMBERS = 2000
Rows = dict[str, list[dict[str, str]]]


def read_rows(out: Path) -> Rows:
    rows: Rows = {}
    for kind in FILE_KINDS:
        with (out / f"{kind}.csv").open(encoding="utf-8-sig", newline="") as handle:
            rows[kind] = list(csv.DictReader(handle))
    return rows


@pytest.fixture(scope="module")
def ledger(tmp_path_factory: pytest.TempPathFactory) -> tuple[SyntheticSummary, Rows]:
    out = tmp_path_factory.mktemp("ledger")
    summary = generate_ledger(out, members=MEMBERS, seed=1, as_of=AS_OF)
    return summary, read_rows(out)


def digest(out: Path) -> dict[str, str]:
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(out.iterdir())}


def d(text: str) -> date:
    return date.fromisoformat(text)


# --- determinism and format --------------------------------------------------------------


def test_the_same_arguments_give_byte_identical_files(tmp_path: Path) -> None:
    generate_ledger(tmp_path / "a", members=400, seed=7, as_of=AS_OF)
    generate_ledger(tmp_path / "b", members=400, seed=7, as_of=AS_OF)
    assert digest(tmp_path / "a") == digest(tmp_path / "b")
    assert sorted(digest(tmp_path / "a")) == sorted(f"{k}.csv" for k in FILE_KINDS)


def test_another_seed_or_as_of_gives_another_ledger(tmp_path: Path) -> None:
    generate_ledger(tmp_path / "a", members=400, seed=7, as_of=AS_OF)
    generate_ledger(tmp_path / "b", members=400, seed=8, as_of=AS_OF)
    generate_ledger(tmp_path / "c", members=400, seed=7, as_of=AS_OF + timedelta(days=1))
    a, b, c = (digest(tmp_path / n) for n in "abc")
    assert a["members.csv"] != b["members.csv"]
    assert a["interactions.csv"] != c["interactions.csv"]


def test_files_are_utf8_with_bom_crlf_and_canonical_headers(
    ledger: tuple[SyntheticSummary, Rows],
) -> None:
    summary, _ = ledger
    for kind in FILE_KINDS:
        raw = (summary.out / f"{kind}.csv").read_bytes()
        assert raw.startswith(b"\xef\xbb\xbf"), kind
        assert raw.endswith(b"\r\n") and raw.count(b"\n") == raw.count(b"\r\n"), kind
        header = raw[3:].split(b"\r\n", 1)[0].decode()
        assert tuple(header.split(",")) == KINDS_BY_NAME[kind].column_names
    assert not list(summary.out.glob(".*")), "no partial files are left behind"


def test_the_summary_counts_what_the_files_hold(ledger: tuple[SyntheticSummary, Rows]) -> None:
    summary, rows = ledger
    assert summary.rows == {kind: len(rows[kind]) for kind in FILE_KINDS}
    assert summary.members == len(rows["members"]) == MEMBERS
    elderly = sum(1 for m in rows["members"] if age_on(born(m), AS_OF) >= 80)
    assert summary.elderly == elderly
    muted = {m["member_id"] for m in rows["mutes"] if covers(m["from"], m["to"], AS_OF)}
    assert summary.muted == len(muted)


def test_a_ledger_of_one_member_is_still_whole(tmp_path: Path) -> None:
    summary = generate_ledger(tmp_path, members=1, seed=1, as_of=AS_OF)
    rows = read_rows(tmp_path)
    assert len(rows["members"]) == 1
    assert summary.rows["organizations"] >= 3  # county, town, branch


def test_a_ledger_needs_members(tmp_path: Path) -> None:
    with pytest.raises(LedgerError):
        generate_ledger(tmp_path, members=0, as_of=AS_OF)


# --- validity ----------------------------------------------------------------------------


def born(member: dict[str, str]) -> date:
    return ric.get_birth_date(member["id_number"])


def covers(start: str, end: str, day: date) -> bool:
    return d(start) <= day and (not end or d(end) >= day)


def test_id_numbers_are_valid_unique_and_agree_with_birth_dates(
    ledger: tuple[SyntheticSummary, Rows],
) -> None:
    members = ledger[1]["members"]
    assert len(members) == ledger[0].members  # the loop below sees every member
    for m in members:
        assert ric.is_valid(m["id_number"]), m["id_number"]
        if m["birth_date"]:
            assert d(m["birth_date"]) == born(m)
    assert len({m["id_number"] for m in members}) == len(members)
    left_empty = sum(1 for m in members if not m["birth_date"])
    assert 0.05 * MEMBERS < left_empty < 0.3 * MEMBERS


def test_phones_are_valid_chinese_mobiles_in_national_form(
    ledger: tuple[SyntheticSummary, Rows],
) -> None:
    rows = ledger[1]
    phones = [m["phone"] for m in rows["members"] if m["phone"]]
    phones += [li["phone"] for li in rows["liaisons"]]
    phones += [o["secretary_phone"] for o in rows["organizations"]]
    assert len(phones) > len(rows["liaisons"])  # members' phones too, not only liaisons'
    for phone in phones:
        assert len(phone) == 11 and phone.isdigit(), phone
        assert phonenumbers.is_valid_number(phonenumbers.parse(phone, "CN")), phone
    assert len(set(phones)) == len(phones), "nobody shares a phone"


def test_members_who_want_email_have_an_address_and_sms_needs_a_phone(
    ledger: tuple[SyntheticSummary, Rows],
) -> None:
    by_email = by_sms = 0
    for person in ledger[1]["members"] + ledger[1]["liaisons"]:
        if "email" in person["channels"]:
            assert "@" in person["email"]
            by_email += 1
        if "sms" in person["channels"]:
            assert person["phone"]
            by_sms += 1
    assert by_email > 0 and by_sms > 0


def test_keys_are_unique_in_every_kind(ledger: tuple[SyntheticSummary, Rows]) -> None:
    for kind in FILE_KINDS:
        key = KINDS_BY_NAME[kind].key
        keys = [tuple(row[c] for c in key) for row in ledger[1][kind]]
        assert len(keys) == len(set(keys)), kind


def test_every_reference_resolves(ledger: tuple[SyntheticSummary, Rows]) -> None:
    rows = ledger[1]
    known = {
        "organizations": {o["code"] for o in rows["organizations"]},
        "members": {m["member_id"] for m in rows["members"]},
        "liaisons": {li["liaison_id"] for li in rows["liaisons"]},
        "events": {e["event_id"] for e in rows["events"]},
        "campaigns": {c["campaign_id"] for c in rows["campaigns"]},
    }
    checked = 0
    for kind in FILE_KINDS:
        for column in KINDS_BY_NAME[kind].columns:
            if column.references is None:
                continue
            for row in rows[kind]:
                if row[column.name]:
                    assert row[column.name] in known[column.references], (kind, column.name)
                    checked += 1
    assert checked > 50_000


def test_values_parse_as_their_column_types(ledger: tuple[SyntheticSummary, Rows]) -> None:
    rows = ledger[1]
    for kind in FILE_KINDS:
        for column in KINDS_BY_NAME[kind].columns:
            values = [row[column.name] for row in rows[kind] if row[column.name]]
            if column.required:
                assert len(values) == len(rows[kind]), (kind, column.name)
            for value in values:
                assert len(value) <= column.max_length
                if column.type == "date":
                    date.fromisoformat(value)
                elif column.type == "choice":
                    assert value in column.choices, (kind, column.name, value)
                elif column.type == "datetime":
                    assert len(value) == 16 and value[10] == " ", value
                elif column.type == "rrule":
                    rrulestr(value, dtstart=AS_OF)


def test_assignments_never_overlap(ledger: tuple[SyntheticSummary, Rows]) -> None:
    spans: dict[str, list[tuple[date, date]]] = defaultdict(list)
    for a in ledger[1]["assignments"]:
        spans[a["member_id"]].append((d(a["from"]), d(a["to"]) if a["to"] else date.max))
    compared = 0
    for periods in spans.values():
        periods.sort()
        for (_, end), (start, _) in pairwise(periods):
            assert end < start
            compared += 1
    assert compared > 0  # some members had a second liaison


def test_nothing_is_recorded_after_as_of(ledger: tuple[SyntheticSummary, Rows]) -> None:
    rows = ledger[1]
    for kind in ("interactions", "moves", "attendance", "deliveries", "reviews", "verifications"):
        assert max(d(r["on"]) for r in rows[kind]) <= AS_OF, kind
    history = [d(i["on"]) for i in rows["interactions"]]
    assert min(history) >= date(AS_OF.year - 1, AS_OF.month, 1)


def test_interactions_fall_inside_their_liaisons_assignment(
    ledger: tuple[SyntheticSummary, Rows],
) -> None:
    spans = defaultdict(list)
    for a in ledger[1]["assignments"]:
        end = d(a["to"]) if a["to"] else date.max
        spans[(a["member_id"], a["liaison_id"])].append((d(a["from"]), end))
    checked = 0
    for i in ledger[1]["interactions"]:
        if i["liaison_id"]:
            on = d(i["on"])
            assert any(s <= on <= e for s, e in spans[(i["member_id"], i["liaison_id"])])
            checked += 1
    assert checked > 0


# --- realism: the populations the rules need ----------------------------------------------


def share(count: int, total: int = MEMBERS) -> float:
    return count / total


def test_the_tree_is_county_towns_branches_with_hosts_outside(
    ledger: tuple[SyntheticSummary, Rows],
) -> None:
    orgs = ledger[1]["organizations"]
    roots = [o for o in orgs if not o["parent_code"]]
    county = [o for o in roots if o["code"] == "TH"]
    assert county and county[0]["name"] == "中共太湖县委"
    towns = [o for o in orgs if o["parent_code"] == "TH"]
    branches = [o for o in orgs if o["parent_code"] in {t["code"] for t in towns}]
    assert len(roots) > 1, "host organizations (流入地) stand outside the county tree"
    assert all(b["name"].endswith("党支部") for b in branches)
    assert all(b["code"].count("-") == 2 for b in branches)
    assert {o["timezone"] for o in orgs} == {"Asia/Shanghai"}
    assert all(o["secretary_name"] and o["secretary_phone"] for o in orgs)
    sizes = Counter(m["home_org"] for m in ledger[1]["members"])
    assert set(sizes) == {b["code"] for b in branches}
    assert all(30 <= n <= 110 for n in sizes.values())
    assert any(m["host_org"] for m in ledger[1]["members"])


def test_liaisons_serve_three_to_five_members(ledger: tuple[SyntheticSummary, Rows]) -> None:
    rows = ledger[1]
    per_branch = Counter(li["org"] for li in rows["liaisons"])
    members = Counter(m["home_org"] for m in rows["members"])
    assert len(per_branch) > 1
    for branch, liaisons in per_branch.items():
        assert 2.5 <= members[branch] / liaisons <= 6
    current = Counter(
        a["liaison_id"] for a in rows["assignments"] if covers(a["from"], a["to"], AS_OF)
    )
    assert max(current.values()) > 5, "some liaisons are over the default load of 5"


def test_about_three_percent_of_active_members_have_no_liaison(
    ledger: tuple[SyntheticSummary, Rows],
) -> None:
    summary, rows = ledger
    active = {m["member_id"] for m in rows["members"] if m["status"] == "active"}
    assigned = {a["member_id"] for a in rows["assignments"] if covers(a["from"], a["to"], AS_OF)}
    assert summary.unassigned == len(active - assigned)
    assert 0.015 < share(len(active - assigned), len(active)) < 0.06


def test_some_members_were_reassigned(ledger: tuple[SyntheticSummary, Rows]) -> None:
    per_member = Counter(a["member_id"] for a in ledger[1]["assignments"])
    assert 0.05 < share(sum(1 for n in per_member.values() if n >= 2)) < 0.2


def test_statuses_are_mostly_active_with_every_other_status_present(
    ledger: tuple[SyntheticSummary, Rows],
) -> None:
    statuses = Counter(m["status"] for m in ledger[1]["members"])
    assert 0.89 < share(statuses["active"]) < 0.95
    assert statuses["returned"] and statuses["transferred"] and statuses["deceased"]


def test_elderly_members_include_those_turning_80_and_leap_day_births(
    ledger: tuple[SyntheticSummary, Rows],
) -> None:
    members = ledger[1]["members"]
    ages = {m["member_id"]: age_on(born(m), AS_OF) for m in members}
    assert 0.025 <= share(sum(1 for a in ages.values() if a >= 80)) <= 0.05
    turned_80 = [m for m in members if ages[m["member_id"]] == 80]
    assert any(years_before(AS_OF, 80) - timedelta(days=365) < born(m) for m in turned_80)
    turning_later = [
        m for m in members if ages[m["member_id"]] == 79 and born(m).year == AS_OF.year - 80
    ]
    assert turning_later, "some members turn 80 later in the as-of year"
    leap_born = [m for m in members if (born(m).month, born(m).day) == (2, 29)]
    assert any(ages[m["member_id"]] >= 80 for m in leap_born)
    leap_joined = [m for m in members if m["join_date"].endswith("-02-29")]
    assert any(ages[m["member_id"]] >= 80 for m in leap_joined)
    join_months = Counter(d(m["join_date"]).month for m in members)
    assert len(join_months) == 12 and min(join_months.values()) > MEMBERS / 24


def test_about_three_percent_moved_twice_in_the_last_90_days(
    ledger: tuple[SyntheticSummary, Rows],
) -> None:
    summary, rows = ledger
    recent = Counter(m["member_id"] for m in rows["moves"] if d(m["on"]) >= AS_OF - timedelta(89))
    movers = {member for member, n in recent.items() if n >= 2}
    assert summary.frequent_movers == len(movers)
    assert 0.02 < share(len(movers)) < 0.045
    last_move = {}
    for move in sorted(rows["moves"], key=lambda r: r["on"]):
        last_move[move["member_id"]] = move["location"]
    moved = [m for m in rows["members"] if m["member_id"] in last_move]
    assert moved
    for m in moved:
        assert m["location"] == last_move[m["member_id"]], "location is where they moved last"


def test_mobile_since_spreads_over_years_with_a_few_this_month(
    ledger: tuple[SyntheticSummary, Rows],
) -> None:
    since = [d(m["mobile_since"]) for m in ledger[1]["members"]]
    assert min(since) < AS_OF - timedelta(days=5 * 365)
    this_month = [s for s in since if s >= AS_OF.replace(day=1)]
    assert 0 < len(this_month) < 0.03 * MEMBERS
    assert max(since) <= AS_OF


def test_contact_history_is_mostly_remote_with_visits_and_lapses(
    ledger: tuple[SyntheticSummary, Rows],
) -> None:
    rows = ledger[1]
    interactions = rows["interactions"]
    kinds = Counter(i["kind"] for i in interactions)
    assert 10 < len(interactions) / MEMBERS < 16
    assert kinds["phone"] + kinds["wechat"] > 0.6 * len(interactions)
    assert {"sms", "visit", "meeting", "other"} <= set(kinds)
    places = Counter(i["place"] for i in interactions if i["kind"] == "visit")
    assert places["home"] and places["workplace"] and places["other"]
    # a lapsed liaison: members assigned to them now, yet nothing from them in two months
    recent = {i["liaison_id"] for i in interactions if d(i["on"]) >= AS_OF - timedelta(60)}
    serving = {a["liaison_id"] for a in rows["assignments"] if covers(a["from"], a["to"], AS_OF)}
    assert 0 < len(serving - recent) < 0.25 * len(serving)
    visited_each_quarter = Counter(
        i["member_id"] for i in interactions if i["kind"] == "visit"
    ).most_common(1)
    assert visited_each_quarter[0][1] >= 4


def test_certificates_are_recent_and_some_reviews_are_overdue(
    ledger: tuple[SyntheticSummary, Rows],
) -> None:
    rows = ledger[1]
    holders = [m for m in rows["members"] if m["certificate_no"]]
    assert 0.8 < share(len(holders)) < 0.95
    for m in holders:
        assert AS_OF - timedelta(days=730) <= d(m["certificate_issued_on"]) <= AS_OF
    reviews = defaultdict(list)
    for r in rows["reviews"]:
        reviews[r["member_id"]].append(d(r["on"]))
    overdue = 0
    for m in holders:
        base = max([d(m["certificate_issued_on"]), *reviews[m["member_id"]]])
        overdue += base + relativedelta(months=6) < AS_OF
    assert 0.03 < share(overdue) < 0.5


def test_campaigns_are_county_and_town_wide_and_reach_about_70_percent(
    ledger: tuple[SyntheticSummary, Rows],
) -> None:
    rows = ledger[1]
    campaigns = {c["campaign_id"]: c for c in rows["campaigns"]}
    county = [c for c in campaigns.values() if c["org"] == "TH"]
    towns = [c for c in campaigns.values() if c["org"] != "TH"]
    assert 1 <= len(county) <= 2 and towns
    assert any(d(c["start"]) <= AS_OF <= d(c["end"]) for c in county)
    active = next(c for c in county if d(c["start"]) <= AS_OF <= d(c["end"]))
    reached = sum(1 for x in rows["deliveries"] if x["campaign_id"] == active["campaign_id"])
    assert 0.6 < share(reached) < 0.8
    for x in rows["deliveries"]:
        assert d(campaigns[x["campaign_id"]]["start"]) <= d(x["on"])


def test_every_branch_has_a_monthly_theme_day_and_one_off_events_with_attendance(
    ledger: tuple[SyntheticSummary, Rows],
) -> None:
    rows = ledger[1]
    branches = {m["home_org"] for m in rows["members"]}
    theme_days = [e for e in rows["events"] if e["type"] == "theme_day"]
    assert branches and {e["org"] for e in theme_days} == branches
    for e in theme_days:
        assert e["rrule"] == "FREQ=MONTHLY;BYMONTHDAY=10" and e["starts_at"].endswith(" 09:00")
    one_off = [e for e in rows["events"] if not e["rrule"]]
    assert {"branch_meeting", "party_lecture"} <= {e["type"] for e in one_off}
    assert any(e["starts_at"][:10] > AS_OF.isoformat() for e in one_off), "some are yet to come"
    events = {e["event_id"]: e for e in rows["events"]}
    attended = set()
    for a in rows["attendance"]:
        event = events[a["event_id"]]
        if event["rrule"]:
            assert d(a["on"]).day == 10
        else:
            assert a["on"] == event["starts_at"][:10]
        attended.add(a["member_id"])
    active = {m["member_id"] for m in rows["members"] if m["status"] == "active"}
    assert 0.05 < share(len(active - attended), len(active)) < 0.3


def test_mutes_verifications_locales_and_channels_are_present_in_measure(
    ledger: tuple[SyntheticSummary, Rows],
) -> None:
    summary, rows = ledger
    assert 0 < summary.muted < 0.015 * MEMBERS
    assert 0 < len(rows["verifications"]) < 0.1 * MEMBERS
    locales = Counter(m["locale"] for m in rows["members"])
    assert 0.005 < share(locales["en"]) < 0.04 and set(locales) == {"zh-CN", "en"}
    channels = Counter(m["channels"] for m in rows["members"])
    assert 0.15 < share(channels["sms+email"]) < 0.25
    assert 0 < channels["email"] < 0.06 * MEMBERS


# --- date helpers --------------------------------------------------------------------------


def test_add_months_agrees_with_relativedelta_including_month_ends() -> None:
    day = date(2023, 1, 1)
    while day < date(2029, 1, 1):
        for months in (1, 6, 13):
            assert add_months(day, months) == day + relativedelta(months=months)
        day += timedelta(days=1)


def test_a_29_february_birthday_falls_on_28_february_in_common_years() -> None:
    leapling = date(1944, 2, 29)
    assert age_on(leapling, date(2025, 2, 27)) == 80
    assert age_on(leapling, date(2025, 2, 28)) == 81
    assert age_on(leapling, date(2024, 2, 28)) == 79
    assert age_on(leapling, date(2024, 2, 29)) == 80
    assert years_before(date(2024, 2, 29), 1) == date(2023, 2, 28)


# --- command line --------------------------------------------------------------------------


def test_demo_data_writes_the_files_and_prints_a_summary(tmp_path: Path) -> None:
    result = liaison(
        *["demo-data", "--members", "120", "--seed", "3", "--as-of", "2026-11-22",
              "--out", str(tmp_path)]
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert "120 members as of 2026-11-22" in result.output
    assert "interactions" in result.output and "aged 80+" in result.output
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(f"{k}.csv" for k in FILE_KINDS)
    generate_ledger(tmp_path.with_name("again"), members=120, seed=3, as_of=AS_OF)
    assert digest(tmp_path.with_name("again")) == digest(tmp_path)


def test_demo_data_rejects_a_malformed_as_of(tmp_path: Path) -> None:
    result = liaison(
        *["demo-data", "--members", "5", "--as-of", "2026-02-30", "--out", str(tmp_path)]
    )
    assert result.exit_code != 0
    assert not list(tmp_path.iterdir())
