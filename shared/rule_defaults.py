"""The rules of `rules.md` as data, seeded into the `rules` table by the first migration.

Each row names its strategy (how its window is computed) and every parameter; an
organization overrides any parameter for its subtree through `policy_overrides`.
"""

from __future__ import annotations

from typing import Any

DEFAULT_RULES: list[dict[str, Any]] = [
    {
        "name": "certificate_review",
        "strategy": "review_cycle",
        "enabled": True,
        "priority": 10,
        "params": {"source": "reviews", "cycle_months": 6, "lead_days": 14},
        "description": "activity certificate reviewed every 6 months from issue",
        "seed": "003",
    },
    {
        "name": "key_date_visit",
        "strategy": "anniversary",
        "enabled": True,
        "priority": 20,
        "params": {
            "source": "interactions",
            "kinds": ["visit"],
            "places": None,
            "min_age": 80,
            "window_half_days": 7,
            "key_dates": ["07-01", "spring_festival", "political_birthday"],
        },
        "description": (
            "members aged 80+ visited around 1 July, the Spring Festival"
            " and their political birthday"
        ),
        "seed": "003",
    },
    {
        "name": "frequent_mover_contact",
        "strategy": "rolling",
        "enabled": True,
        "priority": 30,
        "params": {
            "source": "interactions",
            "kinds": None,
            "places": None,
            "interval_days": 14,
            "min_moves": 2,
            "moves_lookback_days": 90,
        },
        "description": "members who moved 2+ times in 90 days get contact every 14 days",
        "seed": "003",
    },
    {
        "name": "materials_delivery",
        "strategy": "campaign",
        "enabled": True,
        "priority": 40,
        "params": {"source": "deliveries"},
        "description": "every member in a study campaign's scope receives the materials",
        "seed": "000/001/004",
    },
    {
        "name": "monthly_contact",
        "strategy": "calendar",
        "enabled": True,
        "priority": 50,
        "params": {
            "source": "interactions",
            "period": "month",
            "kinds": None,
            "places": None,
            "required": 1,
            "min_age": None,
        },
        "description": "keep in touch every calendar month",
        "seed": "004",
    },
    {
        "name": "elderly_visits",
        "strategy": "calendar",
        "enabled": True,
        "priority": 60,
        "params": {
            "source": "interactions",
            "period": "year",
            "kinds": ["visit"],
            "places": None,
            "required": 2,
            "min_age": 80,
        },
        "description": "members aged 80+ get at least 2 visits per calendar year",
        "seed": "003",
    },
    {
        "name": "quarterly_visit",
        "strategy": "calendar",
        "enabled": True,
        "priority": 70,
        "params": {
            "source": "interactions",
            "period": "quarter",
            "kinds": ["visit"],
            "places": None,
            "required": 1,
            "min_age": None,
        },
        "description": "visit in person every calendar quarter",
        "seed": "004",
    },
    {
        "name": "annual_site_visit",
        "strategy": "calendar",
        "enabled": True,
        "priority": 80,
        "params": {
            "source": "interactions",
            "period": "year",
            "kinds": ["visit"],
            "places": ["workplace", "home"],
            "required": 1,
            "min_age": None,
        },
        "description": "visit at the work site or at home once a year",
        "seed": "000",
    },
    {
        "name": "ledger_verification",
        "strategy": "calendar",
        "enabled": False,
        "priority": 90,
        "params": {
            "source": "verifications",
            "period": "month",
            "kinds": None,
            "places": None,
            "required": 1,
            "min_age": None,
        },
        "description": "each member's record is re-verified every month",
        "seed": "000",
    },
]
