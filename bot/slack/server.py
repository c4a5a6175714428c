"""Start-up, the HTTP or Socket Mode front, and a graceful SIGTERM."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
import time
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass

import aiohttp
from aiohttp import web
from slack_bolt.async_app import AsyncApp
from slack_sdk.http_retry.builtin_async_handlers import (
    AsyncConnectionErrorRetryHandler,
    AsyncRateLimitErrorRetryHandler,
)
from slack_sdk.web.async_client import AsyncWebClient

from bot.config import Settings
from bot.limited_log import quiet_parse_errors
from bot.metrics import Metrics
from bot.slack.app import build_app
from bot.slack.context import Deps
from bot.slack.deliver import Delivery
from bot.slack.front_door import FrontDoor
from bot.slack.home_tab import HomeTab, RefreshingPublisher
from bot.slack.live import SlackPublisher
from bot.slack.socket_front import StrictSocketModeHandler
from bot.slack.tracker import Tracker
from bot.store import open_store
from bot.taskapi.client import TaskApiClient, config_from_settings
from bot.watch.scheduler import WatchConfig, Watcher

log = logging.getLogger(__name__)


@dataclass
class Bot:
    deps: Deps
    app: AsyncApp
    watcher_task: asyncio.Task[None]


def web_client(
    settings: Settings, session: aiohttp.ClientSession, *, wait_rate_limits: bool
) -> AsyncWebClient:
    assert settings.slack_bot_token is not None
    handlers = [AsyncConnectionErrorRetryHandler(max_retry_count=2)]
    if wait_rate_limits:
        handlers.append(AsyncRateLimitErrorRetryHandler(max_retry_count=3))  # type: ignore[arg-type]
    return AsyncWebClient(
        token=settings.slack_bot_token.get_secret_value(),
        base_url=settings.slack_api_url,
        session=session,
        retry_handlers=list(handlers),
    )


@contextlib.asynccontextmanager
async def running_bot(
    settings: Settings, clock: Callable[[], float] = time.time
) -> AsyncIterator[Bot]:
    """Everything the bot needs, started in order and stopped in reverse, gracefully."""
    metrics = Metrics()
    store = await open_store(settings.state_url, settings.state_retention)
    async with aiohttp.ClientSession() as session:
        tasks = TaskApiClient(
            session,
            config_from_settings(settings),
            on_call=lambda outcome: metrics.upstream.labels(outcome).inc(),
        )
        client = web_client(settings, session, wait_rate_limits=True)
        delivery = Delivery(client, session)
        publisher = SlackPublisher(
            delivery,
            metrics,
            web_client(settings, session, wait_rate_limits=False),
            session,
            upload_pictures=settings.watch_upload_pictures,
            upload_max_files=settings.watch_upload_max_files,
            upload_max_bytes=settings.watch_upload_max_bytes,
        )
        tracker = Tracker()
        home = HomeTab(client, store)
        refreshing = RefreshingPublisher(publisher, home)
        watcher = Watcher(store, tasks, refreshing, watch_config(settings))
        metrics.watches.set_function(lambda: watcher.open_watches)
        identity = await client.auth_test()
        deps = Deps(
            settings=settings,
            tasks=tasks,
            store=store,
            delivery=delivery,
            tracker=tracker,
            metrics=metrics,
            watcher=watcher,
            home_team=str(identity.get("team_id") or ""),
            bot_user_id=str(identity.get("user_id") or ""),
            home=home,
            clock=clock,
        )
        home.team_id, home.workspace_url = deps.home_team, str(identity.get("url") or "")
        app = build_app(deps, client)
        watcher_task = asyncio.create_task(watcher.run(), name="watcher")
        try:
            yield Bot(deps, app, watcher_task)
        finally:
            left = await deps.tracker.drain(settings.shutdown_grace)
            if left:
                log.warning("%d answers did not finish within the grace period", left)
            await watcher.shutdown(settings.shutdown_grace)  # hands its leases back
            watcher_task.cancel()
            home.close()
            await tasks.aclose()
            await store.close()


def watch_config(settings: Settings) -> WatchConfig:
    return WatchConfig(
        poll_interval=settings.watch_poll_interval,
        max_duration=settings.watch_max_duration,
        max_uids=settings.watch_max_uids,
        max_per_user=settings.watch_max_per_user,
        updates_per_minute=settings.watch_updates_per_minute,
        heartbeat=settings.watch_heartbeat,
    )


def http_app(bot: Bot, *, slack_events: bool = True) -> web.Application:
    """`/slack/events` in HTTP mode; `/healthz` and `/metrics` in both modes."""
    deps = bot.deps
    secret = deps.settings.slack_signing_secret
    door = FrontDoor(
        bot.app, secret.get_secret_value() if secret else "", deps.settings.slack_api_url
    )
    quiet_parse_errors()  # malformed HTTP: one short line, not an ERROR with a traceback

    async def events(request: web.Request) -> web.StreamResponse:
        if not deps.tracker.accepting:
            return web.Response(status=503, text="shutting down")
        return await door.handle(request)

    async def healthz(_: web.Request) -> web.Response:
        return web.json_response(
            {"ok": True, "accepting": deps.tracker.accepting, "watcher_ticks": deps.watcher.ticks}
        )

    async def metrics(_: web.Request) -> web.Response:
        return web.Response(body=deps.metrics.render(), content_type="text/plain")

    web_app = web.Application(client_max_size=1_000_000)
    if slack_events:
        web_app.router.add_post("/slack/events", events)
    web_app.router.add_get("/healthz", healthz)
    web_app.router.add_get("/metrics", metrics)
    return web_app


async def serve(settings: Settings) -> int:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    async with running_bot(settings) as bot:
        front = run_socket_mode if settings.mode == "socket" else run_http
        await front(bot, stop)
        log.info("stopping: no new work; finishing what was acknowledged")
    log.info("stopped")
    return 0


async def run_socket_mode(bot: Bot, stop: asyncio.Event) -> None:
    """Until `stop`: the SDK keeps the websocket open and reconnects on its own."""
    token = bot.deps.settings.slack_app_token
    assert token is not None
    handler = StrictSocketModeHandler(
        bot.app, token.get_secret_value(), bot.deps.settings.slack_api_url
    )
    await handler.connect_async()  # type: ignore[no-untyped-call]
    log.info("connected to Slack in Socket Mode")
    runner = await _listen(http_app(bot, slack_events=False), bot.deps.settings)
    await stop.wait()
    bot.deps.tracker.accepting = False
    await handler.close_async()  # type: ignore[no-untyped-call]
    await runner.cleanup()


async def run_http(bot: Bot, stop: asyncio.Event) -> None:
    runner = await _listen(http_app(bot), bot.deps.settings)
    await stop.wait()
    bot.deps.tracker.accepting = False
    await runner.cleanup()


async def _listen(app: web.Application, settings: Settings) -> web.AppRunner:
    runner = web.AppRunner(app, handle_signals=False)
    await runner.setup()
    await web.TCPSite(runner, settings.host, settings.port).start()
    log.info(
        "listening on http://%s:%d/ (%s)",
        settings.host,
        settings.port,
        ", ".join(
            sorted({r.resource.canonical for r in app.router.routes() if r.resource is not None})
        ),
    )
    return runner
