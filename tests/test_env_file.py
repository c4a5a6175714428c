""".env.example read the way `docker run --env-file` reads it, then loaded as settings.

Docker keeps everything after the first `=` as the value (quotes and `# comments`
included), so an inline comment that python-dotenv would drop breaks a container.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest

from bot.config import Settings, SettingsError, load_settings, require

EXAMPLE = Path(__file__).resolve().parent.parent / ".env.example"
ASSIGNMENT = re.compile(r"^# ?([A-Z][A-Z0-9_]*=.*)$")


def docker_env_file(text: str) -> dict[str, str]:
    """Docker's `--env-file` rules: leading blanks trimmed, `#` lines and blank lines
    skipped, the name must have no blanks, the value is the rest of the line as is."""
    values: dict[str, str] = {}
    for line in text.splitlines():
        line = line.lstrip()
        if not line or line.startswith("#"):
            continue
        name, has_value, value = line.partition("=")
        assert has_value, f"{name}: no '=' (Docker would take the host's value)"
        assert name, "a line with no variable name"
        assert not re.search(r"\s", name), f"bad variable name {name!r}"
        values[name] = value
    return values


def uncommented(text: str) -> str:
    """The example with every optional `# NAME=value` line switched on, as an operator does."""
    return "\n".join(ASSIGNMENT.sub(r"\1", line) for line in text.splitlines())


def settings_from(values: dict[str, str], monkeypatch: pytest.MonkeyPatch) -> Settings:
    for name in list(os.environ):
        if name.lower() in Settings.model_fields:
            monkeypatch.delenv(name)
    for name, value in values.items():
        monkeypatch.setenv(name, value)
    return load_settings(env_file=None)


def test_example_as_shipped_loads_and_names_what_to_fill(monkeypatch: pytest.MonkeyPatch) -> None:
    values = docker_env_file(EXAMPLE.read_text())
    assert "SLACK_APP_TOKEN" not in values  # the placeholder does not turn Socket Mode on
    settings = settings_from(values, monkeypatch)
    assert settings.mode == "http"
    assert settings.task_api_url is None  # blank counts as unset
    with pytest.raises(SettingsError) as caught:
        require(settings, "run")
    for name in ("TASK_API_URL", "SLACK_BOT_TOKEN (still the example", "SLACK_SIGNING_SECRET"):
        assert name in str(caught.value)


def test_every_optional_line_switched_on_still_loads(monkeypatch: pytest.MonkeyPatch) -> None:
    values = docker_env_file(uncommented(EXAMPLE.read_text()))
    assert len(values) >= len(Settings.model_fields) - 1  # every setting is in the example
    for name, value in values.items():
        assert "#" not in value, f"{name}: a comment after the value would become part of it"
    values["SLACK_APP_TOKEN"] = "xapp-1-real"  # the one example value that must be replaced
    settings = settings_from(values, monkeypatch)
    assert settings.log_format == "text"
    assert settings.shutdown_grace == 8.0
    assert settings.state_url == "sqlite:///./data/bot.sqlite3"
    assert settings.mode == "http"  # BOT_MODE=http, as the example shows it
