"""Fast draws from a seeded generator, for the tens of millions the synthetic ledger makes.

`random.randint` and `random.choice` go through `getrandbits` and several Python frames;
scaling one `random()` is several times faster and just as reproducible for a given seed.
"""

from __future__ import annotations

import random
from bisect import bisect
from collections.abc import Sequence
from itertools import accumulate
from typing import Generic, TypeVar

T = TypeVar("T")


def between(rng: random.Random, low: int, high: int) -> int:
    """A uniformly drawn integer in [low, high]."""
    return low + int(rng.random() * (high - low + 1))


def pick(rng: random.Random, items: Sequence[T]) -> T:
    """A uniformly drawn item of a non-empty sequence."""
    return items[int(rng.random() * len(items))]


class Weighted(Generic[T]):
    """Items drawn in proportion to their weights."""

    def __init__(self, pairs: Sequence[tuple[T, int]]) -> None:
        self._items = [item for item, _ in pairs]
        self._cumulative = list(accumulate(weight for _, weight in pairs))
        self._total = self._cumulative[-1]

    def draw(self, rng: random.Random) -> T:
        return self._items[bisect(self._cumulative, rng.random() * self._total)]
