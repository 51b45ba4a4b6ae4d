"""`.env.example` names every setting liaison reads, and nothing it does not."""

from __future__ import annotations

import ast
import re
from pathlib import Path

from shared.settings import Settings, load_settings
from tests.deploy.layout import env_example_names, env_example_values

ROOT = Path(__file__).resolve().parents[2]
SETTING_NAME = re.compile(r"(LIAISON|TWILIO|ALIBABA_CLOUD)_[A-Z0-9_]+")


def names_read_from_the_environment() -> dict[str, str]:
    """Every LIAISON_*, TWILIO_* and ALIBABA_CLOUD_* string literal in the code, by name →
    the file reading it.

    Read from the source rather than from a run, because `load_settings` copies the
    environment into a plain dict (so a recording mapping would see nothing), and because
    settings read outside `shared/settings.py` must be listed too.
    """
    found: dict[str, str] = {}
    for path in sorted(
        [*ROOT.joinpath("shared").rglob("*.py"), *ROOT.joinpath("services").rglob("*.py")]
    ):
        for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
            if (
                isinstance(node, ast.Constant)
                and isinstance(node.value, str)
                and SETTING_NAME.fullmatch(node.value)
            ):
                found.setdefault(node.value, str(path.relative_to(ROOT)))
    return found


def test_every_setting_the_code_reads_is_named_in_env_example() -> None:
    missing = sorted(set(names_read_from_the_environment()) - set(env_example_names()))
    assert missing == []


def test_env_example_names_nothing_the_code_does_not_read() -> None:
    unknown = sorted(set(env_example_names()) - set(names_read_from_the_environment()))
    assert unknown == []


def test_env_example_names_each_setting_once() -> None:
    names = env_example_names()
    assert sorted(n for n in set(names) if names.count(n) > 1) == []


def test_the_example_values_parse_and_reach_the_settings_they_name() -> None:
    # A setting that differs from its default once the example is loaded proves that
    # load_settings reads the example's name for it; every example value must parse.
    example = env_example_values()
    settings = load_settings(example)
    default = load_settings({})
    changed = {
        f for f in Settings.__dataclass_fields__ if getattr(settings, f) != getattr(default, f)
    }
    assert changed >= {
        "database_url",
        "redis_url",
        "twilio_account_sid",
        "twilio_auth_token",
        "smtp_host",
        "smtp_password",
        "ops_email",
        "home",
    }


def test_env_example_holds_no_real_looking_secret() -> None:
    values = env_example_values()
    for name in ("TWILIO_AUTH_TOKEN", "LIAISON_SMTP_PASSWORD"):
        assert values[name].startswith("replace-with-"), name
    assert set(values["TWILIO_ACCOUNT_SID"][2:]) == {"x"}
