"""The catalogue of words the human formats print, and how the language is chosen."""

from __future__ import annotations

from pathlib import Path

import jinja2
import pytest
import typer

from services.cli.labels import LANGS, RULES, SENTENCES, WORDS, default_lang, parse_lang
from shared.rule_defaults import DEFAULT_RULES

TEMPLATES = Path(__file__).parents[3] / "services" / "notifier" / "templates"


@pytest.mark.parametrize("lang", LANGS)
def test_the_rule_names_are_the_ones_the_reminders_use(lang: str) -> None:
    env = jinja2.Environment(loader=jinja2.FileSystemLoader(TEMPLATES), autoescape=False)
    module = env.get_template(f"_labels.{lang}.j2").module
    assert {code: names[lang] for code, names in RULES.items()} == module.rule_labels  # type: ignore[attr-defined,index]


def test_every_shipped_rule_has_a_name_in_every_language() -> None:
    shipped = {rule["name"] for rule in DEFAULT_RULES}
    assert shipped <= set(RULES)
    for table in (RULES, WORDS, SENTENCES):
        assert all(set(names) == set(LANGS) for names in table.values())


@pytest.mark.parametrize(
    ("environ", "lang"),
    [
        ({}, "zh-CN"),
        ({"LANG": "C.UTF-8"}, "zh-CN"),
        ({"LANG": "en_US.UTF-8"}, "en"),
        ({"LANG": "zh_CN.UTF-8"}, "zh-CN"),
        ({"LANG": "en_US.UTF-8", "LC_ALL": "zh_CN.UTF-8"}, "zh-CN"),
        ({"LANG": "zh_CN.UTF-8", "LIAISON_LANG": "en"}, "en"),
    ],
)
def test_the_language_comes_from_liaison_lang_then_the_locale_then_chinese(
    environ: dict[str, str], lang: str
) -> None:
    assert default_lang(environ) == lang


def test_an_unknown_language_is_refused_with_the_choices() -> None:
    with pytest.raises(typer.BadParameter, match="zh-CN or en"):
        parse_lang("fr")
    with pytest.raises(typer.BadParameter) as refused:
        default_lang({"LIAISON_LANG": "klingon"})
    assert "LIAISON_LANG" in refused.value.format_message()
