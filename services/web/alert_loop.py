"""The alert checks, run every `alert_check_s` seconds by the serving process."""

from __future__ import annotations

import logging
import threading

from services.web.alerts import AlertBook, Mailer
from services.web.context import WebContext
from services.web.depth_history import record_depth
from services.web.snapshot import take_snapshot

log = logging.getLogger(__name__)


def check_alerts(ctx: WebContext, mailer: Mailer | None) -> None:
    """One round: read the figures, record incidents, log and send the new ones, and
    keep a sample of the queue depths for the chart."""
    now = ctx.clock.now()
    snap = take_snapshot(ctx.engine, ctx.redis, ctx.namespace, ctx.web, now=now)
    AlertBook(ctx.redis, ctx.web, mailer).update(snap, now)
    record_depth(ctx.redis, snap)


class AlertLoop:
    """A daemon thread that checks alerts until stopped."""

    def __init__(self, ctx: WebContext, mailer: Mailer | None) -> None:
        self.ctx, self.mailer = ctx, mailer
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="liaison-alerts", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=5)

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                check_alerts(self.ctx, self.mailer)
            except Exception:  # Redis or the database away: say so, try again next round
                log.exception("the alert check failed")
            self._stop.wait(self.ctx.web.alert_check_s)
