"""A small seeded ledger written straight to the database, dense in rule edges.

(The realistic county ledger comes from `liaison demo-data`; this one is for property
tests, where many small, varied ledgers matter more than realism.)
"""

from __future__ import annotations

import random
from datetime import date, timedelta

from sqlalchemy import Engine, insert

from shared.models import (
    Assignment,
    Campaign,
    Interaction,
    Liaison,
    MaterialDelivery,
    Member,
    Move,
    Mute,
    Organization,
    Review,
)

ORGS = [
    ("TH", "太湖县委", None),
    ("TH-XC", "新仓镇党委", "TH"),
    ("TH-XC-01", "新仓村党支部", "TH-XC"),
    ("TH-XC-02", "小池村党支部", "TH-XC"),
    ("TH-JH", "晋熙镇党委", "TH"),
    ("TH-JH-01", "城西社区党支部", "TH-JH"),
    ("TH-JH-02", "城东社区党支部", "TH-JH"),
]
VALID_ID = "11010519491231002X"  # the rules read birth_date, which is always set here


def build_ledger(engine: Engine, *, seed: int, members: int, as_of: date) -> None:
    rng = random.Random(seed)
    day = lambda lo, hi: as_of - timedelta(days=rng.randint(lo, hi))  # noqa: E731
    branches = [code for code, _, parent in ORGS if parent and parent != "TH"]
    home_orgs = [*branches, "TH-XC"]  # a town can hold members of its own too
    liaisons = [(f"L{i:02d}", home_orgs[i % len(home_orgs)]) for i in range(max(2, members // 4))]
    rows: dict[type, list[dict[str, object]]] = {
        k: [] for k in (Member, Assignment, Interaction, Move, Review, MaterialDelivery, Mute)
    }
    for n in range(members):
        mid = f"M{n:04d}"
        elderly = rng.random() < 0.25
        born = day(80 * 365 - 400, 80 * 365 + 400) if elderly else day(25 * 365, 60 * 365)
        joined = day(5 * 365, 50 * 365)
        if rng.random() < 0.1:
            joined = date(1984 + 4 * rng.randint(0, 5), 2, 29)
        rows[Member].append(
            {
                "member_id": mid,
                "name": f"党员{n}",
                "id_number": VALID_ID,
                "home_org": rng.choice(home_orgs),
                "join_date": joined,
                "mobile_since": day(-20, 900),
                "birth_date": born,
                "certificate_issued_on": rng.choice([None, day(0, 400)]),
                "status": rng.choice(["active"] * 8 + ["returned", "deceased"]),
            }
        )
        roll = rng.random()
        if roll > 0.15:
            liaison = rng.choice(liaisons)[0]
            start = day(100, 700)
            if roll > 0.8:  # a reassignment with history
                switch = day(1, 99)
                rows[Assignment].append(
                    {
                        "member_id": mid,
                        "liaison_id": rng.choice(liaisons)[0],
                        "from_date": start,
                        "to_date": switch - timedelta(days=1),
                    }
                )
                start = switch
            end = None if rng.random() < 0.9 else day(-30, 0)
            rows[Assignment].append(
                {"member_id": mid, "liaison_id": liaison, "from_date": start, "to_date": end}
            )
        seen: set[tuple[date, str]] = set()
        for _ in range(rng.randint(0, 10)):
            key = (day(-20, 400), rng.choice(["phone", "wechat", "visit", "visit", "meeting"]))
            if key in seen:
                continue
            seen.add(key)
            rows[Interaction].append(
                {
                    "member_id": mid,
                    "on_date": key[0],
                    "kind": key[1],
                    "place": rng.choice([None, "home", "workplace", "other"]),
                }
            )
        for on in {day(-10, 120) for _ in range(rng.choice([0, 0, 1, 2, 3]))}:
            rows[Move].append({"member_id": mid, "on_date": on, "location": "杭州"})
        for on in {day(-30, 500) for _ in range(rng.randint(0, 2))}:
            rows[Review].append({"member_id": mid, "on_date": on})
        if rng.random() < 0.5:
            rows[MaterialDelivery].append(
                {"campaign_id": "C-TH", "member_id": mid, "on_date": day(-5, 40)}
            )
        if rng.random() < 0.05:
            rows[Mute].append(
                {
                    "member_id": mid,
                    "from_date": day(0, 20),
                    "to_date": rng.choice([None, day(-20, 0)]),
                }
            )
    with engine.begin() as conn:
        conn.execute(
            insert(Organization), [{"code": c, "name": n, "parent_code": p} for c, n, p in ORGS]
        )
        conn.execute(
            insert(Liaison), [{"liaison_id": lid, "name": lid, "org": org} for lid, org in liaisons]
        )
        conn.execute(
            insert(Campaign),
            [
                {
                    "campaign_id": "C-TH",
                    "title": "党史学习",
                    "org": "TH",
                    "start": as_of - timedelta(days=40),
                    "end": as_of + timedelta(days=40),
                },
                {
                    "campaign_id": "C-XC",
                    "title": "主题教育",
                    "org": "TH-XC",
                    "start": as_of - timedelta(days=5),
                    "end": None,
                },
            ],
        )
        for table, values in rows.items():
            if values:
                conn.execute(insert(table), values)
