"""Fuzz: whatever a phone sends, the reply parser answers a Reply, never an exception."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from services.web.replies import MAX_TASK_NUMBER, Reply, parse_reply

texts = st.one_of(
    st.text(max_size=160),
    st.lists(
        st.sampled_from(["1", "３", "999", "1000", "0", "-1", ",", "，", "、", " ", "　", "完成",
                         "DONE", "TD", "退订", "STOP", "订阅", "\x00", "٣", "½", "①", "😀"]),
        max_size=12,
    ).map("".join),
)  # fmt: skip


@settings(max_examples=2_000, deadline=None)
@given(body=texts)
def test_any_sms_body_parses_to_a_reply_with_plausible_task_numbers(body: str) -> None:
    reply = parse_reply(body)
    assert isinstance(reply, Reply)
    assert reply.kind in {"opt_out", "opt_in", "done", "unknown"}
    if reply.kind == "done":
        assert reply.numbers
        assert all(1 <= n <= MAX_TASK_NUMBER for n in reply.numbers)
        assert len(set(reply.numbers)) == len(reply.numbers)
    else:
        assert reply.numbers == ()
