"""The CSV formula rule is exact: `restore` undoes `neutralise` for every string, and no
neutralised cell starts the way a spreadsheet formula does."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from shared.ledger.formulas import neutralise, restore, strip_cell

# Text that starts like formulas far more often than uniform text would.
_starts = st.sampled_from(["", "=", "+", "-", "@", "\t", "\r", "'", "''", "'=", "+86", "-5"])
cells = st.builds(lambda a, b: a + b, _starts, st.text(max_size=12))


@given(cells)
def test_restore_undoes_neutralise_for_every_string(text: str) -> None:
    assert restore(neutralise(text)) == text


@given(cells)
def test_a_neutralised_cell_never_starts_like_a_formula(text: str) -> None:
    cell = neutralise(text)
    assert cell[:1] not in ("=", "@", "\t", "\r")
    if cell[:1] in ("+", "-") and len(cell) > 1:
        # only a plain or masked number may start with a sign: no letter, no operator
        assert set(cell[1:]) <= set("0123456789 .*%"), cell


def test_plain_numbers_and_phones_are_left_as_they_are() -> None:
    kept = ("+8613812345678", "+86 138****5678", "-5", "12.5%", "-", "M001")
    assert [neutralise(t) for t in kept] == list(kept)


def test_a_leading_tab_is_stripped_unless_it_guards_a_formula() -> None:
    assert strip_cell("\t=1+1 ") == "\t=1+1"
    assert strip_cell("\tM001 ") == "M001"
    assert strip_cell("  =1+1") == "=1+1"
