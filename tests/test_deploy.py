"""The container files agree with the bot: probes on the right paths, stop timeouts that fit,
only hash-pinned artifacts, no development code in the runtime image."""

from __future__ import annotations

import functools
import re
import shutil
import subprocess
import sysconfig
import tomllib
import venv
from pathlib import Path
from typing import Any

import yaml

from bot.config import Settings
from tests.bot_process import clean_env

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


# The runtime image and the locks (the image leaves out the fakes; every artifact is hashed).


def dockerignored() -> list[str]:
    return [line.strip() for line in (ROOT / ".dockerignore").read_text().splitlines()]


def locked(name: str) -> dict[str, str]:
    """Package -> version of a lock file, after checking that each one lists its hashes."""
    text = (ROOT / name).read_text()
    entries = re.split(r"\n(?=[a-z0-9])", text.split("\n", 2)[2])
    pins: dict[str, str] = {}
    for entry in entries:
        match = re.match(r"([a-z0-9][a-z0-9._-]*)==(\S+)", entry)
        assert match, entry[:80]
        assert "--hash=sha256:" in entry, f"{name}: {match.group(1)} has no hash"
        pins[match.group(1)] = match.group(2)
    return pins


def test_image_installs_only_hashed_artifacts_then_the_project_without_deps() -> None:
    dockerfile = (ROOT / "Dockerfile").read_text()
    assert "pip install --no-cache-dir --require-hashes -r constraints.txt" in dockerfile
    assert "pip install --no-cache-dir --no-deps --no-build-isolation ." in dockerfile
    makefile = (ROOT / "Makefile").read_text()
    assert "pip install --quiet --require-hashes -r constraints-dev.txt" in makefile
    assert "pip install --quiet --no-deps --no-build-isolation -e '.[dev]'" in makefile
    assert "uv pip compile" in makefile  # the locks are made by a kept tool, not by hand


def test_locks_hold_every_pin_of_pyproject_at_its_version() -> None:
    runtime, dev = locked("constraints.txt"), locked("constraints-dev.txt")
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    for lock, pins in (
        (runtime, project["dependencies"]),
        (dev, project["dependencies"] + project["optional-dependencies"]["dev"]),
    ):
        for pin in pins:
            name, version = re.split(r"==", pin.split(";")[0].strip())
            assert lock[name.lower().replace("_", "-")] == version, pin
    assert "setuptools" in runtime  # builds the project with no unhashed download
    assert {k: v for k, v in dev.items() if k in runtime} == runtime  # one tested set


def image_python(where: Path) -> str:
    """A Python with this venv's packages but not its editable install of the bot (which would
    find the left-out modules in this checkout): its packages' folder is on the path as a
    plain entry, so the install's import hook there never runs."""
    venv.create(where, with_pip=False)
    site = Path(sysconfig.get_paths(vars={"base": str(where)})["purelib"])
    (site / "dependencies.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    return str(where / "bin" / "python")


def test_image_leaves_out_the_fakes_and_its_demo_says_it_is_for_development(
    tmp_path: Path,
) -> None:
    assert {"bot/testing", "bot/demo", "tests"} <= set(dockerignored())
    left_out = [ROOT / p for p in dockerignored() if p.startswith("bot/")]
    shutil.copytree(
        ROOT / "bot",
        tmp_path / "bot",
        ignore=lambda folder, names: [
            n for n in names if n == "__pycache__" or Path(folder, n) in left_out
        ],
    )
    assert not (tmp_path / "bot" / "testing").exists()
    python = image_python(tmp_path / "venv")
    run = functools.partial(
        subprocess.run, cwd=tmp_path, env=clean_env(), capture_output=True, text=True, check=False
    )
    imports = run([python, "-c", "import bot.slack.front.server, bot; print(bot.__file__)"])
    assert imports.returncode == 0, imports.stderr  # the bot runs without them
    assert imports.stdout.strip() == str(tmp_path / "bot" / "__init__.py")  # the copy, not ROOT
    demo = run([python, "-m", "bot", "demo"])
    assert demo.returncode == 2
    assert "`demo` is a development command" in demo.stderr
    assert "make demo" in demo.stderr
    assert "Traceback" not in demo.stderr
