"""Shared fixtures: real local servers on random ports, never patched internals."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from pathlib import Path
from typing import Any

import aiohttp
import pytest
import redis.asyncio as aioredis
from hypothesis import HealthCheck, settings
from pytest_aiohttp import AiohttpServer
from redis.asyncio.cluster import RedisCluster

from bot.store import OAuthStore, Store, open_store
from bot.taskapi.client import ClientConfig, TaskApiClient
from bot.taskapi.fake import FAKE_PRIVATE_KEY, FAKE_PUBLIC_KEY, FakeTaskApi
from bot.testing.redis_server import redis_cluster, redis_server
from tests.slack_harness import Harness, start_harness

# `make mutation` (`--hypothesis-profile=mutation`): a fixed seed, so a mutant is caught or not
# the same way on every run, and fewer examples, so each of a thousand runs stays short.
settings.register_profile("mutation", max_examples=25, derandomize=True, database=None)
# Every run: properties are judged on what they find, not on how fast a busy two-core machine
# generates examples (a loaded CI box tripped the speed checks, not the properties).
settings.register_profile("default", deadline=None, suppress_health_check=[HealthCheck.too_slow])
settings.load_profile("default")


class ManualClock:
    """A clock tests move by hand, so the fake's tasks change state without sleeping."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock()


@pytest.fixture
async def fake_api(aiohttp_server: AiohttpServer, clock: ManualClock) -> FakeTaskApi:
    fake = FakeTaskApi(step=10.0, clock=clock)
    server = await aiohttp_server(fake.app())
    fake.url = str(server.make_url("/"))  # type: ignore[attr-defined]
    return fake


@pytest.fixture
async def session() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as s:
        yield s


ClientFactory = Callable[..., Awaitable[TaskApiClient]]


@pytest.fixture
def make_client(
    fake_api: FakeTaskApi, session: aiohttp.ClientSession, clock: ManualClock
) -> ClientFactory:
    async def make(**overrides: Any) -> TaskApiClient:
        options: dict[str, Any] = {
            "url": fake_api.url,  # type: ignore[attr-defined]
            "public_key": FAKE_PUBLIC_KEY,
            "private_key": FAKE_PRIVATE_KEY,
            "timeout": 2.0,
            "backoff_base": 0.01,
        }
        options.update(overrides)
        return TaskApiClient(session, ClientConfig(**options), cache_timer=clock)

    return make


@pytest.fixture
async def harness(
    aiohttp_server: AiohttpServer, tmp_path: Path, request: pytest.FixtureRequest
) -> AsyncIterator[Harness]:
    """The real bot in HTTP mode; `@pytest.mark.parametrize("harness", [{...}], indirect=True)`
    passes settings overrides (and `step` for the fake task API)."""
    options: dict[str, Any] = dict(getattr(request, "param", {}))
    async with start_harness(aiohttp_server, tmp_path, **options) as h:
        yield h


@pytest.fixture(scope="session")
def redis_url() -> Iterator[str]:
    """A real redis-server on a free loopback port, for this test session only."""
    with redis_server() as url:
        yield url


# -- Redis Cluster: the store's keys of one workspace share a hash tag ---------------------------


@pytest.fixture(scope="session")
def redis_cluster_url() -> Iterator[str]:
    """Three real `redis-server --cluster-enabled yes` primaries for this test session; a
    `redis+cluster://` URL (what `STATE_URL` takes)."""
    with redis_cluster() as url:
        yield url


async def empty_redis(url: str) -> None:
    """Every key gone, on one Redis or on each primary of a cluster."""
    if url.startswith("redis+cluster://"):
        cluster = RedisCluster.from_url(url.replace("+cluster", "", 1))
        async with cluster:
            await cluster.flushdb(target_nodes=RedisCluster.PRIMARIES)
        return
    async with aioredis.from_url(url) as fresh:
        await fresh.flushdb()


STORE_KINDS = ["sqlite", "redis", "cluster"]


def store_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """Where a store of the kind `request.param` names lives for this test."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path}/nested/state.sqlite3"
    return str(
        request.getfixturevalue("redis_url" if request.param == "redis" else "redis_cluster_url")
    )


async def fresh_store(
    request: pytest.FixtureRequest, tmp_path: Path, retention: float = 3600.0
) -> OAuthStore:
    """An empty store of the kind `request.param` names."""
    url = store_url(request, tmp_path)
    if request.param != "sqlite":
        await empty_redis(url)
    return await open_store(url, retention)


@pytest.fixture(params=STORE_KINDS)
async def store(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[OAuthStore]:
    """An empty store of each kind in turn: the contract every implementation keeps."""
    opened = await fresh_store(request, tmp_path)
    yield opened
    await opened.close()


@pytest.fixture
async def shared(redis_url: str) -> AsyncIterator[Store]:
    """The session's Redis, emptied: the one store a fleet of bot processes shares."""
    async with aioredis.from_url(redis_url) as fresh:
        await fresh.flushdb()
    store = await open_store(redis_url)
    yield store
    await store.close()


@pytest.fixture
def away_from_utc(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """A server whose local time is not UTC: the fallback date must still be UTC."""
    monkeypatch.setenv("TZ", "Asia/Kolkata")
    time.tzset()
    yield
    monkeypatch.undo()
    time.tzset()
