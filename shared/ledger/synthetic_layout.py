"""The shape of a synthetic county: its organization tree, branch sizes and campaigns.

The layout is computed first and is small (one record per branch, a few thousand at a
million members), so every member and liaison number is known before any member is drawn:
branch `b` owns members `first_member .. first_member + size - 1` and likewise liaisons.
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, timedelta

from shared.ledger import synthetic_vocabulary as vocab
from shared.ledger.synthetic_draws import pick

MIN_BRANCH_MEMBERS = 30
MAX_BRANCH_MEMBERS = 80
MIN_TOWN_BRANCHES = 12
MAX_TOWN_BRANCHES = 25
TIMEZONE = "Asia/Shanghai"


@dataclass(frozen=True)
class Organization:
    code: str
    name: str
    parent_code: str | None
    secretary_name: str
    secretary_phone: str


@dataclass(frozen=True)
class Branch:
    index: int
    code: str
    name: str
    town_code: str
    first_member: int  #: global member number of the branch's first member (0-based)
    size: int
    first_liaison: int  #: global liaison number of the branch's first liaison (0-based)
    liaisons: int


@dataclass(frozen=True)
class Campaign:
    campaign_id: str
    title: str
    org: str
    start: date
    end: date
    delivery_rate: float  #: share of in-scope members who received the materials


@dataclass(frozen=True)
class Layout:
    organizations: tuple[Organization, ...]
    branches: tuple[Branch, ...]
    campaigns: tuple[Campaign, ...]
    host_codes_by_location: dict[str, str]

    def campaigns_for(self, branch: Branch) -> tuple[Campaign, ...]:
        scopes = {vocab.COUNTY_CODE, branch.town_code, branch.code}
        return tuple(c for c in self.campaigns if c.org in scopes)


def person_name(rng: random.Random) -> tuple[str, str]:
    """A Chinese name and its pinyin (for email addresses), e.g. ("张建国", "zhangjianguo")."""
    surname, s_py = pick(rng, vocab.SURNAMES)
    given = pick(rng, vocab.GIVEN)
    if rng.random() < 0.7:
        second = pick(rng, vocab.GIVEN)
        return surname + given[0] + second[0], s_py + given[1] + second[1]
    return surname + given[0], s_py + given[1]


def phone_number(prefix: str, number: int) -> str:
    """A mobile number in national form, distinct for every `number` below 10**8.

    Multiplying by a constant prime to 10**8 permutes the 8-digit suffixes, so numbers
    look scattered yet no two people sharing a prefix ever share a phone.
    """
    return f"{prefix}{(number * 48271 + 13_579_113) % 100_000_000:08d}"


def _branch_sizes(rng: random.Random, members: int) -> list[int]:
    sizes: list[int] = []
    left = members
    while left > 0:
        size = min(left, rng.randint(MIN_BRANCH_MEMBERS, MAX_BRANCH_MEMBERS))
        if 0 < left - size < MIN_BRANCH_MEMBERS and sizes:
            size = left  # fold a small remainder into this branch rather than leave a stub
        sizes.append(size)
        left -= size
    return sizes


def _town_names(rng: random.Random, count: int) -> Iterator[tuple[str, str]]:
    """The real towns first, then made-up ones; codes made unique with a digit."""
    used: dict[str, int] = {}
    syllables = vocab.PLACE_SYLLABLES
    for n in range(count):
        if n < len(vocab.REAL_TOWNS):
            name, initials = vocab.REAL_TOWNS[n]
        else:
            a, b = rng.choice(syllables), rng.choice(syllables)
            name, initials = a[0] + b[0] + ("镇" if rng.random() < 0.7 else "乡"), a[1] + b[1]
        seen = used.get(initials, 0)
        used[initials] = seen + 1
        yield name, initials if seen == 0 else f"{initials}{seen + 1}"


def _village_name(rng: random.Random) -> str:
    a, b = rng.choice(vocab.PLACE_SYLLABLES), rng.choice(vocab.PLACE_SYLLABLES)
    return a[0] + b[0] + ("村" if rng.random() < 0.8 else "社区")


def build_layout(members: int, seed: int, as_of: date) -> Layout:
    rng = random.Random(f"liaison-synthetic:{seed}:layout")  # noqa: S311  (not secrets)
    sizes = _branch_sizes(rng, members)
    towns_needed = max(1, round(len(sizes) / ((MIN_TOWN_BRANCHES + MAX_TOWN_BRANCHES) / 2)))
    secretary = iter(range(10**8))

    def org(code: str, name: str, parent: str | None) -> Organization:
        return Organization(
            code, name, parent, person_name(rng)[0], phone_number("135", next(secretary))
        )

    orgs = [org(vocab.COUNTY_CODE, vocab.COUNTY_NAME, None)]
    towns = [
        org(f"{vocab.COUNTY_CODE}-{initials}", f"中共{name}委员会", vocab.COUNTY_CODE)
        for name, initials in _town_names(rng, towns_needed)
    ]
    orgs.extend(towns)
    branches: list[Branch] = []
    first_member = first_liaison = 0
    per_town: dict[str, int] = {}
    for index, size in enumerate(sizes):
        town = towns[index * len(towns) // len(sizes)]  # contiguous runs of branches per town
        n = per_town[town.code] = per_town.get(town.code, 0) + 1
        code = f"{town.code}-{n:02d}"
        town_name = town.name.removeprefix("中共").removesuffix("委员会")
        name = f"{town_name}{_village_name(rng)}党支部"
        orgs.append(org(code, name, town.code))
        # one liaison for every 3 to 5 members (seed 000: 1:3; seed 001: "1+N")
        liaisons = max(1, round(size / rng.uniform(3.0, 5.0)))
        branches.append(
            Branch(index, code, name, town.code, first_member, size, first_liaison, liaisons)
        )
        first_member += size
        first_liaison += liaisons
    hosts = {location: code for code, _, location in vocab.HOST_ORGS}
    orgs.extend(org(code, name, None) for code, name, _ in vocab.HOST_ORGS)
    return Layout(tuple(orgs), tuple(branches), _campaigns(rng, towns, as_of), hosts)


def _campaigns(rng: random.Random, towns: list[Organization], as_of: date) -> tuple[Campaign, ...]:
    """Two county-wide campaigns (one under way on as-of, one finished) and a few per town."""
    d = timedelta
    county = vocab.COUNTY_CODE
    campaigns = [
        Campaign("C-TH-01", vocab.COUNTY_CAMPAIGNS[1], county, as_of - d(200), as_of - d(110), 0.9),
        Campaign("C-TH-02", vocab.COUNTY_CAMPAIGNS[0], county, as_of - d(30), as_of + d(60), 0.7),
    ]
    count = max(2, len(towns) // 5)
    for n, town in enumerate(rng.sample(towns, min(count, len(towns))), start=1):
        start = as_of + d(rng.randint(-60, 10))  # most under way on as-of, some yet to start
        title = rng.choice(vocab.TOWN_CAMPAIGN_TITLES)
        campaigns.append(
            Campaign(
                f"C-{town.code}-{n:02d}",
                title,
                town.code,
                start,
                start + d(rng.randint(30, 90)),
                rng.uniform(0.55, 0.85),
            )
        )
    return tuple(campaigns)
