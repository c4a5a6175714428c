"""Start-up, the HTTP or Socket Mode front, and a graceful SIGTERM."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
from collections.abc import AsyncIterator
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
from bot.pictures import PictureFetcher
from bot.slack.app import build_app
from bot.slack.context import Deps
from bot.slack.deliver import Delivery
from bot.slack.front_door import FrontDoor
from bot.slack.limits import LookupLimiter
from bot.slack.live import SlackPublisher
from bot.slack.monitoring import listen_metrics, metrics_handler
from bot.slack.observe import ObservedSocketModeHandler, ObservedWebClient
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
    settings: Settings,
    session: aiohttp.ClientSession,
    *,
    wait_rate_limits: bool,
    metrics: Metrics | None = None,
) -> AsyncWebClient:
    assert settings.slack_bot_token is not None
    handlers = [AsyncConnectionErrorRetryHandler(max_retry_count=2)]
    if wait_rate_limits:
        handlers.append(AsyncRateLimitErrorRetryHandler(max_retry_count=3))  # type: ignore[arg-type]
    client = ObservedWebClient(
        token=settings.slack_bot_token.get_secret_value(),
        base_url=settings.slack_api_url,
        session=session,
        retry_handlers=list(handlers),
    )
    client.metrics = metrics
    return client


@contextlib.asynccontextmanager
async def running_bot(settings: Settings) -> AsyncIterator[Bot]:
    """Everything the bot needs, started in order and stopped in reverse, gracefully."""
    metrics = Metrics()
    store = await open_store(settings.state_url)
    pictures = PictureFetcher(
        max_bytes=settings.watch_upload_max_bytes, allow_private=settings.picture_allow_private
    )
    async with aiohttp.ClientSession() as session, pictures:
        tasks = TaskApiClient(
            session,
            config_from_settings(settings),
            on_call=lambda outcome: metrics.upstream.labels(outcome).inc(),
            observer=metrics,
        )
        client = web_client(settings, session, wait_rate_limits=True, metrics=metrics)
        delivery = Delivery(client, session, metrics=metrics)
        publisher = SlackPublisher(
            delivery,
            metrics,
            web_client(settings, session, wait_rate_limits=False, metrics=metrics),
            session,
            pictures=pictures if settings.watch_upload_pictures else None,
            upload_max_files=settings.watch_upload_max_files,
        )
        watcher = Watcher(store, tasks, publisher, watch_config(settings))
        watcher.on_tick = metrics.tick_done
        metrics.watches.set_function(lambda: watcher.open_watches)
        identity = await client.auth_test()
        deps = Deps(
            settings=settings,
            tasks=tasks,
            store=store,
            delivery=delivery,
            tracker=Tracker(),
            metrics=metrics,
            watcher=watcher,
            home_team=str(identity.get("team_id") or ""),
            bot_user_id=str(identity.get("user_id") or ""),
            lookups=LookupLimiter(settings.lookup_uids_per_minute),
        )
        app = build_app(deps, client)
        watcher_task = asyncio.create_task(watcher.run(), name="watcher")
        bot = Bot(deps, app, watcher_task)
        metrics_port = settings.metrics_port
        own_port = (
            await listen_metrics(
                http_app(bot, slack_events=False, metrics=True), settings.host, metrics_port
            )
            if metrics_port
            else None
        )
        try:
            yield bot
        finally:
            if own_port is not None:
                await own_port.cleanup()
            left = await deps.tracker.drain(settings.shutdown_grace)
            if left:
                log.warning("%d answers did not finish within the grace period", left)
            watcher.shutdown()
            with contextlib.suppress(asyncio.TimeoutError):
                await asyncio.wait_for(asyncio.shield(watcher_task), settings.shutdown_grace)
            watcher_task.cancel()
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


def http_app(
    bot: Bot, *, slack_events: bool = True, metrics: bool | None = None
) -> web.Application:
    """`/slack/events` in HTTP mode; `/healthz` and `/metrics` in both modes (`/metrics` on
    `METRICS_PORT` instead when that is set)."""
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

    web_app = web.Application(client_max_size=1_000_000)
    if slack_events:
        web_app.router.add_post("/slack/events", events)
    web_app.router.add_get("/healthz", healthz)
    serve_metrics = deps.settings.metrics_port is None if metrics is None else metrics
    if serve_metrics:
        web_app.router.add_get("/metrics", metrics_handler(deps.metrics, deps.store))
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
    handler = ObservedSocketModeHandler(
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
