"""The refresher registry: how a kind of notification re-reads its data at send time.

A digest planned at 09:00 may leave at 10:30; its refresher drops tasks resolved since, and
returns None when nothing is left, which cancels the notification. Kinds without a
refresher are sent with the data they were created with.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

from sqlalchemy.orm import Session

from shared.models import Notification

#: fresh data for the notification, or None for "nothing left to say: cancel it"
Refresher = Callable[[Session, Notification], dict[str, Any] | None]

#: fresh data for each of many notifications of one kind, by id (None: cancel it); a
#: kind whose refresh reads much (a digest computes what is due) reads it once for many
BatchRefresher = Callable[[Session, Sequence[Notification]], Mapping[int, dict[str, Any] | None]]

_refreshers: dict[str, Refresher] = {}
_batch_refreshers: dict[str, BatchRefresher] = {}


def register_refresher(kind: str, fn: Refresher) -> None:
    """Make `fn` the refresher of `kind` (a later registration replaces an earlier one)."""
    _refreshers[kind] = fn


def register_batch_refresher(kind: str, fn: BatchRefresher) -> None:
    """Make `fn` refresh batches of `kind` (the batch send path); `kind` keeps its single
    refresher for the single path, and both must say the same."""
    _batch_refreshers[kind] = fn


def unregister_refresher(kind: str) -> None:
    _refreshers.pop(kind, None)
    _batch_refreshers.pop(kind, None)


def refresher_for(kind: str) -> Refresher | None:
    return _refreshers.get(kind)


def registered_kinds() -> frozenset[str]:
    """The kinds that have a refresher now."""
    return frozenset(_refreshers) | frozenset(_batch_refreshers)


def refresh_many(
    session: Session, notifications: Sequence[Notification]
) -> dict[int, dict[str, Any] | None]:
    """Fresh data for each notification whose kind has a refresher (others are left out):
    a kind's batch refresher once for all of that kind, else its refresher one by one."""
    by_kind: dict[str, list[Notification]] = {}
    for n in notifications:
        by_kind.setdefault(n.kind, []).append(n)
    fresh: dict[int, dict[str, Any] | None] = {}
    for kind, group in by_kind.items():
        many = _batch_refreshers.get(kind)
        if many is not None:
            answered = many(session, group)
            fresh.update({n.id: answered.get(n.id) for n in group})
            continue
        one = _refreshers.get(kind)
        if one is not None:
            fresh.update({n.id: one(session, n) for n in group})
    return fresh
