"""`python -m bot check` and `fake-api` as a user runs them: real processes, real HTTP."""

from __future__ import annotations

import asyncio
import io
import json
import os
import sys
from pathlib import Path

import pytest

from bot.check import EXIT_INCOMPLETE, EXIT_OK, EXIT_UNUSABLE, run_check
from bot.config import Settings
from bot.taskapi.fake import FAKE_PRIVATE_KEY, FAKE_PUBLIC_KEY, FakeTaskApi
from bot.testing.net import free_port


def settings_for(url: str) -> Settings:
    return Settings(
        _env_file=None,
        task_api_url=url,
        task_api_public_key=FAKE_PUBLIC_KEY,
        task_api_private_key=FAKE_PRIVATE_KEY,
        task_api_retries=0,
    )


async def test_table_and_exit_codes(fake_api: FakeTaskApi) -> None:
    out = io.StringIO()
    code = await run_check(settings_for(fake_api.url), ["ok-1", "nope-2"], "table", out)  # type: ignore[attr-defined]
    lines = out.getvalue().splitlines()
    assert lines[0].split() == ["UID", "TYPE", "STATUS", "ERROR", "PICTURES"]
    assert "Queuing" in lines[1]
    assert "not found" in lines[2]
    assert code == EXIT_INCOMPLETE
    out = io.StringIO()
    assert await run_check(settings_for(fake_api.url), ["ok-1"], "json", out) == EXIT_OK  # type: ignore[attr-defined]
    assert json.loads(out.getvalue())[0]["TaskUid"] == "ok-1"


async def test_blocks_output(fake_api: FakeTaskApi) -> None:
    out = io.StringIO()
    await run_check(settings_for(fake_api.url), ["err-1"], "blocks", out)  # type: ignore[attr-defined]
    payload = json.loads(out.getvalue())
    assert payload["text"] == "1 task: 1 Queuing"
    assert payload["blocks"][0]["type"] == "section"
    kinds = [b["type"] for b in payload["blocks"]]
    assert kinds[-2:] == ["context", "actions"]  # as posted: checked-at line and buttons


async def test_task_api_timeouts_and_5xx_are_task_trouble_not_settings(
    fake_api: FakeTaskApi, capsys: pytest.CaptureFixture[str]
) -> None:
    """An API that answers 5xx, or does not answer in time, is reachable and rightly set up:
    exit 1 with each failure on stderr, never 2 ("fix your settings")."""
    settings = settings_for(fake_api.url).model_copy(update={"task_api_timeout": 0.2})  # type: ignore[attr-defined]
    fake_api.faults.http_500 = 1
    assert await run_check(settings, ["ok-1"], "table", io.StringIO()) == EXIT_INCOMPLETE
    assert "HTTP 500" in capsys.readouterr().err
    fake_api.faults.latency = 5.0
    assert await run_check(settings, ["ok-1", "ok-2"], "table", io.StringIO()) == EXIT_INCOMPLETE
    err = capsys.readouterr().err
    assert "timed out" in err
    assert "unreachable" not in err


async def _run(*args: str, env: dict[str, str], cwd: Path) -> tuple[int, str, str]:
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bot",
        *args,
        env=env,
        cwd=cwd,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, err = await asyncio.wait_for(process.communicate(), 30)
    return int(process.returncode or 0), out.decode(), err.decode()


async def test_check_against_fake_api_process(tmp_path: Path) -> None:
    port = free_port()
    fake = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bot",
        "fake-api",
        "--ret-code-errors",
        "1",
        "--port",
        str(port),
        "--step",
        "0",
        stdout=asyncio.subprocess.PIPE,
    )
    try:
        assert fake.stdout is not None
        banner = (await asyncio.wait_for(fake.stdout.readline(), 20)).decode()
        assert f"127.0.0.1:{port}" in banner
        env = {
            **os.environ,
            "TASK_API_URL": f"http://127.0.0.1:{port}/",
            "TASK_API_PUBLIC_KEY": FAKE_PUBLIC_KEY,
            "TASK_API_PRIVATE_KEY": FAKE_PRIVATE_KEY,
        }
        code, _, err = await _run("check", "ok-1", env=env, cwd=tmp_path)
        assert code == EXIT_INCOMPLETE  # the injected RetCode error, not retried
        assert "RetCode 500" in err
        code, out, _ = await _run("check", "ok-1,err-2", env=env, cwd=tmp_path)
        assert code == EXIT_OK
        assert "Finished" in out
        assert "Error" in out
        assert "1001" in out
        code, _, err = await _run(
            "check", "ok-1", env={**env, "TASK_API_PRIVATE_KEY": "wrong-key"}, cwd=tmp_path
        )
        assert code == EXIT_UNUSABLE  # a settings fault, not a missing task
        assert "RetCode 172" in err
        assert "TASK_API_PRIVATE_KEY" in err
        assert "wrong-key" not in err
        code, _, err = await _run(
            "check",
            "ok-1",
            env={**env, "TASK_API_URL": f"http://127.0.0.1:{port}/v2/"},
            cwd=tmp_path,
        )
        assert code == EXIT_UNUSABLE
        assert "HTTP 404" in err
        assert "TASK_API_URL" in err
    finally:
        fake.terminate()
        await fake.wait()


@pytest.mark.parametrize(
    ("env", "args", "words"),
    [
        ({}, ["check", "ok-1"], "TASK_API_URL"),
        (
            {
                "TASK_API_URL": "http://127.0.0.1:9/",
                "TASK_API_PUBLIC_KEY": "p",
                "TASK_API_PRIVATE_KEY": "k",
                "TASK_API_RETRIES": "0",
            },
            ["check", "ok-1"],
            "unreachable",
        ),
        (
            {"TASK_API_URL": "http://x/", "TASK_API_PUBLIC_KEY": "p", "TASK_API_PRIVATE_KEY": "k"},
            ["check", "a/b"],
            "not task UIDs",
        ),
        (
            {"TASK_API_URL": "http://x/", "TASK_API_PUBLIC_KEY": "p", "TASK_API_PRIVATE_KEY": "k"},
            ["run"],
            "SLACK_BOT_TOKEN",
        ),
    ],
)
async def test_unusable_settings_exit_2(
    tmp_path: Path, env: dict[str, str], args: list[str], words: str
) -> None:
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("TASK_", "SLACK_"))}
    code, _, err = await _run(*args, env={**clean, **env}, cwd=tmp_path)
    assert code == 2
    assert words in err
    assert "docs/settings.md" in err or words != "TASK_API_URL"


async def test_output_cut_short_by_the_reader(fake_api: FakeTaskApi, tmp_path: Path) -> None:
    """`check ... | head`: the reader is gone before the table is written; no traceback."""
    read_end, write_end = os.pipe()
    os.close(read_end)  # like `head` that has already exited
    env = {
        **os.environ,
        "TASK_API_URL": fake_api.url,  # type: ignore[attr-defined]
        "TASK_API_PUBLIC_KEY": FAKE_PUBLIC_KEY,
        "TASK_API_PRIVATE_KEY": FAKE_PRIVATE_KEY,
    }
    for args in (["check", "ok-1"], ["check", "--blocks", "ok-1"]):
        process = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "bot",
            *args,
            env=env,
            cwd=tmp_path,
            stdout=write_end,
            stderr=asyncio.subprocess.PIPE,
        )
        _, err = await asyncio.wait_for(process.communicate(), 30)
        assert process.returncode == 141, err.decode()
        assert err.decode() == ""
    os.close(write_end)
