"""A fake of the vendor's task API for tests, benchmarks and demos. Loopback only.

Which UIDs it knows, by prefix (case-insensitive):
  ok...     Queuing -> Running -> Finished with 2 pictures (`ok5-...`: 5 pictures)
  err...    Queuing -> Running -> Error (code 1001)
  slow...   Queuing -> Running, forever
  a UUID    like `ok`
Anything else is unknown and left out of the answer, as the vendor may do.
Each status lasts `step` seconds from the first time a UID is asked about.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import re
import struct
import time
import zlib
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

from bot.taskapi.signing import sign

FAKE_PUBLIC_KEY = "fake-public-key"
FAKE_PRIVATE_KEY = "fake-private-key"
RET_BAD_SIGNATURE = 172
RET_BAD_KEY = 171
RET_BAD_REQUEST = 160
RET_INJECTED = 500

_UUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$", re.I)
_PICTURES = re.compile(r"^ok(\d{1,2})-", re.I)


@dataclass
class Faults:
    """Switches; the counted ones apply to that many next requests."""

    latency: float = 0.0
    http_500: int = 0
    broken_json: int = 0
    ret_code: int = 0
    oversize: int = 0
    omit: int = 0  # next N answers leave every task out, as a flaky vendor may
    picture_latency: float = 0.0  # seconds before each picture download answers
    broken_pictures: set[str] = field(default_factory=set)  # "uid/name" paths that 404


@dataclass
class FakeTask:
    uid: str
    outcome: str  # "Finished", "Error" or "Running" (never ends)
    pictures: int = 2
    first_seen: float | None = None
    task_type: str = "TaskGeneratePicture"
    error_code: int = 1001
    error_msg: str = "Generation failed: the prompt was refused"
    owner: str = ""  # the public key whose account holds it; "" for every account


@dataclass
class FakeTaskApi:
    public_key: str = FAKE_PUBLIC_KEY
    private_key: str = FAKE_PRIVATE_KEY
    step: float = 5.0
    clock: Callable[[], float] = time.monotonic
    faults: Faults = field(default_factory=Faults)
    tasks: dict[str, FakeTask] = field(default_factory=dict)
    calls: list[list[str]] = field(default_factory=list)
    picture_format: str = "png"
    # Raw entries put in front of every answer, asked for or not (an odd vendor answer).
    extra_details: list[dict[str, Any]] = field(default_factory=list)
    received: int = 0  # requests that reached the fake, answered or not
    # More accounts it serves besides the first: public key -> private key (per-workspace
    # accounts); a task with an `owner` is known only to that account.
    accounts: dict[str, str] = field(default_factory=dict)
    callers: list[str] = field(default_factory=list)  # the public key of each call in `calls`
    _called: asyncio.Condition | None = None

    async def wait_until(self, check: Callable[[], object], timeout: float = 10.0) -> None:
        """Wait until `check()` holds; re-checked on every request the fake receives."""
        if self._called is None:
            self._called = asyncio.Condition()
        async with self._called:
            await asyncio.wait_for(self._called.wait_for(check), timeout)

    async def _note_call(self) -> None:
        if self._called is not None:
            async with self._called:
                self._called.notify_all()

    def task_for(self, uid: str) -> FakeTask | None:
        task = self.tasks.get(uid)
        if task is None:
            task = _task_from_prefix(uid)
            if task is not None:
                self.tasks[uid] = task
        return task

    def status_of(self, task: FakeTask) -> str:
        now = self.clock()
        if task.first_seen is None:
            task.first_seen = now
        elapsed = now - task.first_seen
        if elapsed < self.step:
            return "Queuing"
        if elapsed < 2 * self.step or task.outcome == "Running":
            return "Running"
        return task.outcome

    def detail(self, task: FakeTask, base_url: str) -> dict[str, Any]:
        status = self.status_of(task)
        pictures = (
            [
                f"{base_url}pictures/{task.uid}/{n}.{self.picture_format}"
                for n in range(task.pictures)
            ]
            if status == "Finished"
            else []
        )
        failed = status == "Error"
        return {
            "TaskUid": task.uid,
            "TaskType": task.task_type,
            "TaskStatus": status,
            "FinalPictureUrls": pictures,
            "TaskErrorMsg": task.error_msg if failed else "",
            "TaskErrorCode": task.error_code if failed else 0,
        }

    def app(self) -> web.Application:
        app = web.Application()
        app.router.add_post("/", self._handle)
        app.router.add_get("/pictures/{uid}/{name}", self._picture)
        return app

    async def _handle(self, request: web.Request) -> web.StreamResponse:
        self.received += 1
        await self._note_call()
        if self.faults.latency:
            await asyncio.sleep(self.faults.latency)
        if _take(self.faults, "http_500"):
            return web.Response(status=500, text="internal error")
        if _take(self.faults, "broken_json"):
            return web.Response(text='{"RetCode": 0, "TaskDetailList": [', content_type="text/json")
        if _take(self.faults, "oversize"):
            return web.Response(body=b" " * 20_000_000, content_type="application/json")
        try:
            body = await request.json()
        except ValueError:
            return _reply(RET_BAD_REQUEST, "request body is not JSON")
        if not isinstance(body, dict) or body.get("Action") != "ListGenerateTaskDetail":
            return _reply(RET_BAD_REQUEST, "unknown Action")
        public = str(body.get("PublicKey"))
        private = self.private_key if public == self.public_key else self.accounts.get(public)
        if private is None:
            return _reply(RET_BAD_KEY, "invalid PublicKey")
        if body.get("Signature") != sign(body, private):
            return _reply(RET_BAD_SIGNATURE, "signature verification failed")
        uids = body.get("TaskUIDs")
        if not isinstance(uids, list) or not all(isinstance(u, str) for u in uids):
            return _reply(RET_BAD_REQUEST, "TaskUIDs must be a list of strings")
        self.calls.append(list(uids))
        self.callers.append(public)
        await self._note_call()
        if _take(self.faults, "ret_code"):
            return _reply(RET_INJECTED, "internal error, please retry later")
        base = str(request.url.origin()) + "/"
        if _take(self.faults, "omit"):
            return _reply(0, "", [])
        tasks = [t for t in map(self.task_for, uids) if t is not None and t.owner in ("", public)]
        # Reverse order on purpose: the vendor does not promise to keep it.
        details = [self.detail(t, base) for t in reversed(tasks)]
        return _reply(0, "", [*self.extra_details, *details])

    async def _picture(self, request: web.Request) -> web.Response:
        uid = request.match_info["uid"]
        if self.faults.picture_latency:
            await asyncio.sleep(self.faults.picture_latency)
        if self.tasks.get(uid) is None or f"{uid}/{request.match_info['name']}" in (
            self.faults.broken_pictures
        ):
            raise web.HTTPNotFound()
        seed = hashlib.sha256(uid.encode()).digest()
        return web.Response(body=solid_png(seed[0], seed[1], seed[2]), content_type="image/png")


def _task_from_prefix(uid: str) -> FakeTask | None:
    lowered = uid.lower()
    if lowered.startswith("ok") or _UUID.match(uid):
        match = _PICTURES.match(uid)
        return FakeTask(uid, "Finished", pictures=int(match.group(1)) if match else 2)
    if lowered.startswith("err"):
        return FakeTask(uid, "Error", pictures=0)
    if lowered.startswith("slow"):
        return FakeTask(uid, "Running", pictures=0)
    return None


def _take(faults: Faults, name: str) -> bool:
    left: int = getattr(faults, name)
    if left > 0:
        setattr(faults, name, left - 1)
        return True
    return False


def _reply(ret_code: int, message: str, tasks: list[dict[str, Any]] | None = None) -> web.Response:
    payload: dict[str, Any] = {
        "Action": "ListGenerateTaskDetailResponse",
        "RetCode": ret_code,
        "Message": message,
    }
    if tasks is not None:
        payload["TaskDetailList"] = tasks
    return web.Response(text=json.dumps(payload), content_type="application/json")


def solid_png(red: int, green: int, blue: int, size: int = 64) -> bytes:
    """A one-colour PNG, written by hand: a picture library is a heavy dependency for a fake."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return (
            struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
        )

    header = struct.pack(">IIBBBBB", size, size, 8, 2, 0, 0, 0)
    rows = (b"\x00" + bytes((red, green, blue)) * size) * size
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(rows))
        + chunk(b"IEND", b"")
    )
