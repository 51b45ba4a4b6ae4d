"""How many SMS segments a body costs (3GPP TS 23.038 / GSM 03.38).

A body written only in the GSM 7-bit alphabet travels as GSM-7: 160 septets in one
message, 153 per part once it needs a concatenation header. Characters of the extension
table (`€ { } [ ] ~ ^ \\ |` and form feed) are sent as ESC + char and so cost two septets.
Anything else (every Chinese character) forces UCS-2 for the whole body: 70 UTF-16 code
units in one message, 67 per part, and a character outside the BMP (most emoji) costs two.

A character is never split across two parts (an ESC pair or a surrogate pair stays
together), which is how carriers and Twilio count; it can cost one part more than
`ceil(units / 153)` would say.

No well-kept library does this: the GSM codecs on PyPI encode but do not count parts, and
the two alphabet tables below are the whole of the knowledge needed.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

GSM7_SINGLE_UNITS = 160  #: septets in a single-part GSM-7 message
GSM7_PART_UNITS = 153  #: septets per part of a concatenated GSM-7 message
UCS2_SINGLE_UNITS = 70  #: UTF-16 code units in a single-part UCS-2 message
UCS2_PART_UNITS = 67  #: UTF-16 code units per part of a concatenated UCS-2 message

# The GSM 03.38 default alphabet, in table order; 0x1B (ESC) is left out on purpose.
_GSM7_BASIC = frozenset(
    "@£$¥èéùìòÇ\nØø\rÅå"
    "Δ_ΦΓΛΩΠΨΣΘΞÆæßÉ"
    " !\"#¤%&'()*+,-./"
    "0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNO"
    "PQRSTUVWXYZÄÖÑÜ§"
    "¿abcdefghijklmno"
    "pqrstuvwxyzäöñüà"
)
# The extension table: each is sent as ESC followed by the character, two septets.
_GSM7_EXTENSION = frozenset("\f^{}\\[]~|€")


@dataclass(frozen=True)
class SegmentCount:
    """What one SMS body costs: its encoding, its length in units, and its parts."""

    encoding: Literal["GSM-7", "UCS-2"]
    units: int  #: septets for GSM-7, UTF-16 code units for UCS-2
    segments: int  #: messages the carrier bills; an empty body still costs one


def count_segments(text: str) -> SegmentCount:
    """Count the encoding, units and segments `text` costs as one SMS."""
    gsm_widths = _gsm7_widths(text)
    if gsm_widths is not None:
        return SegmentCount(
            "GSM-7", sum(gsm_widths), _parts(gsm_widths, GSM7_SINGLE_UNITS, GSM7_PART_UNITS)
        )
    ucs2_widths = [2 if ord(ch) > 0xFFFF else 1 for ch in text]
    return SegmentCount(
        "UCS-2", sum(ucs2_widths), _parts(ucs2_widths, UCS2_SINGLE_UNITS, UCS2_PART_UNITS)
    )


def _gsm7_widths(text: str) -> list[int] | None:
    """Septets per character, or None when a character is outside GSM-7."""
    widths = []
    for ch in text:
        if ch in _GSM7_BASIC:
            widths.append(1)
        elif ch in _GSM7_EXTENSION:
            widths.append(2)
        else:
            return None
    return widths


def _parts(widths: list[int], single_units: int, part_units: int) -> int:
    """Parts needed when each character's units must stay inside one part."""
    if sum(widths) <= single_units:
        return 1
    parts, used = 1, 0
    for width in widths:
        if used + width > part_units:
            parts, used = parts + 1, 0
        used += width
    return parts
