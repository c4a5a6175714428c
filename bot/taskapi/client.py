"""Async client for `ListGenerateTaskDetail`: batching, sharing, caching, bounded retries."""

from __future__ import annotations

import asyncio
import itertools
import logging
import random
import time
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Any, Protocol

import aiohttp
from aiohttp import hdrs
from cachetools import TTLCache

from bot.taskapi.errors import (
    ApiRejected,
    ApiUnavailable,
    ApiUnreachable,
    ApiUnreadable,
    TaskApiError,
)
from bot.taskapi.models import (
    Failed,
    Found,
    NotFound,
    TaskDetail,
    TaskResult,
    read_envelope,
)
from bot.taskapi.signing import sign_list_call

log = logging.getLogger(__name__)

ACTION = "ListGenerateTaskDetail"


class Lane(StrEnum):
    """Who is waiting: a person (sent first) or the watcher (keeps a share of its own)."""

    PERSON = "person"
    WATCH = "watch"


class CallObserver(Protocol):
    """Where call timings go (the app's metrics); the client knows nothing of Prometheus."""

    def call_done(self, lane: Lane, outcome: str, seconds: float, uids: int) -> None: ...

    def cache_lookup(self, hit: bool) -> None: ...


@dataclass(frozen=True)
class ClientConfig:
    url: str
    public_key: str
    private_key: str
    timeout: float = 10.0
    batch_size: int = 20
    concurrency: int = 4
    retries: int = 2
    max_response_bytes: int = 5_000_000
    cache_size: int = 10_000
    cache_ttl: float = 3600.0
    backoff_base: float = 0.25

    def __repr__(self) -> str:
        return f"ClientConfig(url={self.url!r}, batch_size={self.batch_size})"


class TaskApiClient:
    """One instance per process. Every lookup, however it arrives, goes through `get_tasks`.

    Every UID asked for joins its lane's queue, sent in batches of `batch_size` over at most
    `concurrency` calls at once: lookups asked for together, or while the API is slow, leave
    together. A UID already in flight is not asked again; final tasks come from a TTL cache.

    Two lanes, so a person never waits behind the watcher: people's UIDs are sent first and,
    with two slots or more, the watcher never holds the last one (kept for people) while
    people leave it at least one whenever it has work queued. A person's UID
    already queued for the watcher moves to the person lane; one already sent by the watcher
    (perhaps retrying through an outage) is asked again in the person lane rather than waited
    for. The watcher's batches retry at most once: its next tick is the real retry.
    """

    def __init__(
        self,
        session: aiohttp.ClientSession,
        config: ClientConfig,
        *,
        on_call: Callable[[str], None] | None = None,
        observer: CallObserver | None = None,
        cache_timer: Callable[[], float] = time.monotonic,
    ) -> None:
        self._session = session
        self._config = config
        self._on_call = on_call
        self._observer = observer
        self._cache: TTLCache[str, TaskDetail] | None = (
            TTLCache(config.cache_size, config.cache_ttl, timer=cache_timer)
            if config.cache_size
            else None
        )
        # Per lane: UIDs asked for and not yet answered, and those not yet sent (ordered sets).
        self._inflight: dict[Lane, dict[str, asyncio.Future[TaskResult]]] = {
            lane: {} for lane in Lane
        }
        self._queued: dict[Lane, dict[str, None]] = {lane: {} for lane in Lane}
        self._dispatch_scheduled = False
        self._batches: dict[asyncio.Task[None], Lane] = {}
        self.upstream_calls = 0
        self._timeout = aiohttp.ClientTimeout(total=config.timeout)  # the same for every call

    async def get_tasks(self, uids: Sequence[str], *, lane: Lane = Lane.PERSON) -> list[TaskResult]:
        """One result per requested UID, in the caller's order (duplicates answered alike)."""
        known: dict[str, TaskResult] = {}
        waiting: dict[str, asyncio.Future[TaskResult]] = {}
        for uid in dict.fromkeys(uids):
            cached = self._cache.get(uid) if self._cache is not None else None
            if self._observer is not None and self._cache is not None:
                self._observer.cache_lookup(cached is not None)
            if cached is not None:
                known[uid] = Found(uid, cached)
            else:
                waiting[uid] = self._future_for(uid, lane)
        for uid, future in waiting.items():
            # shield: one asker giving up must not cancel the answer others wait for.
            known[uid] = await asyncio.shield(future)
        return [known[uid] for uid in uids]

    def _future_for(self, uid: str, lane: Lane) -> asyncio.Future[TaskResult]:
        people, watcher = self._inflight[Lane.PERSON], self._inflight[Lane.WATCH]
        future = people.get(uid)
        if future is not None:
            return future  # the person lane is the quick one: anyone may share it
        if lane is Lane.WATCH and uid in watcher:
            return watcher[uid]
        if lane is Lane.PERSON and uid in self._queued[Lane.WATCH]:
            # Not sent yet: the person takes it ahead, and the watcher waits on the same answer.
            del self._queued[Lane.WATCH][uid]
            future = watcher.pop(uid)
        else:
            future = asyncio.get_running_loop().create_future()
        self._inflight[lane][uid] = future
        self._queued[lane][uid] = None
        self._kick()
        return future

    def _kick(self) -> None:
        # Deferred to the next loop turn, so lookups asked for together leave together.
        if not self._dispatch_scheduled:
            self._dispatch_scheduled = True
            asyncio.get_running_loop().call_soon(self._dispatch)

    def _dispatch(self) -> None:
        """Send queued UIDs while call slots are free, people first. UIDs that arrive while
        every slot is busy wait in the queue and leave in full batches when one frees up."""
        self._dispatch_scheduled = False
        size = self._config.batch_size
        while (lane := self._next_lane()) is not None:
            queue = self._queued[lane]
            batch = list(itertools.islice(queue, size))
            for uid in batch:
                del queue[uid]
            task = asyncio.create_task(self._run_batch(batch, lane))
            self._batches[task] = lane
            task.add_done_callback(self._batch_done)

    def _next_lane(self) -> Lane | None:
        """The lane that may send a batch now, if any (see the class docstring)."""
        limit = self._config.concurrency
        people_wait, watcher_waits = bool(self._queued[Lane.PERSON]), bool(self._queued[Lane.WATCH])
        if len(self._batches) >= limit or not (people_wait or watcher_waits):
            return None  # the usual answer after a batch has left: asked before counting
        busy_watch = sum(1 for lane in self._batches.values() if lane is Lane.WATCH)
        busy_people = len(self._batches) - busy_watch
        kept = 1 if limit > 1 else 0  # slots one lane leaves to the other
        if people_wait and (not watcher_waits or busy_watch >= kept or busy_people < limit - kept):
            return Lane.PERSON
        if watcher_waits and busy_watch < limit - kept:
            return Lane.WATCH
        return None

    def _batch_done(self, task: asyncio.Task[None]) -> None:
        self._batches.pop(task, None)
        if any(self._queued.values()):
            self._kick()

    async def _run_batch(self, uids: list[str], lane: Lane) -> None:
        try:
            details = await self._call_with_retries(uids, lane)
        except TaskApiError as exc:
            failure: TaskApiError = exc
            self._settle(lane, uids, lambda uid: Failed(uid, failure))
        except BaseException as exc:
            error = ApiUnavailable(f"lookup interrupted ({type(exc).__name__})", "")
            self._settle(lane, uids, lambda uid: Failed(uid, error))
            raise
        else:
            by_uid = first_of_asked(details, uids)
            if self._cache is not None:
                for uid, detail in by_uid.items():
                    if detail.is_final:
                        self._cache[uid] = detail
            self._settle(
                lane, uids, lambda uid: Found(uid, by_uid[uid]) if uid in by_uid else NotFound(uid)
            )

    def _settle(self, lane: Lane, uids: list[str], result_for: Callable[[str], TaskResult]) -> None:
        for uid in uids:
            future = self._inflight[lane].pop(uid, None)
            if future is not None and not future.done():
                future.set_result(result_for(uid))

    async def _call_with_retries(self, uids: list[str], lane: Lane) -> list[TaskDetail]:
        retries = self._config.retries if lane is Lane.PERSON else min(self._config.retries, 1)
        attempt = 0
        while True:
            try:
                return await self._timed_call(uids, lane)
            except ApiUnavailable as exc:
                if attempt >= retries:
                    raise
                delay = self._config.backoff_base * 2**attempt
                delay += random.uniform(0, delay)  # jitter: many bots must not retry in step
                log.warning(
                    "task API unavailable (%s), retry %d in %.2fs [request_uuid=%s]",
                    exc.detail,
                    attempt + 1,
                    delay,
                    exc.request_uuid,
                    extra={"request_uuid": exc.request_uuid},
                )
                attempt += 1
                await asyncio.sleep(delay)

    async def _timed_call(self, uids: list[str], lane: Lane) -> list[TaskDetail]:
        started = time.monotonic()
        outcome = "ok"
        try:
            return await self._call(uids)
        except TaskApiError as exc:
            outcome = exc.kind
            raise
        except asyncio.CancelledError:
            outcome = "cancelled"
            raise
        finally:
            if self._observer is not None:
                self._observer.call_done(lane, outcome, time.monotonic() - started, len(uids))

    async def _call(self, uids: list[str]) -> list[TaskDetail]:
        request_uuid = str(uuid.uuid4())
        body: dict[str, Any] = {
            "Action": ACTION,
            "PublicKey": self._config.public_key,
            "TaskUIDs": uids,
            "request_uuid": request_uuid,
        }
        body["Signature"] = sign_list_call(
            ACTION, self._config.public_key, uids, request_uuid, self._config.private_key
        )
        self.upstream_calls += 1
        log.info(
            "task API call: %d UIDs [request_uuid=%s]",
            len(uids),
            request_uuid,
            extra={"request_uuid": request_uuid},
        )
        try:
            raw = await self._post(body, request_uuid)
        except TimeoutError:
            self._count("timeout")
            raise ApiUnavailable(
                f"timed out after {self._config.timeout:g}s", request_uuid
            ) from None
        except aiohttp.ClientError as exc:
            self._count("unreachable")
            # Never connected (DNS, refused, TLS) or connected and cut off: only the first
            # says the URL or the network is wrong.
            if isinstance(exc, aiohttp.ClientConnectorError):
                raise ApiUnreachable(
                    f"could not connect ({type(exc).__name__})", request_uuid
                ) from None
            raise ApiUnavailable(
                f"connection failed ({type(exc).__name__})", request_uuid
            ) from None
        details = self._parse(raw, request_uuid)
        self._count("ok")
        return details

    async def _post(self, body: dict[str, Any], request_uuid: str) -> bytes:
        async with self._session.post(self._config.url, json=body, timeout=self._timeout) as resp:
            if resp.status >= 500 or resp.status == 429:
                self._count("http_error")
                raise ApiUnavailable(f"answered HTTP {resp.status}", request_uuid)
            if resp.status >= 400:
                self._count("http_error")
                raise ApiRejected(f"answered HTTP {resp.status}", request_uuid, None)
            return await self._read_capped(resp, request_uuid)

    async def _read_capped(self, resp: aiohttp.ClientResponse, request_uuid: str) -> bytes:
        cap = self._config.max_response_bytes
        if resp.content_length is not None and resp.content_length > cap:
            raise _too_big(cap, request_uuid)
        if resp.content_length is not None and _identity(resp):
            # aiohttp reads no more than the length announced: the cap holds. Not so for a
            # compressed body, which aiohttp inflates as it reads: it is counted below.
            return await resp.read()
        chunks: list[bytes] = []
        size = 0
        async for chunk in resp.content.iter_chunked(65_536):
            size += len(chunk)
            if size > cap:
                raise _too_big(cap, request_uuid)
            chunks.append(chunk)
        return b"".join(chunks)

    def _parse(self, raw: bytes, request_uuid: str) -> list[TaskDetail]:
        try:
            envelope = read_envelope(raw)
        except (ValueError, TypeError):
            self._count("unreadable")
            raise ApiUnreadable("answer is not the documented JSON", request_uuid) from None
        if envelope.ret_code != 0:
            self._count("rejected")
            message = envelope.message or "no message"
            raise ApiRejected(
                f"RetCode {envelope.ret_code}: {message}", request_uuid, envelope.ret_code
            )
        return envelope.details()

    def _count(self, outcome: str) -> None:
        if self._on_call is not None:
            self._on_call(outcome)

    @property
    def idle(self) -> bool:
        """Nothing queued or in flight: dropping this client leaves nobody waiting."""
        return not self._batches and not any(self._queued.values())

    async def aclose(self) -> None:
        """Let batches already sent finish, so nobody waiting on them is left hanging; UIDs
        not sent yet (a watch tick cut short by shutdown) are answered as not looked up."""
        stopping = ApiUnavailable("not looked up: the bot is stopping", "")
        for lane, queue in self._queued.items():
            self._settle(lane, list(queue), lambda uid: Failed(uid, stopping))
            queue.clear()
        if self._batches:
            await asyncio.gather(*list(self._batches), return_exceptions=True)


def _identity(resp: aiohttp.ClientResponse) -> bool:
    """No `Content-Encoding` at all: aiohttp inflates by the last one, whatever comes first."""
    return hdrs.CONTENT_ENCODING not in resp.headers


def _too_big(cap: int, request_uuid: str) -> ApiUnreadable:
    return ApiUnreadable(f"answer larger than {cap} bytes", request_uuid)


def first_of_asked(details: Sequence[TaskDetail], asked: Sequence[str]) -> dict[str, TaskDetail]:
    """The answer's entries for the UIDs asked for, the first one where it repeats a UID.

    Anything else it carries is dropped: the same rule serves the answer and the cache, so
    an odd answer can never put a made-up result for another task in front of anyone.
    """
    wanted = set(asked)
    found: dict[str, TaskDetail] = {}
    for detail in details:
        if detail.task_uid in wanted and detail.task_uid not in found:
            found[detail.task_uid] = detail
    return found
