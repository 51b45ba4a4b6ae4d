"""Masking of personal data (ID numbers, phones, emails) for anything a person sees.

Full values appear only in exports asked for explicitly (`liaison export --full`).

`mask_text` is the one function that finds personal numbers inside free text (provider
errors, exception messages, notes, log lines). What it masks, in any mix of ASCII and
full-width characters (`１３９`, `（０２１）`, `＋８６`):

- ID numbers: 18 characters (17 digits and a digit or X), written whole or grouped 6-8-4
  or 6-4-4-4 with spaces, dashes or dots (`340826 19980707 0015`), and the old 15-digit
  numbers: `340826********0015`, so the birth date inside is gone;
- Chinese mobiles: `1[3-9]` and 9 more digits, grouped 3-4-4, 3-8 or whole, with spaces,
  dashes or dots, the first group in parentheses or not, after +86, 0086, 86 or (+86),
  even glued to a word (`Tel13913675655`): `139****5655`;
- landlines with their area code: `010-12345678`, `0551 6123456`, `(021)12345678`,
  `+86 10 12345678`: the area code stays, the local number keeps its last two digits;
- email addresses: `z***@example.com`.

What it leaves alone, on purpose, because people need to read it: dates in every
spelling the ledger accepts (`2026-11-22`, `2026/11/22`, `2026年11月22日`, `20261122`),
times and ISO instants, counts, amounts, notification ids up to 10 digits, provider and
HTTP error codes, message SIDs. The boundary: a run of digits is masked only when it has
the shape of one of the numbers above and no digit touches it on either side. Numbers
written next to each other with only spaces or dashes between them can read as a phone
(`13 9136 7565 5`); that errs on the side of hiding.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable
from datetime import date

# Full-width digits and punctuation (and the ideographic space) are matched as their
# ASCII twins. Each maps one character to one, so a match's span in the folded text is its
# span in the original.
_FOLD = str.maketrans(
    "０１２３４５６７８９＋－（）．\u3000\u2014\u2013\u00a0",
    "0123456789+-(). -- ",
)
#: between two groups of digits: nothing, one or two spaces, or a dash or dot with a space
#: either side
_SEP = r"(?:[ \t]?[-.·][ \t]?|[ \t]{1,2})?"

_ID_LIKE = re.compile(
    rf"(?<!\d)(?P<head>\d{{6}}){_SEP}\d{{4}}{_SEP}\d{{4}}{_SEP}(?P<tail>\d{{3}}[\dXx])(?!\d)"
    r"|(?<!\d)(?P<old_head>\d{6})\d{6}(?P<old_tail>\d{3})(?!\d)"
)
_MOBILE_LIKE = re.compile(
    rf"(?<!\d)(?P<cc>(?:\(\s?(?:\+|00)?\s?86\s?\)|(?:\+|00)\s?86|86)[ \t\-.]{{0,2}})?"
    rf"\(?(?P<head>1[3-9]\d)\)?{_SEP}\d{{4}}{_SEP}(?P<tail>\d{{4}})(?!\d)"
)
_LANDLINE_LIKE = re.compile(
    r"(?<!\d)(?P<area>(?:\+|00)\s?86[ \t\-]{0,2}\(?0?[1-9]\d{1,2}\)?|\(?0[1-9]\d{1,2}\)?)"
    rf"{_SEP}(?P<local>[1-9]\d{{2,3}}{_SEP}\d{{4}})(?!\d)"
)
_EMAIL_LIKE = re.compile(r"([A-Za-z0-9._%+-])[A-Za-z0-9._%+-]*(@[A-Za-z0-9.-]+\.[A-Za-z]{2,})")


def mask_id_number(value: str) -> str:
    """`110105199001011234` → `110105********1234`; anything else keeps at most its ends."""
    v = value.strip()
    if len(v) >= 14:
        return v[:6] + "*" * (len(v) - 10) + v[-4:]
    return _mask_middle(v)


def mask_phone(value: str) -> str:
    """`+8613812345678` → `+86 138****5678`; `13812345678` → `138****5678`."""
    v = value.strip()
    digits = re.sub(r"\D", "", v)
    if v.startswith("+86") and len(digits) == 13:
        return f"+86 {digits[2:5]}****{digits[-4:]}"
    if len(digits) == 11:
        return f"{digits[:3]}****{digits[-4:]}"
    return _mask_middle(v)


def mask_email(value: str) -> str:
    """`zhang.san@example.com` → `z***@example.com`."""
    v = value.strip()
    local, at, domain = v.partition("@")
    if not at:
        return _mask_middle(v)
    return f"{local[:1]}***@{domain}"


def mask_userid(userid: str) -> str:
    """A WeCom user id (企业微信账号): its first two characters, the rest starred."""
    return userid[:2] + "*" * max(len(userid) - 2, 1)


def mask_address(address: str, channel: str) -> str:
    """A notification's recipient as a person may see it, masked as what its channel
    sends to: an email, a WeCom user id, or else a phone (sms). The one place that knows."""
    if channel == "email":
        return mask_email(address)
    if channel == "wecom":
        return mask_userid(address)
    return mask_phone(address)


def _mask_middle(v: str) -> str:
    if len(v) <= 4:
        return "*" * len(v)
    keep = max(1, len(v) // 4)
    return v[:keep] + "*" * (len(v) - 2 * keep) + v[-keep:]


def _masked_id(m: re.Match[str]) -> str:
    if m["head"] is not None:
        return f"{m['head']}********{m['tail'].upper()}"
    return f"{m['old_head']}******{m['old_tail']}"


def _masked_mobile(m: re.Match[str]) -> str:
    return f"{m['cc'] or ''}{m['head']}****{m['tail']}"


def _masked_landline(m: re.Match[str]) -> str:
    local = re.sub(r"\D", "", m["local"])
    return f"{m['area']}-{'*' * (len(local) - 2)}{local[-2:]}"


_MASKS: tuple[tuple[re.Pattern[str], Callable[[re.Match[str]], str]], ...] = (
    (_ID_LIKE, _masked_id),  # first: an ID number holds runs that look like phones
    (_MOBILE_LIKE, _masked_mobile),
    (_LANDLINE_LIKE, _masked_landline),
)


def _substitute(
    text: str, folded: str, pattern: re.Pattern[str], masked: Callable[[re.Match[str]], str]
) -> tuple[str, str]:
    """Replace `pattern`'s matches in the folded text, and the same spans in the original,
    so that both stay aligned; untouched text keeps its own characters."""
    parts: list[str] = []
    folded_parts: list[str] = []
    last = 0
    for m in pattern.finditer(folded):
        replacement = masked(m)
        parts += [text[last : m.start()], replacement]
        folded_parts += [folded[last : m.start()], replacement]
        last = m.end()
    if not parts:
        return text, folded
    return "".join([*parts, text[last:]]), "".join([*folded_parts, folded[last:]])


#: the fewest digits any pattern of _MASKS matches: a landline, its area code of three
#: (010) and a number of seven; a mobile has 11, an ID number 15 or 18
_FEWEST_DIGITS = 10


def mask_text(text: str) -> str:
    """Mask every ID number, phone (mobile or landline) and email address inside free text."""
    folded = text.translate(_FOLD)
    # Every message the notifier renders passes here; most hold fewer digits than any ID
    # or phone has, and then the three patterns need not run. (str.isdigit counts at
    # least every character the patterns' \d matches.)
    if sum(map(str.isdigit, folded)) >= _FEWEST_DIGITS:
        for pattern, masked in _MASKS:
            text, folded = _substitute(text, folded, pattern, masked)
    if "@" not in text:
        return text
    return _EMAIL_LIKE.sub(lambda m: f"{m.group(1)}***{m.group(2)}", text)


MASKED_DATE = "****-**-**"


def mask_date(text: str, day: date) -> str:
    """`text` with `day` hidden wherever it is written as a date (`19980707`,
    `1998-07-07`, `1998/7/7`, `1998.07.07`, `1998年7月7日`, full-width digits too): for a
    birth date, which an ID number's mask hides, typed into another column."""
    m, d = day.month, day.day
    pattern = re.compile(
        rf"(?<!\d){day.year:04d}(?:[-/.]0?{m}[-/.]0?{d}|年0?{m}月0?{d}日?|{m:02d}{d:02d})(?!\d)"
    )
    return _substitute(text, text.translate(_FOLD), pattern, lambda _: MASKED_DATE)[0]


class MaskingFilter(logging.Filter):
    """A logging filter that masks personal data in every record's final message."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        masked = mask_text(message)
        if masked != message:
            record.msg, record.args = masked, None
        return True
