"""A real `python -m bot` process for start-up and shutdown tests, with its stderr kept."""

from __future__ import annotations

import asyncio
import os
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

from bot.taskapi.fake import FAKE_PRIVATE_KEY, FAKE_PUBLIC_KEY
from bot.testing.fake_slack import FakeSlack
from tests.slack_harness import SIGNING_SECRET


def clean_env() -> dict[str, str]:
    """This machine's environment without any of the bot's settings."""
    prefixes = ("TASK_", "SLACK_", "WATCH_", "STATE_URL", "BOT_MODE", "SHUTDOWN_", "LOG_")
    return {k: v for k, v in os.environ.items() if not k.startswith(prefixes)}


def good_env(slack: FakeSlack, api_url: str, tmp_path: Path, port: int) -> dict[str, str]:
    """Settings that start an HTTP-mode bot against the fakes."""
    return {
        **clean_env(),
        "SLACK_BOT_TOKEN": "xoxb-good-token",
        "SLACK_SIGNING_SECRET": SIGNING_SECRET,
        "SLACK_API_URL": slack.base_url + "api/",
        "TASK_API_URL": api_url,
        "TASK_API_PUBLIC_KEY": FAKE_PUBLIC_KEY,
        "TASK_API_PRIVATE_KEY": FAKE_PRIVATE_KEY,
        "STATE_URL": f"sqlite:///{tmp_path}/state.sqlite3",
        "HOST": "127.0.0.1",
        "PORT": str(port),
    }


@dataclass
class BotProcess:
    process: asyncio.subprocess.Process
    started: float
    lines: list[str] = field(default_factory=list)

    @classmethod
    async def start(cls, env: dict[str, str], cwd: Path, *args: str) -> BotProcess:
        process = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "bot", *args, env=env, cwd=cwd, stderr=asyncio.subprocess.PIPE
        )
        return cls(process, time.monotonic())

    async def wait_for_line(self, words: str, timeout: float = 20.0) -> str:
        """Read stderr until a line with `words`; fails if the process exits first."""
        assert self.process.stderr is not None
        while True:
            raw = await asyncio.wait_for(self.process.stderr.readline(), timeout)
            line = raw.decode()
            assert line, "bot exited early: " + "".join(self.lines)
            self.lines.append(line)
            if words in line:
                return line

    async def finish(self, timeout: float = 20.0) -> tuple[int, str, float]:
        """Exit status, all of stderr, and seconds since start."""
        assert self.process.stderr is not None
        rest = await asyncio.wait_for(self.process.stderr.read(), timeout)
        code = await asyncio.wait_for(self.process.wait(), timeout)
        return code, "".join(self.lines) + rest.decode(), time.monotonic() - self.started
