"""A workbook is checked against a decompressed-size budget before openpyxl reads it.

An XLSX file is a ZIP archive, and a 1 MB file can hold a part that inflates to 1 GiB
(one cell of a single repeated letter): openpyxl then builds that cell as one string and
`liaison import` grew to 4.3 GB. Before any sheet is parsed, `check_workbook`:

1. reads the sizes the archive declares for its parts, and refuses a part above
   `MAX_PART_BYTES` (sharedStrings.xml above `MAX_SHARED_STRINGS_BYTES`: openpyxl keeps
   every shared string in memory) or a workbook above `MAX_WORKBOOK_BYTES`, without
   inflating anything;
2. inflates every part once more, `CHUNK_BYTES` at a time and then thrown away, counting
   the bytes it really yields (a declared size can lie; CPython's zipfile also stops at the
   declared size and fails the CRC check, and either way the file is refused), and in the
   worksheets and shared strings measures the longest text between two tags and the
   longest row.

Memory stays at a chunk whatever the file holds. The limits: Excel holds at most 32,767
characters in a cell (`MAX_TEXT_BYTES` allows each as a 6-byte XML entity) and 16,384
cells in a row; the part budgets leave room for a sheet of several hundred thousand
members (about 1 KB of XML per member row). A bigger ledger is imported as CSV, which
streams with no such limit.
"""

from __future__ import annotations

import zipfile
from pathlib import Path

from shared.errors import LedgerError

MiB = 1024 * 1024
MAX_PART_BYTES = 512 * MiB  #: one part (a worksheet's XML) inflated
MAX_SHARED_STRINGS_BYTES = 128 * MiB  #: xl/sharedStrings.xml inflated (held whole by openpyxl)
MAX_WORKBOOK_BYTES = 1024 * MiB  #: every part together, inflated
MAX_TEXT_BYTES = 32_767 * 6  #: between two tags: Excel's longest cell, every character escaped
MAX_ROW_BYTES = 4 * MiB  #: one row's XML: 16,384 cells of a few hundred bytes
CHUNK_BYTES = 64 * 1024  #: inflated at a time; smaller than MAX_TEXT_BYTES (see _scan)


class WorkbookTooLarge(LedgerError):
    """Raised when a workbook inflates beyond the budget; nothing of it was parsed."""


def check_workbook(path: Path) -> None:
    """Refuse `path` if any part inflates beyond its budget; `zipfile.BadZipFile` for a
    damaged archive (the reader turns it into its own one-line error)."""
    with zipfile.ZipFile(path) as archive:
        parts = archive.infolist()
        declared = 0
        for info in parts:
            _check_size(path, info.filename, info.file_size, _part_budget(info.filename))
            declared += info.file_size
        if declared > MAX_WORKBOOK_BYTES:
            raise WorkbookTooLarge(
                f"{path.name}: the workbook inflates to {_mib(declared)}, more than the "
                f"{_mib(MAX_WORKBOOK_BYTES)} an XLSX import reads; import it as CSV"
            )
        for info in parts:
            _scan(path, archive, info)


def _part_budget(name: str) -> int:
    return MAX_SHARED_STRINGS_BYTES if name.endswith("sharedStrings.xml") else MAX_PART_BYTES


def _check_size(path: Path, part: str, size: int, budget: int) -> None:
    if size > budget:
        raise WorkbookTooLarge(
            f"{path.name}: {part} inflates to {_mib(size)}, more than the {_mib(budget)} "
            "an XLSX import reads; import it as CSV"
        )


def _scan(path: Path, archive: zipfile.ZipFile, info: zipfile.ZipInfo) -> None:
    """Inflate one part a chunk at a time, enforcing its budget on the bytes it yields.

    A chunk is smaller than `MAX_TEXT_BYTES`, so a text too long must span chunks: only the
    stretch before a chunk's first `<` (added to the run carried over) and after its last
    need measuring. Rows likewise, by their `<row` tags.
    """
    name = info.filename
    xml = name.endswith("sharedStrings.xml") or (
        name.startswith("xl/worksheets/") and name.endswith(".xml")
    )
    budget = _part_budget(name)
    inflated = since_tag = since_row = 0
    with archive.open(info) as part:
        while chunk := part.read(CHUNK_BYTES):
            inflated += len(chunk)
            _check_size(path, name, inflated, budget)
            if not xml:
                continue
            first = chunk.find(b"<")
            if first < 0:
                since_tag += len(chunk)
            else:
                since_tag += first
                if since_tag > MAX_TEXT_BYTES:
                    break
                since_tag = len(chunk) - chunk.rfind(b"<") - 1
            if since_tag > MAX_TEXT_BYTES:
                break
            row = chunk.rfind(b"<row")
            since_row = since_row + len(chunk) if row < 0 else len(chunk) - row
            if since_row > MAX_ROW_BYTES and name.startswith("xl/worksheets/"):
                raise WorkbookTooLarge(
                    f"{path.name}: {name} holds a row of more than {_mib(MAX_ROW_BYTES)}; "
                    "a spreadsheet row is never that long"
                )
    if since_tag > MAX_TEXT_BYTES:
        raise WorkbookTooLarge(
            f"{path.name}: {name} holds a text of more than {MAX_TEXT_BYTES:,} bytes; a "
            "spreadsheet cell holds at most 32,767 characters"
        )


def _mib(size: int) -> str:
    return f"{size / MiB:,.0f} MiB" if size >= MiB else f"{size:,} bytes"
