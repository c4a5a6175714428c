"""The README's "Try it without Slack" commands, run as written on a fresh copy of the project.

The copy shares this checkout's `.venv` (already installed by `make`, which CI runs on a fresh
clone before the tests), so the test takes seconds; everything else, `make fake-api`
included, runs from the copy exactly as the README says. Only the port moves, so tests never
depend on a fixed one.
"""

from __future__ import annotations

import asyncio
import os
import re
import shutil
import signal
import subprocess
import sys
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from bot.testing.net import free_port
from tests.bot_process import clean_env

ROOT = Path(__file__).resolve().parent.parent
README_PORT = "8765"
SKIPPED = shutil.ignore_patterns(
    ".venv", ".git", "__pycache__", ".mypy_cache", ".ruff_cache", ".pytest_cache", "data", ".env"
)


def section(text: str, heading: str) -> str:
    start = text.index(heading)
    end = text.find("\n## ", start)
    return text[start : end if end != -1 else len(text)]


def blocks(text: str, language: str) -> list[str]:
    """Fenced code blocks opened with ```language (``` alone for plain ones), in order."""
    found: list[str] = []
    current: list[str] | None = None
    opened = ""
    for line in text.splitlines():
        if current is None and line.startswith("```"):
            current, opened = [], line[3:].strip()
        elif current is not None and line.strip() == "```":
            if opened == language:
                found.append("\n".join(current) + "\n")
            current = None
        elif current is not None:
            current.append(line)
    return found


@pytest.fixture
def fresh_copy(tmp_path: Path) -> Path:
    copy = tmp_path / "project"
    shutil.copytree(ROOT, copy, ignore=SKIPPED, symlinks=True)  # keeps mtimes, as a clone
    (copy / ".venv").symlink_to(sys.prefix)  # the venv running these tests
    make = shutil.which("make")
    assert make, "make is needed, as the README says"
    up_to_date = subprocess.run(  # noqa: S603 - fixed arguments
        [make, "-q", ".venv/.installed-stamp"], cwd=copy, capture_output=True, check=False
    )
    assert up_to_date.returncode == 0, "run the tests with `make test` (its venv, up to date)"
    return copy


@pytest.fixture
async def terminal_one(fresh_copy: Path) -> AsyncIterator[tuple[Path, str, list[str]]]:
    """The first terminal's command, running until the test ends."""
    quick = section((fresh_copy / "README.md").read_text(), "### Try it without Slack")
    first, second, expected = blocks(quick, "sh")[0], blocks(quick, "sh")[1], blocks(quick, "")
    port = str(free_port())
    env = {**clean_env(), "FAKE_API_PORT": port}
    process = await asyncio.create_subprocess_exec(
        "bash",
        "-c",
        first,
        cwd=fresh_copy,
        env=env,
        stdout=asyncio.subprocess.PIPE,
        start_new_session=True,  # its own process group: make and the fake end together
    )
    assert process.stdout is not None
    try:
        banner = ""
        while f"Fake task API on http://127.0.0.1:{port}/" not in banner:
            line = await asyncio.wait_for(process.stdout.readline(), 60)
            assert line, "make fake-api exited: " + banner
            banner += line.decode()
        yield fresh_copy, second.replace(README_PORT, port), expected
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        await process.wait()


async def test_quick_start_commands_as_written(
    terminal_one: tuple[Path, str, list[str]],
) -> None:
    copy, second, expected = terminal_one
    assert "make fake-api" in (copy / "README.md").read_text()
    process = await asyncio.create_subprocess_exec(
        "bash",
        "-c",
        second,
        cwd=copy,
        env=clean_env(),
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, err = await asyncio.wait_for(process.communicate(), 60)
    printed = out.decode()
    table = expected[0]  # "The first `check` prints": exactly these lines
    assert table in printed, printed
    assert '"TaskUid": "ok-1"' in printed  # --json
    assert '"type": "section"' in printed  # --blocks
    assert "Traceback" not in err.decode()


# A README a newcomer reads in five minutes, the reference one link away.

README_MAX_LINES = 200


def test_readme_is_short_and_every_page_it_links_exists() -> None:
    readme = (ROOT / "README.md").read_text()
    assert len(readme.splitlines()) < README_MAX_LINES
    for heading in ("## Quick start", "## Try it", "## Set it up in Slack", "## Read on"):
        assert heading in readme
    targets = re.findall(r"\]\(([^)#]+)(?:#[^)]*)?\)", readme)
    assert "docs/answer.png" in targets  # a picture of an answer
    for page in ("usage", "settings", "operations", "state", "several-processes"):
        assert f"docs/{page}.md" in targets
    for page in ("monitoring", "troubleshooting", "development"):
        assert f"docs/{page}.md" in targets
    for target in targets:
        assert (ROOT / target).is_file(), target


def test_docs_links_land_on_headings_that_exist() -> None:
    """`page.md#anchor` links, in the README and between the docs, as GitHub makes anchors."""
    pages = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
    for page in pages:
        for target, anchor in re.findall(r"\]\(([^)#\s]*)#([^)\s]+)\)", page.read_text()):
            linked = (page.parent / target) if target else page
            headings = re.findall(r"^#+ (.+)$", linked.read_text(), re.M)
            anchors = {re.sub(r"[^\w\- ]", "", h.lower()).replace(" ", "-") for h in headings}
            assert anchor in anchors, f"{page.name}: {target}#{anchor}"


def test_readme_demo_commands_run_the_demo(fresh_copy: Path) -> None:
    """`make demo` as the README shows it (tests/test_demo.py runs the demo itself)."""
    section_text = section((fresh_copy / "README.md").read_text(), "## Try it")
    [demo] = [b for b in blocks(section_text, "sh") if "make demo" in b]
    make = shutil.which("make")
    assert make
    for line in demo.splitlines():
        command = line.split("#")[0].split()
        dry = subprocess.run(  # noqa: S603 - the README's own words, dry-run
            [make, "-n", *command[1:]], cwd=fresh_copy, capture_output=True, text=True, check=True
        )
        expected = "-m bot demo --interactive" if "DEMO_ARGS" in line else "-m bot demo"
        assert expected in dry.stdout, dry.stdout
