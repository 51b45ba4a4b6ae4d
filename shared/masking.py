"""Masking of personal data (ID numbers, phones, emails) for anything a person sees.

Full values appear only in exports asked for explicitly (`liaison export --full`).
"""

from __future__ import annotations

import logging
import re

_ID_LIKE = re.compile(r"(?<!\d)(\d{6})\d{8}(\d{3}[\dXx])(?!\d)")
_PHONE_LIKE = re.compile(r"(?<![\dA-Za-z])(\+?\d{0,3}[ -]?)(1[3-9]\d)[ -]?\d{4}[ -]?(\d{4})(?!\d)")
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


def _mask_middle(v: str) -> str:
    if len(v) <= 4:
        return "*" * len(v)
    keep = max(1, len(v) // 4)
    return v[:keep] + "*" * (len(v) - 2 * keep) + v[-keep:]


def mask_text(text: str) -> str:
    """Mask every ID number, mobile phone and email address found inside free text."""
    text = _ID_LIKE.sub(lambda m: m.group(1) + "********" + m.group(2), text)
    text = _PHONE_LIKE.sub(lambda m: f"{m.group(1)}{m.group(2)}****{m.group(3)}", text)
    return _EMAIL_LIKE.sub(lambda m: f"{m.group(1)}***{m.group(2)}", text)


class MaskingFilter(logging.Filter):
    """A logging filter that masks personal data in every record's final message."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        masked = mask_text(message)
        if masked != message:
            record.msg, record.args = masked, None
        return True
