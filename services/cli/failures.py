"""What a failed command tells a person: one masked line and an exit status, never a
traceback.

`main()` hands every exception that escapes a command to `explain`. Known failures of the
world around liaison (a file that cannot be opened, a database or Redis that cannot be
reached, a database URL that is not one) become a sentence saying what to fix; anything
else is liaison's own fault, printed as one line too, with its traceback logged at DEBUG
for whoever reports it. Every line passes through `mask_text`, and a database password
never appears (driver messages can quote the URL).

Exit statuses: `EXIT_FAILED` (1) when the command could not do its work; Click's own 2 for
a bad argument (raised before this runs); `EXIT_BUG` (70, sysexits' EX_SOFTWARE) for an
unexpected error.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from shared.errors import LiaisonError
from shared.masking import mask_text

log = logging.getLogger(__name__)

EXIT_FAILED = 1  #: the command could not do its work; the line says why
EXIT_BUG = 70  #: sysexits' EX_SOFTWARE: a failure liaison did not expect

DATABASE_URL_HELP = (
    "LIAISON_DATABASE_URL is not a database URL "
    "(write postgresql+psycopg://user@host/db or sqlite:///path/to/file)"
)


@dataclass(frozen=True)
class Failure:
    line: str  #: what to print after `liaison: `, masked
    status: int


def explain(exc: BaseException) -> Failure:
    """The one line and the exit status for an exception that ended a command."""
    line, status = _describe(exc)
    return Failure(mask_text(_without_password(line)), status)


def _describe(exc: BaseException) -> tuple[str, int]:
    import redis
    from dramatiq.errors import BrokerConnectionError
    from sqlalchemy.exc import ArgumentError, DBAPIError, NoSuchModuleError

    if isinstance(exc, LiaisonError):
        return str(exc), EXIT_FAILED
    if isinstance(exc, NoSuchModuleError) or (isinstance(exc, ArgumentError) and "URL" in str(exc)):
        return DATABASE_URL_HELP, EXIT_FAILED
    if isinstance(exc, DBAPIError) and (exc.statement is None or exc.connection_invalidated):
        # No statement: it failed while connecting (refused, unknown host, bad password,
        # an SQLite file that cannot be opened).
        return f"the database cannot be reached: {_first_line(exc)}", EXIT_FAILED
    if isinstance(exc, DBAPIError):
        return f"the database refused the work: {_first_line(exc)}", EXIT_FAILED
    if isinstance(exc, redis.ConnectionError | redis.TimeoutError | BrokerConnectionError):
        return redis_unreachable(_first_line(exc)), EXIT_FAILED
    if isinstance(exc, OSError) and exc.filename is not None:
        return f"cannot open {exc.filename}: {exc.strerror or exc}", EXIT_FAILED
    log.debug("unexpected failure", exc_info=exc)
    return (
        f"unexpected {type(exc).__name__}: {_first_line(exc)} "
        "(LIAISON_LOG_LEVEL=DEBUG prints the traceback)",
        EXIT_BUG,
    )


def redis_unreachable(reason: str) -> str:
    """What a command that could not reach Redis left behind, and how it recovers.

    Notifications are written to the database before their message goes to Redis; a run
    cut off there leaves them `pending` or `queued` with no message. The scheduler's sweep
    (`services/notifier/sweeps.py`) enqueues exactly those once Redis answers again.
    """
    waiting = _waiting_notifications()
    if waiting is None:
        return (
            f"Redis unreachable ({reason}): notifications already planned stay in the "
            "database and the scheduler's next sweep enqueues them once Redis is back"
        )
    return (
        f"Redis unreachable ({reason}): {waiting} notifications are planned and will be "
        "enqueued by the scheduler's next sweep once Redis is back"
    )


def _waiting_notifications() -> int | None:
    """How many notifications wait for a message; None if the database cannot say."""
    from sqlalchemy import func, select

    from services.notifier.outbox import WAITING_STATUSES
    from shared.db import engine_for
    from shared.models import Notification
    from shared.settings import load_settings

    try:
        with engine_for(load_settings()).connect() as conn:
            query = select(func.count()).where(
                Notification.status.in_(("pending", *WAITING_STATUSES))
            )
            return int(conn.execute(query).scalar_one())
    except Exception:  # the line about Redis matters more than this count
        log.debug("could not count the waiting notifications", exc_info=True)
        return None


def _first_line(exc: BaseException) -> str:
    """The driver's own message (`exc.orig` for SQLAlchemy), its first line only."""
    cause = getattr(exc, "orig", None) or exc
    text = str(cause).strip() or type(cause).__name__
    return text.splitlines()[0].strip()


def _without_password(line: str) -> str:
    from sqlalchemy.engine import make_url

    from shared.settings import load_settings

    try:
        password = make_url(load_settings().resolved_database_url).password
    except Exception:  # a URL that does not parse has no password to hide
        return line
    return line.replace(str(password), "***") if password else line
