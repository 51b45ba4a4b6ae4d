"""What a liaison's SMS reply says: opt out, opt back in, task numbers done, or nothing known.

Pure: text in, a Reply out. Full-width digits and punctuation ("１ ３", "1，3") are folded
by NFKC first, so every spelling a Chinese phone keyboard produces reads the same.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

#: Twilio's standard opt-out words, and the Chinese carriers' TD/T/退订
OPT_OUT_WORDS = frozenset(
    {"TD", "T", "退订", "STOP", "STOPALL", "UNSUBSCRIBE", "CANCEL", "END", "QUIT"}
)
OPT_IN_WORDS = frozenset({"START", "UNSTOP", "订阅"})
#: words a liaison may put before the numbers ("完成 1 3", "done 1 3")
DONE_PREFIXES = ("完成", "已完成", "DONE", "OK")
MAX_TASK_NUMBER = 999  #: no digest lists more; a larger number is a typo, not a task

_SEPARATORS = re.compile(r"[\s,、;.]+")


@dataclass(frozen=True)
class Reply:
    """kind: opt_out | opt_in | done | unknown; `numbers` for done, in the order written."""

    kind: str
    numbers: tuple[int, ...] = ()
    chinese: bool = False  #: written in Chinese (answer in Chinese)


def _has_han(text: str) -> bool:
    return any("\u4e00" <= ch <= "\u9fff" for ch in text)


def parse_reply(body: str) -> Reply:
    text = unicodedata.normalize("NFKC", body).strip()
    chinese = _has_han(text)
    word = text.upper().strip(" .!。！")
    if word in OPT_OUT_WORDS:
        return Reply("opt_out", chinese=chinese or word in {"TD", "T"})
    if word in OPT_IN_WORDS:
        return Reply("opt_in", chinese=chinese)
    rest = text.upper()
    for prefix in DONE_PREFIXES:
        if rest.startswith(prefix):
            rest = rest[len(prefix) :].lstrip(" :：")
            break
    tokens = [t for t in _SEPARATORS.split(rest) if t]
    if not tokens or not all(t.isascii() and t.isdigit() for t in tokens):
        return Reply("unknown", chinese=chinese)
    numbers = tuple(dict.fromkeys(int(t) for t in tokens))
    if any(n < 1 or n > MAX_TASK_NUMBER for n in numbers):
        return Reply("unknown", chinese=chinese)
    return Reply("done", numbers, chinese=chinese)
