"""`mask_text`: every common spelling of a Chinese mobile, landline or ID number is masked,
and the ordinary numbers a person needs to read (dates, counts, ids, codes) are not.

The property tests build numbers the way people and providers write them: grouped 3-4-4
or 3-8, with spaces, dashes, dots or parentheses, a +86/0086/86 prefix, full-width
digits, glued to a word (`Tel13913675655`) or inside Chinese text.
"""

from __future__ import annotations

from datetime import date

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from shared import masking
from shared.errors import DeliveryError, PermanentDeliveryError, TransientDeliveryError
from shared.masking import mask_date, mask_text

_FULL_WIDTH = str.maketrans("0123456789+-() ", "０１２３４５６７８９＋－（）\u3000")


def _digits(text: str) -> str:
    """The ASCII digits of `text`, full-width ones folded, in order."""
    folded = text.translate(str.maketrans("０１２３４５６７８９", "0123456789"))
    return "".join(c for c in folded if c.isdigit())


# Text around a number: words in Latin or Chinese script and punctuation, no digits, and
# nothing that could be read as part of the number (+, separators) at the edges.
_words = st.text(
    alphabet=st.sampled_from("abcdefghijklmnopqrstuvwxyzABCDEFGHIJ 错误号码电话：:,;!?无法送达"),
    max_size=12,
).map(lambda s: s.strip(" "))
_separator = st.sampled_from(["", " ", "-", ".", " - ", "\u3000"])


@st.composite
def mobiles(draw: st.DrawFn) -> tuple[str, str]:
    """(a spelling of a Chinese mobile, its 11 digits)."""
    number = draw(st.from_regex(r"1[3-9][0-9]{9}", fullmatch=True))
    sep = draw(_separator)
    grouping = draw(st.sampled_from(["3-4-4", "3-8", "11", "(3)-4-4"]))
    a, b, c = number[:3], number[3:7], number[7:]
    body = {
        "3-4-4": f"{a}{sep}{b}{sep}{c}",
        "3-8": f"{a}{sep}{b}{c}",
        "11": number,
        "(3)-4-4": f"({a}) {b}{sep}{c}",
    }[grouping]
    prefix = draw(st.sampled_from(["", "+86", "+86 ", "+86-", "0086 ", "86", "(+86) ", "+86 "]))
    spelled = prefix + body
    if draw(st.booleans()):
        spelled = spelled.translate(_FULL_WIDTH)
    return spelled, number


AREA_CODES = ("010", "020", "021", "022", "023", "024", "025", "027", "028", "029",
              "0551", "0556", "0755", "0571", "0898")  # fmt: skip


@st.composite
def landlines(draw: st.DrawFn) -> tuple[str, str]:
    """(a spelling of a landline with its area code, the local number's digits)."""
    area = draw(st.sampled_from(AREA_CODES))
    length = 8 if len(area) == 3 else draw(st.sampled_from([7, 8]))
    local = draw(st.from_regex(rf"[1-9][0-9]{{{length - 1}}}", fullmatch=True))
    sep = draw(st.sampled_from(["-", " ", "", "—"]))
    if draw(st.booleans()):
        spelled = f"({area}){draw(st.sampled_from(['', ' ']))}{local}"
    else:
        spelled = f"{area}{sep}{local}"
    if draw(st.booleans()):
        spelled = spelled.translate(_FULL_WIDTH)
    return spelled, local


@st.composite
def id_numbers(draw: st.DrawFn) -> tuple[str, str]:
    """(a spelling of an 18-character ID number, its middle 8 digits: the birth date)."""
    region = draw(st.from_regex(r"[1-6][0-9]{5}", fullmatch=True))
    born = draw(st.dates(min_value=date(1920, 1, 1), max_value=date(2020, 12, 31)))
    tail = draw(st.from_regex(r"[0-9]{3}[0-9Xx]", fullmatch=True))
    birth = born.strftime("%Y%m%d")
    sep = draw(st.sampled_from(["", " ", "-"]))
    grouping = draw(st.sampled_from(["6-8-4", "6-4-4-4"]))
    if grouping == "6-8-4":
        spelled = f"{region}{sep}{birth}{sep}{tail}"
    else:
        spelled = f"{region}{sep}{birth[:4]}{sep}{birth[4:]}{sep}{tail}"
    if draw(st.booleans()):
        spelled = spelled.translate(_FULL_WIDTH)
    return spelled, birth


@settings(max_examples=400)
@given(mobiles(), _words, _words)
def test_a_mobile_number_in_any_common_spelling_is_masked(
    mobile: tuple[str, str], before: str, after: str
) -> None:
    spelled, number = mobile
    masked = mask_text(f"{before}{spelled}{after}")
    assert number not in _digits(masked)
    assert f"{number[:3]}****{number[-4:]}" in masked, masked
    assert masked.startswith(before) and masked.endswith(after)


@settings(max_examples=300)
@given(landlines(), _words, _words)
def test_a_landline_number_with_its_area_code_is_masked(
    landline: tuple[str, str], before: str, after: str
) -> None:
    spelled, local = landline
    masked = mask_text(f"{before}{spelled}{after}")
    assert local not in _digits(masked), masked
    assert "****" in masked
    assert masked.startswith(before) and masked.endswith(after)


@settings(max_examples=300)
@given(id_numbers(), _words, _words)
def test_an_id_number_in_any_common_spelling_loses_its_birth_date(
    id_number: tuple[str, str], before: str, after: str
) -> None:
    spelled, birth = id_number
    masked = mask_text(f"{before}{spelled}{after}")
    assert birth not in _digits(masked), masked
    assert masked.startswith(before) and masked.endswith(after)


@pytest.mark.parametrize(
    "text",
    [
        "Tel13913675655",
        "139.1367.5655",
        "+86 (139) 1367 5655",
        "１３９１３６７５６５５",
        "手机：１３９-１３６７-５６５５。",
        "340826 19980707 0015",
        "34082619980707001X",
        "010-12345678",
        "0551-6123456",
        "(021)12345678",
        "（０２１）１２３４５６７８",
    ],
)
def test_the_spellings_the_review_found_are_masked(text: str) -> None:
    masked = mask_text(text)
    assert "*" in masked
    for secret in ("13913675655", "19980707", "12345678", "6123456"):
        assert secret not in _digits(masked)


# What must stay readable: dates in every spelling the ledger accepts, times, counts,
# notification and provider ids, HTTP and provider error codes, amounts, years.
_dates = st.dates(min_value=date(1900, 1, 1), max_value=date(2999, 12, 31))


@settings(max_examples=300)
@given(
    day=_dates,
    spelling=st.sampled_from(["%Y-%m-%d", "%Y/%m/%d", "%Y年%m月%d日", "%Y%m%d", "%Y.%m.%d"]),
    notification_id=st.integers(min_value=1, max_value=9_999_999_999),
    count=st.integers(min_value=0, max_value=1_000_000),
    code=st.sampled_from([21610, 21211, 30003, 429, 500, 550, 421]),
)
def test_dates_counts_ids_and_codes_are_left_as_they_are(
    day: date, spelling: str, notification_id: int, count: int, code: int
) -> None:
    text = (
        f"notification {notification_id} on {day.strftime(spelling)} 09:30:00: "
        f"error {code}, {count} attempts, retry after 3600 s, 12.5% of 1,234,567"
    )
    assert mask_text(text) == text


def test_an_iso_instant_and_a_twilio_sid_are_left_as_they_are() -> None:
    text = "at 2026-11-22T09:00:00+08:00 SM3f2a8b9c0d1e2f3a4b5c6d7e8f9a0b1c status 202"
    assert mask_text(text) == text


def test_an_email_address_is_masked() -> None:
    assert mask_text("to zhang.san@example.com failed") == "to z***@example.com failed"


@pytest.mark.parametrize(
    "error_class", [DeliveryError, TransientDeliveryError, PermanentDeliveryError]
)
def test_a_delivery_error_masks_its_text_when_it_is_raised(error_class: type) -> None:
    """Whoever builds a delivery error, its text is masked before anything stores it."""
    error = error_class("Twilio 400: 'To' number +86 (139) 1367 5655 is not a mobile")
    assert "1367" not in str(error)
    assert "139****5655" in str(error)


def test_one_function_masks_an_address_by_its_channel() -> None:
    assert masking.mask_address("+8613913675655", "sms") == "+86 139****5655"
    assert masking.mask_address("zhang.san@example.com", "email") == "z***@example.com"


def test_a_wecom_user_id_is_masked_as_one_and_the_sender_masks_it_the_same_way() -> None:
    from services.notifier.senders import wecom_app

    assert masking.mask_address("ZhangSan", "wecom") == "Zh******"
    assert masking.mask_address("Li", "wecom") == "Li*"
    assert wecom_app.mask_userid is masking.mask_userid


def test_a_birth_date_is_hidden_in_every_spelling_and_other_dates_stay() -> None:
    text = "LD-19980707 / 1998年7月7日 / １９９８-０７-０７ / joined 2019-07-07"
    masked = mask_date(text, date(1998, 7, 7))
    assert masked == "LD-****-**-** / ****-**-** / ****-**-** / joined 2019-07-07"


@pytest.mark.parametrize(
    "text",
    [
        "010-1234567",  # the shortest landline: ten digits
        "(010)1234567",
        "０１０－１２３４５６７",
        "+86 10 1234 5678",
        "13812345678",
        "110101199003074514",
        "110101900307451",  # an old 15-digit ID number
    ],
)
def test_the_shortest_id_numbers_and_phones_are_masked_even_past_the_digit_count_shortcut(
    text: str,
) -> None:
    masked = mask_text(f"电话：{text}。")
    assert masked != f"电话：{text}。" and "*" in masked


@given(st.text(alphabet="0123456789０１２３-() +86年月日号@a.", max_size=40))
def test_the_digit_count_shortcut_masks_exactly_as_running_every_pattern(text: str) -> None:
    def every_pattern(value: str) -> str:
        folded = value.translate(masking._FOLD)
        for pattern, masked in masking._MASKS:
            value, folded = masking._substitute(value, folded, pattern, masked)
        return masking._EMAIL_LIKE.sub(lambda m: f"{m.group(1)}***{m.group(2)}", value)

    assert mask_text(text) == every_pattern(text)
