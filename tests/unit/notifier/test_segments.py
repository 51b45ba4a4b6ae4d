"""SMS segment counting at the exact boundaries of GSM-7 and UCS-2."""

from __future__ import annotations

import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from services.notifier.segments import SegmentCount, count_segments

CJK = "党"  # one BMP character outside GSM-7
EMOJI = "🎉"  # outside the BMP: two UTF-16 code units


def test_160_gsm_characters_fit_one_segment() -> None:
    assert count_segments("a" * 160) == SegmentCount("GSM-7", 160, 1)


def test_161_gsm_characters_need_two_segments() -> None:
    assert count_segments("a" * 161) == SegmentCount("GSM-7", 161, 2)


def test_306_gsm_characters_fill_exactly_two_parts_and_307_need_three() -> None:
    assert count_segments("a" * 306).segments == 2
    assert count_segments("a" * 307).segments == 3


def test_70_cjk_characters_fit_one_segment() -> None:
    assert count_segments(CJK * 70) == SegmentCount("UCS-2", 70, 1)


def test_71_cjk_characters_need_two_segments() -> None:
    assert count_segments(CJK * 71) == SegmentCount("UCS-2", 71, 2)


def test_134_cjk_characters_fill_two_parts_and_135_need_three() -> None:
    assert count_segments(CJK * 134).segments == 2
    assert count_segments(CJK * 135).segments == 3


@pytest.mark.parametrize("char", list("€{}[]~^\\|"))
def test_each_extension_character_costs_two_septets(char: str) -> None:
    assert count_segments(char) == SegmentCount("GSM-7", 2, 1)


def test_80_extension_characters_fill_one_segment_and_81_need_two() -> None:
    assert count_segments("€" * 80) == SegmentCount("GSM-7", 160, 1)
    assert count_segments("€" * 81) == SegmentCount("GSM-7", 162, 2)


def test_an_escape_pair_is_never_split_across_parts() -> None:
    # 152 plain septets leave one free in the first part: the € moves whole to the second.
    text = "a" * 152 + "€" + "a" * 152
    assert count_segments(text) == SegmentCount("GSM-7", 306, 3)


def test_gsm_greek_and_accented_letters_stay_gsm7() -> None:
    assert count_segments("ΔΦΓΛΩΠΨΣΘΞ éèÄÖÑÜ £¥§¿¡").encoding == "GSM-7"


def test_one_chinese_character_turns_the_whole_body_into_ucs2() -> None:
    assert count_segments("a" * 100 + CJK) == SegmentCount("UCS-2", 101, 2)


def test_an_emoji_costs_two_ucs2_units() -> None:
    assert count_segments(EMOJI) == SegmentCount("UCS-2", 2, 1)
    assert count_segments(EMOJI * 35) == SegmentCount("UCS-2", 70, 1)
    assert count_segments(EMOJI * 35 + "a") == SegmentCount("UCS-2", 71, 2)


def test_a_surrogate_pair_is_never_split_across_parts() -> None:
    text = CJK * 66 + EMOJI + CJK * 66
    assert count_segments(text) == SegmentCount("UCS-2", 134, 3)


def test_an_empty_body_still_costs_one_message() -> None:
    assert count_segments("") == SegmentCount("GSM-7", 0, 1)


@given(st.text(max_size=600))
def test_segments_are_never_fewer_than_the_units_allow(text: str) -> None:
    count = count_segments(text)
    single, part = (160, 153) if count.encoding == "GSM-7" else (70, 67)
    if count.units <= single:
        assert count.segments == 1
    else:
        assert count.segments >= math.ceil(count.units / part)
        assert count.segments <= math.ceil(count.units / (part - 1))
