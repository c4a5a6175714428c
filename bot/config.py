"""Settings, read from the environment and `.env`, built by a factory and passed in."""

from __future__ import annotations

import base64
import re
from typing import Annotated, Literal

from pydantic import Field, SecretStr, ValidationError, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

README_HINT = "Every setting is described in docs/settings.md."

Seconds = Annotated[float, Field(gt=0)]


class SettingsError(Exception):
    """Start-up cannot go on; the message names every bad variable and never a value."""


class Settings(BaseSettings):
    """Every knob of the bot. Secrets are `SecretStr`: they never show in reprs or logs."""

    model_config = SettingsConfigDict(
        env_file=".env",
        env_file_encoding="utf-8",
        extra="ignore",
        hide_input_in_errors=True,
        env_ignore_empty=True,  # `NAME=` left blank in .env counts as unset, not as ""
    )

    slack_bot_token: SecretStr | None = None
    slack_signing_secret: SecretStr | None = None
    slack_app_token: SecretStr | None = None
    slack_api_url: str = "https://slack.com/api/"
    bot_mode: Literal["socket", "http"] | None = None
    host: str = "0.0.0.0"  # noqa: S104 - a server in a container listens on all interfaces
    port: int = Field(3000, ge=1, le=65535)
    metrics_port: int | None = Field(None, ge=1, le=65535)

    task_api_url: str | None = None
    task_api_public_key: SecretStr | None = None
    task_api_private_key: SecretStr | None = None
    task_api_timeout: Seconds = 10.0
    task_api_batch_size: int = Field(20, ge=1, le=500)
    task_api_concurrency: int = Field(4, ge=1, le=64)
    task_api_retries: int = Field(2, ge=0, le=10)
    task_api_max_response_bytes: int = Field(5_000_000, ge=1024)
    task_cache_size: int = Field(10_000, ge=0)
    task_cache_ttl: Seconds = 3600.0
    task_uid_pattern: str | None = None
    lookup_uids_per_minute: int = Field(600, ge=0)

    state_url: str = "sqlite:///./data/bot.sqlite3"
    state_retention: Seconds = 7 * 86_400.0
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"
    log_format: Literal["text", "json"] = "text"

    slash_response_type: Literal["in_channel", "ephemeral"] = "in_channel"
    allowed_external_teams: Annotated[list[str], NoDecode] = Field(default_factory=list)
    shutdown_grace: Seconds = 8.0  # inside Docker's 10 s stop timeout

    watch_poll_interval: Seconds = 15.0
    watch_max_duration: Seconds = 86_400.0
    watch_max_uids: int = Field(50, ge=1, le=500)
    watch_max_per_user: int = Field(10, ge=1)
    watch_updates_per_minute: int = Field(40, ge=1)
    watch_heartbeat: Seconds = 300.0
    watch_upload_pictures: bool = True
    watch_upload_max_files: int = Field(4, ge=0, le=10)
    watch_upload_max_bytes: int = Field(5_000_000, ge=1)
    picture_allow_private: bool = False

    follow_max_per_minute: int = Field(20, ge=1)
    # Seconds an answer may spend waiting out Slack's limits and errors (a time, not a count).
    slack_retry_patience: Seconds = 60.0

    # Lifecycle: seconds the HTTP front keeps answering 503 after SIGTERM, even with nothing
    # in flight, so a load balancer sees the 503 before the listener goes (capped by
    # SHUTDOWN_GRACE; 0: close once the drain is done); seconds between samples of the
    # store's size for /metrics, so a scrape never scans the store.
    shutdown_drain: float = Field(3.0, ge=0)
    # At least 5 s: each sample scans the store, and a shorter interval would scan it
    # almost without pause, for a gauge scraped every 15 s or more.
    store_size_interval: float = Field(60.0, ge=5)

    # Completion notices: thread reads that look for a notice before it is sent again.
    watch_thread_reads_per_minute: int = Field(1, ge=1)

    # Many workspaces: OAuth mode is on when a client id is set (see docs/distribution.md).
    slack_client_id: str | None = None
    slack_client_secret: SecretStr | None = None
    # Fernet keys, comma-separated: the first encrypts, every one decrypts (key rotation).
    secrets_key: SecretStr | None = None

    # Link unfurls: the task page template (`{uid}` stands for the task) and Work Objects.
    task_link_url: str | None = None
    unfurl_work_objects: bool = False

    @field_validator("log_level", mode="before")
    @classmethod
    def _upper(cls, value: object) -> object:
        return value.upper() if isinstance(value, str) else value

    @field_validator("metrics_port", mode="before")
    @classmethod
    def _blank_is_unset(cls, value: object) -> object:
        return None if isinstance(value, str) and not value.strip() else value

    @field_validator("allowed_external_teams", mode="before")
    @classmethod
    def _split(cls, value: object) -> object:
        if isinstance(value, str):
            return [part for part in re.split(r"[\s,]+", value) if part]
        return value

    @field_validator("task_api_url", "slack_api_url")
    @classmethod
    def _http_url(cls, value: str | None) -> str | None:
        if value is not None and not re.match(r"^https?://[^\s/]+", value):
            raise ValueError("must be an http(s) URL")
        return value

    @field_validator("task_link_url")
    @classmethod
    def _link_template(cls, value: str | None) -> str | None:
        if value is None:
            return None
        if not re.match(r"^https?://[^\s/]+", value) or value.count("{uid}") != 1:
            raise ValueError("must be an http(s) URL with {uid} once")
        if re.search(r"[{}]", value.replace("{uid}", "")):
            raise ValueError("may hold no brace but the one {uid}")
        return value

    @field_validator("secrets_key")
    @classmethod
    def _fernet_keys(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None and not fernet_keys_valid(value.get_secret_value()):
            raise ValueError("must be Fernet keys (url-safe base64 of 32 bytes), comma-separated")
        return value

    @field_validator("state_url")
    @classmethod
    def _state_url(cls, value: str) -> str:
        schemes = ("sqlite:///", "redis://", "rediss://", "redis+cluster://", "rediss+cluster://")
        if not value.startswith(schemes):
            raise ValueError("must start with sqlite:///, redis:// or redis+cluster://")
        return value

    @field_validator("task_uid_pattern")
    @classmethod
    def _regex(cls, value: str | None) -> str | None:
        if value:
            try:
                re.compile(value)
            except re.error as exc:
                raise ValueError(f"not a valid regular expression ({exc.msg})") from None
        return value or None

    @property
    def oauth(self) -> bool:
        """Many workspaces install the app (OAuth) rather than one bot token serving one."""
        return bool(self.slack_client_id)

    @property
    def mode(self) -> Literal["socket", "http"]:
        """Socket Mode when an app token is set, unless `BOT_MODE` forces one."""
        if self.bot_mode:
            return self.bot_mode
        return "socket" if self.slack_app_token else "http"


def load_settings(env_file: str | None = ".env") -> Settings:
    """Read settings, turning pydantic's report into one message that names variables only."""
    try:
        return Settings(_env_file=env_file)
    except ValidationError as exc:
        lines = [
            f"  {str(err['loc'][0]).upper()}: {err['msg']}" for err in exc.errors() if err["loc"]
        ]
        raise SettingsError("Invalid settings:\n" + "\n".join(lines) + "\n" + README_HINT) from None


def require(settings: Settings, purpose: Literal["check", "run"]) -> None:
    """Stop with one message naming every variable that `purpose` needs and lacks.

    A value still as `.env.example` has it (`xoxb-...`) is as good as missing.
    """
    needed = ["TASK_API_URL"]
    if not (purpose == "run" and settings.oauth):
        # In OAuth mode each workspace connects its own account; these only serve the rest.
        needed += ["TASK_API_PUBLIC_KEY", "TASK_API_PRIVATE_KEY"]
    if purpose == "run" and settings.oauth:
        needed += ["SLACK_CLIENT_SECRET", "SECRETS_KEY"]
    elif purpose == "run":
        needed.append("SLACK_BOT_TOKEN")
    if purpose == "run":
        needed.append("SLACK_SIGNING_SECRET" if settings.mode == "http" else "SLACK_APP_TOKEN")
    notes = {
        "SLACK_SIGNING_SECRET": " (HTTP mode; or set SLACK_APP_TOKEN for Socket Mode)",
        "SLACK_APP_TOKEN": " (BOT_MODE=socket)",
        "SLACK_CLIENT_SECRET": " (OAuth mode: SLACK_CLIENT_ID is set)",
        "SECRETS_KEY": " (OAuth mode: SLACK_CLIENT_ID is set)",
    }
    missing = []
    for name in needed:
        value = getattr(settings, name.lower())
        if value is None:
            missing.append(name + notes.get(name, ""))
        elif isinstance(value, SecretStr) and value.get_secret_value().strip().endswith("..."):
            missing.append(name + " (still the example value from .env.example)")
    if missing:
        raise SettingsError(
            "Missing settings:\n" + "\n".join(f"  {name}" for name in missing) + "\n" + README_HINT
        )


def secret_values(settings: Settings) -> list[str]:
    """Every secret's plain value, so the log filter can blank it wherever it shows up."""
    secrets = (
        settings.slack_bot_token,
        settings.slack_signing_secret,
        settings.slack_app_token,
        settings.task_api_private_key,
        settings.slack_client_secret,
    )
    keys = settings.secrets_key.get_secret_value().split(",") if settings.secrets_key else []
    plain = [s.get_secret_value() for s in secrets if s is not None and s.get_secret_value()]
    return plain + [k.strip() for k in keys if k.strip()]


def fernet_keys_valid(value: str) -> bool:
    """Each comma-separated part decodes to the 32 bytes a Fernet key is."""
    parts = [p.strip() for p in value.split(",")]
    try:
        return bool(parts) and all(len(base64.urlsafe_b64decode(p)) == 32 for p in parts if p)
    except (ValueError, TypeError):
        return False
