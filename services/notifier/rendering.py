"""Turning a notification's kind, channel, locale and data into the words that are sent.

Templates are Jinja2 files under `templates/`, one per kind × channel × locale:

- SMS: `{kind}.sms.{locale}.j2`, the body;
- WeCom: `{kind}.wecom.{locale}.j2`, a text card: the first line its title, the rest its
  description (the liaison digest is not cut to SMS segments: its template lists a few);
- email: `{kind}.email.{locale}.subject.j2` (one line), `{kind}.email.{locale}.txt.j2`
  (the plain-text part) and `{kind}.email.{locale}.html.j2` (the HTML part, autoescaped).
- Files starting with `_` are shared parts (rule and event-type labels, the HTML layout).

A locale falls back from the most to the least specific tag and then to zh-CN
(`zh-Hans-CN` → `zh-CN`, `en-US` → `en`, anything unknown → `zh-CN`). A missing data field
is an error naming the field (StrictUndefined), never a blank. Every rendered part is passed
through `shared.masking.mask_text`, so an ID number or phone that slips into the data is
masked rather than sent.

An operator may override any file by putting one of the same name in `overrides_dir`
(`LIAISON_TEMPLATES_DIR`); with an overrides directory everything is rendered in Jinja2's
`SandboxedEnvironment`, so an override cannot reach Python internals.

Every template also gets `today`, the send day its dates are worded from (see
`render_message`), and the filters of `wording.py` (`zh_day`, `en_date`, `plural`, …).

Data each kind needs (dates may be `date` objects or ISO strings; docs/templates.md has
the full tables):

- `liaison_digest`: `liaison_name`, `as_of`, `tasks`: a list, most urgent first, of
  `{number, member_name, rule, window_start, window_end, overdue_days, done, required,
  cadence_days, last_contact}` (the last two None but for rolling rules). The renderer
  adds `more`: how many tasks the SMS left out to stay within its budget (0 in email).
- `event_reminder`: `member_name`, `event_title`, `event_type` (one of
  `shared.ledger.kinds.EVENT_TYPES`), `event_date`, `starts_time` (`19:30`), `location`
  (or None), `online_url` (or None), `org_name`.
- `political_birthday`: `member_name`, `years` (full years since joining), `org_name`,
  `anniversary` (the day greeted).
- `branch_escalation`: `secretary_name`, `org_name`, `as_of`, `overdue_threshold_days`
  (optional, 14), `unassigned`: list of `{member_id, member_name}`, `overdue`: list of
  `{member_name, rule, overdue_days, liaison_name}` (liaison_name may be None),
  `certificates_due`: list of `{member_name, due}`.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

import jinja2
from jinja2.sandbox import SandboxedEnvironment

from services.notifier.segments import SegmentCount, count_segments
from services.notifier.wording import FILTERS, TESTS, as_date
from shared.errors import LiaisonError
from shared.masking import mask_text
from shared.settings import DEFAULT_LOCALE

TEMPLATES_DIR = Path(__file__).parent / "templates"
DEFAULT_SMS_SEGMENT_BUDGET = 5  #: segments one SMS may cost
CHANNELS = ("sms", "email", "wecom")
TEMPLATE_CACHE_SIZE = 512  #: (kind, channel, locale, overrides_dir) combinations kept compiled

# Kinds whose SMS lists items that may be cut to fit the segment budget, and which list.
_TRIMMED_LISTS = {"liaison_digest": "tasks"}
_HTML_EXTENSIONS = ("html.j2", "htm.j2", "html", "htm")  # template names autoescaped
_KIND = re.compile(r"[a-z][a-z0-9_]*")
_LOCALE_PART = re.compile(r"[A-Za-z0-9]{1,8}")
# Exceptions a template (an operator's especially) can raise while rendering.
_RENDER_ERRORS = (
    jinja2.TemplateError,
    TypeError,
    ValueError,
    ArithmeticError,
    LookupError,
    AttributeError,
    # An override template that calls itself without end must fail as a template
    # error, not take the worker down.
    RecursionError,
)


class TemplateError(LiaisonError):
    """Raised when a template is missing or cannot be rendered."""


@dataclass(frozen=True)
class RenderedMessage:
    """A message ready for its sender."""

    subject: str | None  #: email only
    text: str  #: the SMS body, or the email's plain-text part
    html: str | None  #: email only
    segments: int | None  #: SMS only: the segments the body costs


def render_message(
    kind: str,
    channel: str,
    locale: str,
    data: Mapping[str, Any],
    *,
    overrides_dir: Path | None = None,
    sms_segment_budget: int = DEFAULT_SMS_SEGMENT_BUDGET,
    today: date | None = None,
) -> RenderedMessage:
    """Render `kind` for `channel` in `locale` (or its fallback) from `data`.

    `today` is the recipient's local date when the message is sent. Relative words
    (今天, 明天, "tomorrow") are only true relative to that day, and a message may leave
    days after it was planned, so the templates word dates from it: `today` given here
    wins, then a `today` in the data (what a send-time refresher puts there), then the
    day it was planned (`planned_on`); with none, dates are named, never relative.
    """
    templates = _templates(kind, channel, locale, overrides_dir)
    context = dict(data)
    context["today"] = _send_day(today, data)
    list_field = _TRIMMED_LISTS.get(kind)
    if templates.subject is None and channel == "wecom":
        # A WeCom text card: first line the title, the rest the description; its template
        # lists what fits a card itself, so nothing is cut by SMS segments here.
        if list_field is not None:
            context["more"] = 0
        return RenderedMessage(
            subject=None, text=_render(templates.text, context), html=None, segments=None
        )
    if templates.subject is None:
        if list_field is None:
            text = _render(templates.text, context)
            count = count_segments(text)
        else:
            text, count = _fit_sms(templates.text, context, list_field, sms_segment_budget)
        return RenderedMessage(subject=None, text=text, html=None, segments=count.segments)
    if list_field is not None:
        context["more"] = 0
    assert templates.html is not None
    subject = " ".join(_render(templates.subject, context).split())
    return RenderedMessage(
        subject=subject,
        text=_render(templates.text, context),
        html=_render(templates.html, context),
        segments=None,
    )


def _send_day(today: date | None, data: Mapping[str, Any]) -> date | None:
    """The send day the templates word dates from (see `render_message`)."""
    for candidate in (today, data.get("today"), data.get("planned_on")):
        if candidate:
            try:
                return as_date(candidate)
            except ValueError as exc:
                raise TemplateError(f"unreadable send day {candidate!r}") from exc
    return None


def _fit_sms(
    template: jinja2.Template, context: dict[str, Any], list_field: str, budget: int
) -> tuple[str, SegmentCount]:
    """Render the SMS with the longest prefix of `list_field` that fits `budget` segments.

    The rest is summarised by the template from `more`, and that summary counts too. Each
    listed item only adds text, so fitting is monotonic in the prefix length and a binary
    search finds the longest prefix in log2(n) renders.
    """
    try:
        items = list(context[list_field])
    except (KeyError, TypeError) as exc:
        raise TemplateError(f"{template.name}: {list_field!r} must be a list") from exc

    def attempt(listed: int) -> tuple[str, SegmentCount]:
        shown = {**context, list_field: items[:listed], "more": len(items) - listed}
        text = _render(template, shown)
        return text, count_segments(text)

    best = attempt(len(items))
    if best[1].segments <= budget:
        return best
    fitting: tuple[str, SegmentCount] | None = None
    low, high = 0, len(items) - 1
    while low <= high:
        middle = (low + high) // 2
        text, count = attempt(middle)
        if count.segments <= budget:
            fitting, low = (text, count), middle + 1
        else:
            high = middle - 1
    if fitting is None:
        raise TemplateError(
            f"{template.name}: even with no {list_field} listed the SMS costs more than "
            f"{budget} segment(s)"
        )
    return fitting


def _render(template: jinja2.Template, context: Mapping[str, Any]) -> str:
    try:
        rendered = template.render(context)
    except _RENDER_ERRORS as exc:
        raise TemplateError(f"{template.name}: {exc}") from exc
    return mask_text(rendered.strip())


@dataclass(frozen=True)
class _TemplateSet:
    locale: str
    text: jinja2.Template  #: the SMS body, or the email's plain-text part
    subject: jinja2.Template | None  #: email only
    html: jinja2.Template | None  #: email only


@functools.lru_cache(maxsize=TEMPLATE_CACHE_SIZE)
def _templates(kind: str, channel: str, locale: str, overrides_dir: Path | None) -> _TemplateSet:
    """Load and compile the templates for one combination, once per process."""
    if channel not in CHANNELS:
        raise TemplateError(f"unknown channel {channel!r}; expected one of {CHANNELS}")
    if not _KIND.fullmatch(kind):
        raise TemplateError(f"malformed template kind {kind!r}")
    env = _environment(overrides_dir)
    main_suffix = "txt.j2" if channel == "email" else "j2"
    for candidate in locale_candidates(locale):
        main = _load(env, f"{kind}.{channel}.{candidate}.{main_suffix}", required=False)
        if main is None:
            continue
        if channel != "email":
            return _TemplateSet(candidate, main, None, None)
        subject = _load(env, f"{kind}.email.{candidate}.subject.j2", required=True)
        html = _load(env, f"{kind}.email.{candidate}.html.j2", required=True)
        return _TemplateSet(candidate, main, subject, html)
    raise TemplateError(f"no {channel} template for {kind!r} in locale {locale!r} or its fallbacks")


def _load(env: jinja2.Environment, name: str, *, required: bool) -> jinja2.Template | None:
    try:
        return env.get_template(name)
    except jinja2.TemplateNotFound as exc:
        if required:
            raise TemplateError(f"template {name} is missing") from exc
        return None
    except jinja2.TemplateSyntaxError as exc:
        raise TemplateError(f"{exc.filename or name}:{exc.lineno}: {exc.message}") from exc


@functools.lru_cache(maxsize=16)
def _environment(overrides_dir: Path | None) -> jinja2.Environment:
    shipped = jinja2.FileSystemLoader(TEMPLATES_DIR)
    options: dict[str, Any] = {
        "undefined": jinja2.StrictUndefined,
        "trim_blocks": True,
        "lstrip_blocks": True,
        # Compiled templates are cached by `_templates`; re-reading files is not wanted.
        "auto_reload": False,
    }
    # HTML parts (`*.html.j2`) are autoescaped; SMS and plain text are sent as written.
    env: jinja2.Environment
    if overrides_dir is None:
        env = jinja2.Environment(
            loader=shipped, autoescape=jinja2.select_autoescape(_HTML_EXTENSIONS), **options
        )
    else:
        if not overrides_dir.is_dir():
            raise TemplateError(f"template overrides directory {overrides_dir} does not exist")
        loader = jinja2.ChoiceLoader([jinja2.FileSystemLoader(overrides_dir), shipped])
        env = SandboxedEnvironment(
            loader=loader, autoescape=jinja2.select_autoescape(_HTML_EXTENSIONS), **options
        )
    env.filters.update(FILTERS)
    env.tests.update(TESTS)
    return env


def locale_candidates(locale: str) -> tuple[str, ...]:
    """Locales to try, most specific first, ending with the default.

    `zh-Hans-CN` → (`zh-Hans-CN`, `zh-CN`, `zh`, `zh-CN`); `en_US` → (`en-US`, `en`, `zh-CN`).
    """
    parts = locale.strip().replace("_", "-").split("-")
    if not all(_LOCALE_PART.fullmatch(part) for part in parts):
        return (DEFAULT_LOCALE,)
    language = parts[0].lower()
    script = next((p.title() for p in parts[1:] if len(p) == 4 and p.isalpha()), None)
    region = next((p.upper() for p in parts[1:] if len(p) == 2 or p.isdigit()), None)
    full = "-".join(p for p in (language, script, region) if p)
    candidates = [full, f"{language}-{region}" if region else language, language, DEFAULT_LOCALE]
    return tuple(dict.fromkeys(candidates))
