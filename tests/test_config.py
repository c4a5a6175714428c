from __future__ import annotations

from pathlib import Path

import pytest

from bot.config import Settings, SettingsError, load_settings, require, secret_values


def test_defaults_follow_design(monkeypatch: pytest.MonkeyPatch) -> None:
    settings = load_settings(env_file=None)
    assert settings.slack_api_url == "https://slack.com/api/"
    assert (settings.host, settings.port) == ("0.0.0.0", 3000)  # noqa: S104
    assert settings.task_api_timeout == 10
    assert settings.task_api_batch_size == 20
    assert settings.state_url == "sqlite:///./data/bot.sqlite3"
    assert (settings.log_level, settings.log_format) == ("INFO", "text")
    assert settings.mode == "http"


def test_every_bad_variable_is_named_without_its_value(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TASK_API_TIMEOUT", "-3")
    monkeypatch.setenv("PORT", "http")
    monkeypatch.setenv("STATE_URL", "postgres://user:hunter2@db/x")
    monkeypatch.setenv("TASK_UID_PATTERN", "([")
    with pytest.raises(SettingsError) as raised:
        load_settings(env_file=None)
    message = str(raised.value)
    for name in ("TASK_API_TIMEOUT", "PORT", "STATE_URL", "TASK_UID_PATTERN"):
        assert name in message
    assert "hunter2" not in message
    assert "docs/settings.md" in message
    assert (Path(__file__).resolve().parent.parent / "docs" / "settings.md").is_file()


def test_missing_settings_for_run_are_all_named() -> None:
    with pytest.raises(SettingsError) as raised:
        require(Settings(_env_file=None), "run")
    message = str(raised.value)
    for name in (
        "TASK_API_URL",
        "TASK_API_PUBLIC_KEY",
        "TASK_API_PRIVATE_KEY",
        "SLACK_BOT_TOKEN",
        "SLACK_SIGNING_SECRET",
    ):
        assert name in message


def test_socket_mode_needs_no_signing_secret() -> None:
    settings = Settings(
        _env_file=None,
        slack_bot_token="xoxb-1",
        slack_app_token="xapp-1",
        task_api_url="http://x/",
        task_api_public_key="p",
        task_api_private_key="k",
    )
    assert settings.mode == "socket"
    require(settings, "run")


def test_env_file_and_lists(
    tmp_path: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    env = tmp_path / ".env"  # type: ignore[operator]
    env.write_text("ALLOWED_EXTERNAL_TEAMS=T1, T2\nlog_level=debug\n")
    settings = load_settings(env_file=str(env))
    assert settings.allowed_external_teams == ["T1", "T2"]
    assert settings.log_level == "DEBUG"


def test_secrets_stay_out_of_reprs() -> None:
    settings = Settings(
        _env_file=None, slack_bot_token="xoxb-very-secret", task_api_private_key="pk-secret"
    )
    assert "xoxb-very-secret" not in repr(settings)
    assert "pk-secret" not in str(settings.model_dump())
    assert set(secret_values(settings)) == {"xoxb-very-secret", "pk-secret"}


def test_operating_settings(monkeypatch: pytest.MonkeyPatch) -> None:
    defaults = load_settings(env_file=None)
    assert defaults.metrics_port is None
    assert defaults.picture_allow_private is False
    assert defaults.lookup_uids_per_minute == 600
    monkeypatch.setenv("METRICS_PORT", "")  # left blank in .env: the main port
    assert load_settings(env_file=None).metrics_port is None
    monkeypatch.setenv("METRICS_PORT", "70000")
    monkeypatch.setenv("LOOKUP_UIDS_PER_MINUTE", "-1")
    with pytest.raises(SettingsError) as raised:
        load_settings(env_file=None)
    assert "METRICS_PORT" in str(raised.value)
    assert "LOOKUP_UIDS_PER_MINUTE" in str(raised.value)


def test_the_store_size_sampler_waits_at_least_five_seconds(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Each sample scans the store: 0.001 s would scan it almost without pause."""
    assert load_settings(env_file=None).store_size_interval == 60
    monkeypatch.setenv("STORE_SIZE_INTERVAL", "5")
    assert load_settings(env_file=None).store_size_interval == 5
    for too_short in ("4.9", "0.001", "0", "-1"):
        monkeypatch.setenv("STORE_SIZE_INTERVAL", too_short)
        with pytest.raises(SettingsError) as raised:
            load_settings(env_file=None)
        assert "STORE_SIZE_INTERVAL" in str(raised.value)


@pytest.mark.parametrize(
    "url", ["redis+cluster://10.0.0.5:7000", "rediss+cluster://node.example:6380", "rediss://r:1"]
)
def test_a_redis_cluster_state_url_is_accepted(monkeypatch: pytest.MonkeyPatch, url: str) -> None:
    monkeypatch.setenv("STATE_URL", url)
    assert load_settings(env_file=None).state_url == url
