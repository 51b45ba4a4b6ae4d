"""docs/ledger.md lists every Chinese word the importer takes for an enum code."""

from __future__ import annotations

import re
from pathlib import Path

from shared.ledger.kinds import KINDS

DOC = Path(__file__).resolve().parents[3] / "docs" / "ledger.md"


def _documented() -> dict[str, set[str]]:
    """code → the words its rows of the table list (a code may appear in several columns)."""
    words: dict[str, set[str]] = {}
    for line in DOC.read_text(encoding="utf-8").splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) == 3 and re.fullmatch(r"[a-z_]+", cells[1]) and cells[1] != "code":
            words.setdefault(cells[1], set()).update(cells[2].split("、"))
    return words


def test_every_word_the_importer_accepts_is_in_the_table_of_docs_ledger_md() -> None:
    documented = _documented()
    pairs = [(w, c) for k in KINDS for col in k.columns for w, c in col.spellings]
    assert len(pairs) >= 40  # the tables are really there
    missing = [(w, c) for w, c in pairs if w not in documented.get(c, set())]
    assert missing == []


def test_every_word_in_the_table_of_docs_ledger_md_is_accepted() -> None:
    accepted = {(w, c) for k in KINDS for col in k.columns for w, c in col.spellings}
    listed = [(w, c) for c, words in _documented().items() for w in words]
    assert len(listed) >= 30  # words shared by two columns (其他) are listed once per code
    assert [pair for pair in listed if pair not in accepted] == []
