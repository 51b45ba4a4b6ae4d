"""Fuzz: hostile data and hostile operator templates end in TemplateError or a message."""

from __future__ import annotations

import itertools
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from services.notifier.rendering import RenderedMessage, TemplateError, render_message

FUZZ = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
KINDS = ("liaison_digest", "event_reminder", "political_birthday", "branch_escalation")
FIELDS = ("member_name", "years", "org_name", "liaison_name", "tasks", "event", "title",
          "starts_at", "place", "branch", "count", "items", "due", "kind", "name")  # fmt: skip

scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.floats(),
    st.text(max_size=40),
    st.sampled_from(["<script>alert(1)</script>", "{{ 7*7 }}", "2026-02-30", "\x00", "🙂" * 30]),
)
values = st.recursive(
    scalars,
    lambda inner: st.one_of(
        st.lists(inner, max_size=5), st.dictionaries(st.sampled_from(FIELDS), inner, max_size=5)
    ),
    max_leaves=20,
)


def check(rendered: RenderedMessage) -> None:
    assert isinstance(rendered.text, str)
    if rendered.html is not None:
        assert "<script>" not in rendered.html  # HTML parts are autoescaped


@FUZZ
@given(
    kind=st.sampled_from((*KINDS, "", "../etc/passwd", "no_such_kind")),
    channel=st.sampled_from(("sms", "email", "fax")),
    locale=st.sampled_from(("zh-CN", "en", "fr", "", "../../x")),
    data=st.dictionaries(st.sampled_from(FIELDS), values, max_size=8),
    budget=st.integers(min_value=-1, max_value=8),
)
def test_hostile_data_renders_or_raises_template_error(
    kind: str, channel: str, locale: str, data: dict[str, Any], budget: int
) -> None:
    try:
        rendered = render_message(kind, channel, locale, data, sms_segment_budget=budget)
    except TemplateError:
        return
    check(rendered)


hostile_templates = st.one_of(
    st.text(max_size=80),
    st.sampled_from([
        "{{ ''.__class__.__mro__[1].__subclasses__() }}",
        "{{ member_name.__init__.__globals__ }}",
        "{% for x in range(10**9) %}{{ x }}{% endfor %}",
        "{{ cycler.__init__.__globals__.os.popen('id').read() }}",
        "{% include '/etc/passwd' %}",
        "{% extends '../../../../etc/passwd' %}",
        "{{ 1/0 }}", "{{ undefined_name }}", "{% if %}", "{{ member_name|no_such_filter }}",
        "{{ lipsum.__globals__ }}", "{% raw %}", "{{ member_name * 3 }}",
        "{% macro m() %}{{ m() }}{% endmacro %}{{ m() }}",
    ]),
)  # fmt: skip
_dirs = itertools.count()


@FUZZ
@given(
    kind=st.sampled_from(KINDS[2:]),
    locale=st.sampled_from(("zh-CN", "en")),
    body=hostile_templates,
)
def test_hostile_override_templates_render_in_the_sandbox_or_raise_template_error(
    tmp_path_factory: Any, kind: str, locale: str, body: str
) -> None:
    # A fresh directory per example: the renderer caches environments by directory.
    directory = Path(tmp_path_factory.mktemp(f"overrides{next(_dirs)}"))
    (directory / f"{kind}.sms.{locale}.j2").write_text(body, encoding="utf-8")
    data = {"member_name": "Wang Fang", "years": 12, "org_name": "Hongqi Branch"}
    try:
        rendered = render_message(kind, "sms", locale, data, overrides_dir=directory)
    except TemplateError:
        return
    check(rendered)
    assert "root:" not in rendered.text  # nothing read from the host's files
