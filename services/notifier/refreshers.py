"""The refresher registry: how a kind of notification re-reads its data at send time.

A digest planned at 09:00 may leave at 10:30; its refresher drops tasks resolved since, and
returns None when nothing is left, which cancels the notification. Kinds without a
refresher are sent with the data they were created with.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from sqlalchemy.orm import Session

from shared.models import Notification

#: fresh data for the notification, or None for "nothing left to say: cancel it"
Refresher = Callable[[Session, Notification], dict[str, Any] | None]

_refreshers: dict[str, Refresher] = {}


def register_refresher(kind: str, fn: Refresher) -> None:
    """Make `fn` the refresher of `kind` (a later registration replaces an earlier one)."""
    _refreshers[kind] = fn


def unregister_refresher(kind: str) -> None:
    _refreshers.pop(kind, None)


def refresher_for(kind: str) -> Refresher | None:
    return _refreshers.get(kind)


def registered_kinds() -> frozenset[str]:
    """The kinds that have a refresher now."""
    return frozenset(_refreshers)
