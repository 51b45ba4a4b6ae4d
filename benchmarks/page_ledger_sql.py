"""A province-sized ledger generated inside PostgreSQL, for the liaison page benchmark.

Not through the importer: at 1,000,000 members the synthetic files and `liaison import`
take 25–42 minutes on this machine (docs/benchmarks/import.md), and the page benchmark
measures reading, not importing. The shape follows the synthetic ledgers: a province of
16 cities × 10 counties × 10 towns × 2 branches (3,200 branches, ~313 members each), one
liaison per three members of a branch (1:3, seed 000), about six interactions per member
over the last 400 days (phone, WeChat, visits at home and at the workplace), a move for
one member in ten and two recent moves for one in forty (frequent movers), certificates
issued over the last year with a review for half of them, 3 % of members aged 80 or more,
two study campaigns (one province-wide, one per city) with deliveries to half the members.
Every date is relative to the as-of day, so the tasks are those of a live ledger.
"""

from __future__ import annotations

from datetime import date

from sqlalchemy import Engine, text

CITIES, COUNTIES, TOWNS, BRANCHES = 16, 10, 10, 2
BRANCH_COUNT = CITIES * COUNTIES * TOWNS * BRANCHES


def _steps(members: int, as_of: date) -> list[tuple[str, str]]:
    per_branch = -(-members // BRANCH_COUNT)  # ceiling
    d = f"DATE '{as_of.isoformat()}'"
    # branch k (0-based) of town t = k / 2, county c = t / 10, city y = c / 10
    return [
        (
            "organizations",
            f"""
INSERT INTO organizations (code, name, parent_code, timezone)
SELECT 'P', '省委', NULL, 'Asia/Shanghai'
UNION ALL SELECT 'C' || y, '市' || y, 'P', 'Asia/Shanghai' FROM generate_series(0, {CITIES - 1}) y
UNION ALL SELECT 'C' || (c / {COUNTIES}) || 'X' || c, '县' || c, 'C' || (c / {COUNTIES}),
  'Asia/Shanghai' FROM generate_series(0, {CITIES * COUNTIES - 1}) c
UNION ALL SELECT 'T' || t, '镇' || t, 'C' || (t / {TOWNS} / {COUNTIES}) || 'X' || (t / {TOWNS}),
  'Asia/Shanghai' FROM generate_series(0, {CITIES * COUNTIES * TOWNS - 1}) t
UNION ALL SELECT 'B' || k, '村支部' || k, 'T' || (k / {BRANCHES}), 'Asia/Shanghai'
  FROM generate_series(0, {BRANCH_COUNT - 1}) k
""",
        ),
        (
            "liaisons",
            f"""
INSERT INTO liaisons (liaison_id, name, org, phone, locale, channels)
SELECT 'L' || j, '联络员' || j, 'B' || ((j * 3) / {per_branch}),
  '+86139' || lpad(j::text, 8, '0'), 'zh-CN', 'sms'
FROM generate_series(0, ({members} - 1) / 3) j
""",
        ),
        (
            "members",
            f"""
INSERT INTO members (member_id, name, id_number, home_org, join_date, mobile_since, phone,
  birth_date, certificate_issued_on, status, locale, channels)
SELECT 'M' || i, '党员' || i,
  '110105' || to_char(b, 'YYYYMMDD') || lpad((i % 1000)::text, 3, '0') || '7',
  'B' || (i / {per_branch}), {d} - (3650 + i % 9000), {d} - (30 + i % 2000),
  '+86137' || lpad(i::text, 8, '0'), b, {d} - (i % 365),
  CASE WHEN i % 97 = 0 THEN 'returned' ELSE 'active' END, 'zh-CN', 'sms'
FROM generate_series(0, {members} - 1) i,
  LATERAL (SELECT CASE WHEN i % 33 = 0 THEN {d} - (365 * 81 + i % 3000)
                       ELSE {d} - (365 * 22 + i % 15000) END AS b) born
""",
        ),
        (
            "assignments",
            f"""
INSERT INTO assignments (member_id, liaison_id, from_date, to_date)
SELECT 'M' || i, 'L' || (i / 3), {d} - (400 + i % 600), NULL
FROM generate_series(0, {members} - 1) i WHERE i % 50 <> 49
""",
        ),
        (
            "interactions",
            f"""
INSERT INTO interactions (member_id, kind, on_date, place, liaison_id, source)
SELECT 'M' || i, k.kind, {d} - ((i::bigint * 7919 + n * 104729) % 400)::int, k.place,
  'L' || (i / 3), 'import'
FROM generate_series(0, {members} - 1) i,
  generate_series(0, (i % 13) - 1) n,
  LATERAL (SELECT (ARRAY['phone', 'wechat', 'visit', 'visit', 'phone', 'sms'])[1 + (i + n) % 6]
                    AS kind,
                  CASE (i + n) % 6 WHEN 2 THEN 'home' WHEN 3 THEN 'workplace' END AS place) k
ON CONFLICT DO NOTHING
""",
        ),
        (
            "moves",
            f"""
INSERT INTO moves (member_id, on_date, location)
SELECT 'M' || i, {d} - (5 + i % 500), '新地点' || i FROM generate_series(0, {members} - 1) i
WHERE i % 10 = 0
UNION ALL
SELECT 'M' || i, {d} - (20 + i % 60), '再迁' || i FROM generate_series(0, {members} - 1) i
WHERE i % 40 = 0 AND (5 + i % 500) <> (20 + i % 60)
ON CONFLICT DO NOTHING
""",
        ),
        (
            "reviews",
            f"""
INSERT INTO reviews (member_id, on_date)
SELECT 'M' || i, {d} - (i % 180) FROM generate_series(0, {members} - 1) i WHERE i % 2 = 0
""",
        ),
        (
            "campaigns",
            f"""
INSERT INTO campaigns (campaign_id, title, org, start, "end")
SELECT 'CP', '全省学习资料', 'P', {d} - 60, {d} + 30
UNION ALL SELECT 'CC' || y, '市学习资料' || y, 'C' || y, {d} - 20, {d} + 40
FROM generate_series(0, {CITIES - 1}) y
""",
        ),
        (
            "material_deliveries",
            f"""
INSERT INTO material_deliveries (campaign_id, member_id, on_date)
SELECT 'CP', 'M' || i, {d} - (i % 50) FROM generate_series(0, {members} - 1) i WHERE i % 2 = 0
""",
        ),
    ]


def build_ledger(engine: Engine, members: int, as_of: date, log: object = print) -> None:
    """Fill a migrated, empty PostgreSQL database with a ledger of `members` members."""
    assert engine.dialect.name == "postgresql", "the SQL generator is PostgreSQL's"
    import time

    for table, sql in _steps(members, as_of):
        started = time.perf_counter()
        with engine.begin() as conn:  # a step each: a failed step leaves the ones before
            conn.execute(text("SET LOCAL synchronous_commit = off"))
            conn.execute(text("SET LOCAL work_mem = '256MB'"))
            count = conn.execute(text(sql)).rowcount
        log(f"  {table}: {count:,} rows in {time.perf_counter() - started:.1f} s")  # type: ignore[operator]
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.execute(text("ANALYZE"))
