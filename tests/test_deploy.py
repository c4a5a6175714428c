"""The container files agree with the bot: probes on the right paths, stop timeouts that fit."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import yaml

from bot.config import Settings

ROOT = Path(__file__).resolve().parent.parent


def compose() -> dict[str, Any]:
    loaded: dict[str, Any] = yaml.safe_load((ROOT / "compose.yaml").read_text())
    return loaded


def seconds(value: str) -> float:
    match = re.fullmatch(r"(\d+)s", value)
    assert match, value
    return float(match.group(1))


def test_compose_runs_two_replicas_on_redis_with_liveness_probes() -> None:
    services = compose()["services"]
    bot = services["bot"]
    assert bot["deploy"]["replicas"] == 2
    assert bot["environment"]["STATE_URL"].startswith("redis://redis:")
    assert bot["depends_on"]["redis"]["condition"] == "service_healthy"
    assert "/healthz" in " ".join(bot["healthcheck"]["test"])
    assert "redis-cli" in services["redis"]["healthcheck"]["test"]
    grace = Settings.model_fields["shutdown_grace"].default
    assert seconds(bot["stop_grace_period"]) >= grace + 1  # the drain ends before SIGKILL


def test_image_probes_liveness_and_fits_dockers_stop_timeout() -> None:
    dockerfile = (ROOT / "Dockerfile").read_text()
    [healthcheck] = [line for line in dockerfile.splitlines() if "urlopen(" in line]
    assert "/healthz" in healthcheck
    assert Settings.model_fields["shutdown_grace"].default <= 10 - 1  # `docker stop`: 10 s
    assert "mkdir -p /home/bot/data" in dockerfile  # the volume path exists, owned by the user
    assert 'VOLUME ["/home/bot/data"]' in dockerfile
