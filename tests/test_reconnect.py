"""Socket Mode reconnects space out while Slack stays unreachable, and reset once it answers."""

from __future__ import annotations

import asyncio

import pytest

from bot.slack.front.reconnect import MAX_DELAY, BackoffReconnect, reconnect_delay


def test_delays_double_up_to_a_ceiling_with_jitter() -> None:
    assert reconnect_delay(0) == 0.0
    for failures, ceiling in [(1, 1.0), (2, 2.0), (3, 4.0), (4, 8.0), (30, MAX_DELAY)]:
        delays = [reconnect_delay(failures) for _ in range(200)]
        assert all(ceiling / 2 <= d <= ceiling for d in delays)
        assert len(set(delays)) > 1  # jittered: a fleet does not retry in step


class Unreachable:
    """Stands for slack_sdk's client: `apps.connections.open` fails `failing` times."""

    def __init__(self, failing: int) -> None:
        self.failing = failing
        self.attempts: list[float] = []

    async def issue_new_wss_url(self) -> str:
        self.attempts.append(asyncio.get_running_loop().time())
        if self.failing:
            self.failing -= 1
            raise ConnectionError("Slack unreachable")
        return "wss://example/socket"


class Client(BackoffReconnect, Unreachable):
    first_reconnect_delay = 0.05


async def test_each_failure_waits_longer_and_success_resets() -> None:
    client = Client(failing=3)
    for _ in range(3):
        with pytest.raises(ConnectionError):
            await client.issue_new_wss_url()
    assert await client.issue_new_wss_url() == "wss://example/socket"
    gaps = [b - a for a, b in zip(client.attempts, client.attempts[1:], strict=False)]
    for gap, ceiling in zip(gaps, [0.05, 0.1, 0.2], strict=True):  # 1x, 2x, 4x the first
        assert ceiling / 2 <= gap < ceiling + 0.05, gaps
    start = asyncio.get_running_loop().time()
    await client.issue_new_wss_url()  # after a success: no wait
    assert asyncio.get_running_loop().time() - start < 0.05
