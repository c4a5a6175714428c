"""Start-up through a real `python -m bot`: every bad setting exits 2, fast, with one message.

And SIGTERM is honoured in every state: while a start-up step waits on the network, and
while Socket Mode is reconnecting.
"""

from __future__ import annotations

import asyncio
import shutil
import signal
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from pytest_aiohttp import AiohttpServer

from bot.taskapi.fake import FakeTaskApi
from bot.testing.fake_slack import FakeSlack
from bot.testing.net import free_port
from tests.bot_process import BotProcess, clean_env, good_env
from tests.slack_harness import start_fakes
from tests.test_lifecycle import stored_watch

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture
async def fakes(aiohttp_server: AiohttpServer) -> tuple[FakeSlack, str]:
    slack, api_url = await start_fakes(aiohttp_server, FakeTaskApi(step=0.0))
    slack.rejected_tokens = {"xoxb-bad-token-value", "xapp-bad-token-value"}
    return slack, api_url


@pytest.fixture
async def silent_server() -> AsyncIterator[int]:
    """A port that accepts connections and never answers: Slack behind a dropping firewall."""
    held: list[asyncio.StreamWriter] = []

    async def hold(_: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        held.append(writer)

    server = await asyncio.start_server(hold, "127.0.0.1", 0)
    yield int(server.sockets[0].getsockname()[1])
    for writer in held:
        writer.close()
    server.close()


# (settings changed from a good HTTP-mode configuration, words the one message must have)
CASES: dict[str, tuple[dict[str, str], str]] = {
    "empty bot token": ({"SLACK_BOT_TOKEN": ""}, "SLACK_BOT_TOKEN"),
    "rejected bot token": (
        {"SLACK_BOT_TOKEN": "xoxb-bad-token-value"},
        "SLACK_BOT_TOKEN was rejected by Slack (invalid_auth)",
    ),
    "placeholder app token": (
        {"SLACK_APP_TOKEN": "xapp-..."},
        "SLACK_APP_TOKEN (still the example value",
    ),
    "rejected app token": (
        {"SLACK_APP_TOKEN": "xapp-bad-token-value"},
        "SLACK_APP_TOKEN was rejected by Slack (invalid_auth)",
    ),
    "socket mode without app token": ({"BOT_MODE": "socket"}, "SLACK_APP_TOKEN (BOT_MODE=socket)"),
    "empty signing secret": ({"SLACK_SIGNING_SECRET": ""}, "SLACK_SIGNING_SECRET (HTTP mode"),
    "missing task API keys": ({"TASK_API_PRIVATE_KEY": ""}, "TASK_API_PRIVATE_KEY"),
    "bad value": ({"PORT": "http"}, "PORT: Input should be a valid integer"),
    "unreachable redis": ({"STATE_URL": "redis://127.0.0.1:{free}/0"}, "STATE_URL: Connection"),
    "unwritable sqlite": ({"STATE_URL": "sqlite:///{file}/state.sqlite3"}, "STATE_URL:"),
    "unreachable Slack": (
        {"SLACK_API_URL": "http://127.0.0.1:{free}/api/"},
        "Slack API (auth.test): ClientConnectorError",
    ),
    "port in use": ({"PORT": "{silent}"}, "address already in use). Set PORT to a free port"),
    "address of another machine": (  # documentation range: bound to, never sent to
        {"HOST": "192.0.2.1"},
        "cannot assign requested address). Set HOST to an address of this machine",
    ),
    "silent Slack": (
        {"SLACK_API_URL": "http://127.0.0.1:{silent}/api/"},
        "Slack API (auth.test): no answer within 5s",
    ),
}


@pytest.mark.parametrize("case", list(CASES))
async def test_bad_setting_exits_2_with_one_message(
    case: str, fakes: tuple[FakeSlack, str], tmp_path: Path, silent_server: int
) -> None:
    changes, words = CASES[case]
    blocker = tmp_path / "a-file"
    blocker.write_text("not a directory")
    slots: dict[str, Any] = {"free": free_port(), "file": blocker, "silent": silent_server}
    env = good_env(*fakes, tmp_path, free_port())
    env.update({name: value.format(**slots) for name, value in changes.items()})
    code, err, seconds = await (await BotProcess.start(env, tmp_path)).finish()
    assert code == 2, err
    assert_one_message(err, words)
    # A few seconds, most of them Python's imports (slower on a busy two-core machine);
    # the silent case also waits out the 5 s step timeout.
    assert seconds < (14.0 if case == "silent Slack" else 10.0), seconds
    assert "bad-token-value" not in err  # never the token's value


def assert_one_message(err: str, words: str) -> None:
    assert words in err, err
    assert err.startswith("error: "), err
    assert err.count("error: ") == 1, err
    assert "Traceback" not in err, err
    assert " INFO " not in err, err  # no log noise around the message
    assert "README" in err or "Check" in err or "set it" in err or ":" in err


async def test_unfilled_env_file_from_the_example(tmp_path: Path) -> None:
    """`cp .env.example .env` then run, before filling it in: one message, every name."""
    shutil.copy(ROOT / ".env.example", tmp_path / ".env")
    code, err, seconds = await (await BotProcess.start(clean_env(), tmp_path)).finish()
    assert code == 2
    for name in ("TASK_API_URL", "TASK_API_PUBLIC_KEY", "TASK_API_PRIVATE_KEY"):
        assert f"  {name}\n" in err
    assert "SLACK_BOT_TOKEN (still the example value from .env.example)" in err
    assert "SLACK_SIGNING_SECRET (HTTP mode" in err  # the example does not turn Socket Mode on
    assert_one_message(err, "Missing settings")
    assert seconds < 10.0


async def test_sigterm_during_a_start_up_step(
    fakes: tuple[FakeSlack, str], tmp_path: Path, silent_server: int
) -> None:
    env = good_env(*fakes, tmp_path, free_port())
    env.update(SLACK_API_URL=f"http://127.0.0.1:{silent_server}/api/", LOG_LEVEL="DEBUG")
    bot = await BotProcess.start(env, tmp_path)
    await bot.wait_for_line("start-up: Slack API")
    sent = time.monotonic()
    bot.process.send_signal(signal.SIGTERM)
    code, err, _ = await bot.finish()
    assert code == 0, err
    assert time.monotonic() - sent < 2.0
    assert "stopped during start-up" in err


async def test_sigterm_while_socket_mode_reconnects(
    fakes: tuple[FakeSlack, str], tmp_path: Path
) -> None:
    slack, api_url = fakes
    port = free_port()
    env = good_env(slack, api_url, tmp_path, port)
    env.update(SLACK_APP_TOKEN="xapp-good", SHUTDOWN_GRACE="2")
    bot = await BotProcess.start(env, tmp_path)
    await bot.wait_for_line("connected to Slack in Socket Mode")
    ready = await probe(port)
    assert ready == (200, [])
    slack.fail("apps.connections.open", "internal_error", times=10_000)
    await slack.drop_sockets()
    assert await wait_probe(port, lambda failed: "slack" in failed) == ["slack"]
    sent = time.monotonic()
    bot.process.send_signal(signal.SIGTERM)
    code, err, _ = await bot.finish()
    assert code == 0, err
    assert time.monotonic() - sent < 2.0 + 1.5  # SHUTDOWN_GRACE and little more


async def probe(port: int) -> tuple[int, list[str]]:
    async with (
        aiohttp.ClientSession() as session,
        session.get(f"http://127.0.0.1:{port}/readyz") as resp,
    ):
        return resp.status, list((await resp.json())["failed"])


async def wait_probe(port: int, until: Any, timeout: float = 10.0) -> list[str]:
    """Poll `/readyz` of another process (nothing to await there) until `until(failed)`."""
    deadline = time.monotonic() + timeout
    while True:
        status, failed = await probe(port)
        if until(failed):
            assert status == 503
            return failed
        assert time.monotonic() < deadline, failed
        await asyncio.sleep(0.05)


async def test_a_websocket_that_cannot_be_opened_stops_start_up(
    fakes: tuple[FakeSlack, str], tmp_path: Path
) -> None:
    """The token is good but the websocket is refused (a proxy that blocks wss://): exit 2
    with one message, not a traceback every 5 s for ever."""
    slack, api_url = fakes
    slack.refuse_sockets = True
    await stored_watch(tmp_path / "state.sqlite3")  # finished upstream: a tick would end it
    env = good_env(slack, api_url, tmp_path, free_port())
    env.update(SLACK_APP_TOKEN="xapp-good", WATCH_POLL_INTERVAL="0.05")
    code, err, seconds = await (await BotProcess.start(env, tmp_path)).finish(timeout=30)
    assert code == 2, err
    # Not connected, not started: the stored watch was neither polled, edited nor notified.
    assert not {"chat.update", "chat.postMessage"} & {c.method for c in slack.calls}
    assert "Traceback" not in err, err
    assert "ticket" not in err  # the URL's one-time ticket is never logged
    assert err.count("error: ") == 1, err
    assert "error: Slack Socket Mode: no websocket connection within 10s" in err, err
    assert seconds < 20.0, seconds
