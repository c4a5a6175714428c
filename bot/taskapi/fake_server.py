"""`python -m bot fake-api`: the fake task API as a process, for demos and local runs."""

from __future__ import annotations

import asyncio
import signal

from aiohttp import web

from bot.taskapi.fake import FAKE_PRIVATE_KEY, FAKE_PUBLIC_KEY, FakeTaskApi, Faults


async def serve_fake(host: str, port: int, step: float, faults: Faults) -> int:
    fake = FakeTaskApi(step=step, faults=faults)
    runner = web.AppRunner(fake.app())
    await runner.setup()
    await web.TCPSite(runner, host, port).start()
    print(
        f"Fake task API on http://{host}:{port}/\n"
        f"  TASK_API_URL=http://{host}:{port}/ TASK_API_PUBLIC_KEY={FAKE_PUBLIC_KEY} "
        f"TASK_API_PRIVATE_KEY={FAKE_PRIVATE_KEY}\n"
        "  Known UIDs: ok-* (finishes), ok5-* (5 pictures), err-* (fails), slow-* (runs forever),"
        " any UUID (finishes); others are unknown.",
        flush=True,
    )
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    await stop.wait()
    await runner.cleanup()
    return 0
