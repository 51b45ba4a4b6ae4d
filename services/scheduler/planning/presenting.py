"""Plain-text views of what a run planned, for `liaison run` and `liaison demo`.

`liaison run --dry-run` shows each message as the worker would render it: with the
operator's template overrides (`LIAISON_TEMPLATES_DIR`) and the worker's SMS segment
budget, worded for the day it was planned (a message that leaves later is worded for
the day it leaves).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from pathlib import Path

from services.notifier import render_message
from services.scheduler.planning.planner import PlanReport
from services.scheduler.planning.recipients import Draft
from shared.masking import mask_address, mask_text
from shared.settings import Settings, load_settings

KINDS = ("liaison_digest", "event_reminder", "political_birthday", "branch_escalation")


def counts_table(counts: Counter[tuple[str, str]], title: str = "kind") -> str:
    """Rows of kind, columns sms / email / total."""
    kinds = sorted({k for k, _ in counts}, key=lambda k: (*KINDS, k).index(k))
    lines = [f"  {title:<22}{'sms':>8}{'email':>8}{'total':>8}"]
    for kind in kinds:
        sms, email = counts[(kind, "sms")], counts[(kind, "email")]
        lines.append(f"  {kind:<22}{sms:>8}{email:>8}{sms + email:>8}")
    sms_all = sum(n for (_, c), n in counts.items() if c == "sms")
    email_all = sum(n for (_, c), n in counts.items() if c == "email")
    lines.append(f"  {'all':<22}{sms_all:>8}{email_all:>8}{sms_all + email_all:>8}")
    return "\n".join(lines)


def report_text(report: PlanReport, *, dry_run: bool) -> str:
    verb = "would create" if dry_run else "created"
    lines = [
        f"reminder run at {report.now.isoformat()}: {verb} {report.total} notification(s)"
        + ("" if dry_run else f", {report.existing} already planned, {report.enqueued} enqueued"),
        counts_table(report.created),
    ]
    if report.occasions:
        planned = ", ".join(f"{k} {n}" for k, n in sorted(report.occasions.items()))
        lines.append(f"  occasions planned: {planned}")
    if report.quiet_orgs:
        lines.append(f"  {report.quiet_orgs} organization(s) in quiet hours: their messages wait")
    return "\n".join(lines)


def rendered_drafts(
    drafts: Iterable[Draft],
    *,
    settings: Settings | None = None,
) -> Iterable[str]:
    """Each draft as the recipient would read it, the address masked.

    Rendered as the worker renders it (`services.notifier.build_runtime`): the overrides
    directory comes from `settings` (read now when not given), so a dry run previews the
    organization's own templates, not the shipped ones."""
    settings = settings or load_settings()
    overrides_dir = Path(settings.templates_dir) if settings.templates_dir else None
    for d in drafts:
        # The worker's runtime renders with the default segment budget too.
        message = render_message(d.kind, d.channel, d.locale, d.data, overrides_dir=overrides_dir)
        head = (
            f"--- {d.kind} {d.channel} to {d.recipient_type} {d.recipient_id}"
            f" {mask_address(d.address, d.channel)} ({d.locale}) [{d.occasion}]"
        )
        body = message.text
        if message.subject is not None:
            body = f"Subject: {message.subject}\n\n{body}"
        yield head + "\n" + mask_text(body.rstrip()) + "\n"
