"""Start-up, the HTTP or Socket Mode front, and a graceful SIGTERM."""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import errno
import logging
import signal
import time
from asyncio import FIRST_COMPLETED
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from functools import partial
from typing import Any

import aiohttp
from aiohttp import web
from slack_bolt.async_app import AsyncApp

from bot.config import Settings
from bot.ops import heap
from bot.ops.limited_log import quiet_parse_errors
from bot.ops.metrics import Metrics
from bot.ops.startup import (
    SLACK_HINT,
    STORE_HINT,
    StartupError,
    step,
    verify_app_token,
    verify_bot_token,
)
from bot.pictures.fetcher import PictureFetcher
from bot.records.watch import WATCH_KINDS
from bot.render.links import TaskLinks
from bot.slack.basics.limits import LookupLimiter
from bot.slack.bolt.app import build_app
from bot.slack.delivery.context import Deps
from bot.slack.delivery.deliver import Delivery
from bot.slack.delivery.home_tab import HomeTab, RefreshingPublisher
from bot.slack.delivery.live import SlackPublisher
from bot.slack.delivery.pacing import ANSWERS, LIVE_EDITS, Holds, PacedWebClient
from bot.slack.delivery.slack_clients import OneWorkspace
from bot.slack.delivery.steps import StepTokens, step_keyring
from bot.slack.delivery.tracker import Tracker
from bot.slack.front.front_door import FrontDoor
from bot.slack.front.health import Health, add_routes
from bot.slack.front.monitoring import listen_metrics, metrics_handler, sample_store_size
from bot.slack.front.socket_front import ObservedSocketModeHandler
from bot.slack.oauth.clients import RoutedPublisher
from bot.slack.oauth.routes import add_oauth_routes
from bot.slack.oauth.wiring import OAuth, build_oauth
from bot.store import open_store
from bot.tenancy.accounts import accounts_from_settings
from bot.watch.scheduler import WatchConfig, Watcher

log = logging.getLogger(__name__)

FIRST_CONNECT_TIMEOUT = 10.0  # seconds for Socket Mode's first websocket; a healthy one: < 1 s
CANCEL_MARGIN = 1.5  # seconds kept after cancelling late answers: notes, closes, exit
UNWIND = 0.5  # seconds a cancelled task gets to unwind


@dataclass
class Bot:
    deps: Deps
    app: AsyncApp
    health: Health
    watcher_task: asyncio.Task[None] | None = None
    sampler_task: asyncio.Task[None] | None = None
    oauth: OAuth | None = None  # OAuth mode: installations, tokens, the install pages
    refresh_task: asyncio.Task[None] | None = None

    def start(self) -> None:
        """The work that writes to Slack and to the store (the watcher) and the store-size
        sampler, once start-up has succeeded: port bound, Slack connected, store reachable.
        A run that then fails (a port in use) has touched no watch. Idempotent."""
        if self.watcher_task is None:
            self.watcher_task = asyncio.create_task(self.deps.watcher.run(), name="watcher")
        if self.sampler_task is None:
            deps = self.deps
            self.sampler_task = asyncio.create_task(
                sample_store_size(deps.metrics, deps.store, deps.settings.store_size_interval),
                name="store size",
            )
        if self.oauth is not None and self.refresh_task is None:
            self.refresh_task = asyncio.create_task(self.oauth.tokens.run(), name="tokens")

    async def drain(self) -> None:
        """Everything after SIGTERM within one `SHUTDOWN_GRACE` deadline, not one per step.

        New work is refused at once (readiness turns 503). Acknowledged answers and the
        watcher's tick under way finish side by side; the watcher's `shutdown` is where it
        hands back what it holds. What is still running shortly before the deadline is
        cancelled (an asker cut off is told to ask again), then upstream batches still out.
        """
        deps, loop = self.deps, asyncio.get_running_loop()
        grace = deps.settings.shutdown_grace
        deadline = loop.time() + grace
        deps.tracker.accepting = False
        # Cancelling this long before the deadline leaves room for the "restarting" notes
        # (under a second) and the last closes.
        cancel_in = max(0.0, grace - min(CANCEL_MARGIN, grace / 4))
        answers = asyncio.ensure_future(deps.tracker.drain(cancel_in))
        # The tick under way and completions in flight end within `cancel_in`, then the
        # watcher hands its leases back so another replica takes its watches at once.
        stopping = asyncio.ensure_future(deps.watcher.shutdown(cancel_in))
        await _within(stopping, cancel_in + UNWIND)
        for task in (self.watcher_task, self.sampler_task, self.refresh_task):
            if task is not None:
                await _within(task, 0.0)
        left = await answers
        if left:
            log.warning("%d answers did not finish within the grace period", left)
        upstream = asyncio.ensure_future(deps.accounts.aclose())
        await _within(upstream, deadline - loop.time() - UNWIND)


async def _within(task: asyncio.Future[None], seconds: float) -> None:
    """Wait up to `seconds` for `task`, then cancel it and wait for it to unwind."""
    with contextlib.suppress(asyncio.TimeoutError, asyncio.CancelledError):
        await asyncio.wait_for(asyncio.shield(task), max(0.0, seconds))
    if not task.done():
        task.cancel()
        with contextlib.suppress(asyncio.TimeoutError, asyncio.CancelledError, Exception):
            await asyncio.wait_for(task, UNWIND)


def web_client(
    settings: Settings,
    session: aiohttp.ClientSession,
    *,
    wait_rate_limits: bool,
    metrics: Metrics | None = None,
    holds: Holds | None = None,
    token_source: Callable[[], Awaitable[str]] | None = None,
) -> PacedWebClient:
    """A client through the app's one gate (`bot.slack.delivery.pacing`): answers wait their turn,
    live edits (`wait_rate_limits=False`) never wait. OAuth mode: no token of its own, each
    call takes the one of the workspace it is for (`token_source`)."""
    token = settings.slack_bot_token
    client = PacedWebClient(
        token=None if settings.oauth or token is None else token.get_secret_value(),
        base_url=settings.slack_api_url,
        session=session,
        retry_handlers=[],  # the gate retries, bounded by time
    )
    client.metrics, client.holds = metrics, holds
    client.token_source = token_source
    answers = dataclasses.replace(ANSWERS, patience=settings.slack_retry_patience)
    client.policy = answers if wait_rate_limits else LIVE_EDITS
    return client


@contextlib.asynccontextmanager
async def running_bot(
    settings: Settings,
    clock: Callable[[], float] = time.time,
    *,
    deferred: bool = False,
    watch_clock: Callable[[], float] = time.time,
) -> AsyncIterator[Bot]:
    """Everything the bot needs, each step checked at start; closed in reverse on any exit.

    A start-up fault raises `StartupError` after closing what was already open (the store's
    thread included), so the process can exit at once. `deferred`: the watcher waits for
    `Bot.start()`, which the fronts call once they listen (and, in Socket Mode, are
    connected); otherwise it starts at once (a bot embedded in tests). `watch_clock`: the
    watcher's wall clock (a step's timeout runs on it; tests move it on).
    """
    metrics = Metrics()
    async with contextlib.AsyncExitStack() as stack:
        store = await step(
            "STATE_URL", open_store(settings.state_url, settings.state_retention), STORE_HINT
        )
        stack.push_async_callback(store.close)
        session = await stack.enter_async_context(aiohttp.ClientSession())
        pictures = await stack.enter_async_context(
            PictureFetcher(
                max_bytes=settings.watch_upload_max_bytes,
                allow_private=settings.picture_allow_private,
            )
        )
        accounts = accounts_from_settings(
            settings,
            session,
            store,
            on_call=lambda outcome: metrics.upstream.labels(outcome).inc(),
            observer=metrics,
        )
        holds = Holds(store)  # Slack's Retry-After, kept in the store for the fleet
        client = web_client(settings, session, wait_rate_limits=True, metrics=metrics, holds=holds)
        oauth = build_oauth(settings, store, session, client) if settings.oauth else None
        if oauth is not None:  # an uninstalled workspace's keys and cache leave memory too
            oauth.on_forget.append(accounts.forget)
        routed = oauth.clients.current_token if oauth is not None else None
        client.token_source = routed
        delivery = Delivery(client, session, metrics=metrics, pictures=pictures)
        step_tokens = StepTokens(step_keyring(settings))
        publisher = SlackPublisher(
            delivery,
            metrics,
            web_client(
                settings,
                session,
                wait_rate_limits=False,
                metrics=metrics,
                holds=holds,
                token_source=routed,
            ),
            session,
            pictures=pictures if settings.watch_upload_pictures else None,
            upload_max_files=settings.watch_upload_max_files,
            links=TaskLinks.of(settings.task_link_url),
            step_tokens=step_tokens,
        )
        home = HomeTab(client, store)
        home.accounts = accounts
        stack.callback(home.close)
        refreshing = RefreshingPublisher(publisher, home)
        watcher = Watcher(
            store,
            accounts,
            refreshing if oauth is None else RoutedPublisher(refreshing),
            watch_config(settings),
            clock=watch_clock,
        )
        watcher.on_tick = partial(_ticked, metrics, watcher, many=oauth is not None)
        metrics.watches.set_function(lambda: watcher.open_watches)
        for mode in WATCH_KINDS:  # quiet follows and steps: the same figure by kind
            metrics.watches_by_mode.labels(mode).set_function(partial(_open_in, watcher, mode))
        identity: dict[str, Any] = {}  # OAuth mode: each request's identity is its installation
        if oauth is None:
            identity = await step(
                "Slack API (auth.test)", verify_bot_token(settings, session), SLACK_HINT
            )
        if settings.mode == "socket":
            await step("Slack Socket Mode", verify_app_token(settings, session), SLACK_HINT)
        tracker = Tracker()
        deps = Deps(
            settings=settings,
            accounts=accounts,
            store=store,
            delivery=delivery,
            tracker=tracker,
            metrics=metrics,
            watcher=watcher,
            home_team=str(identity.get("team_id") or ""),
            bot_user_id=str(identity.get("user_id") or ""),
            lookups=LookupLimiter(settings.lookup_uids_per_minute),
            home=home,
            clock=clock,
            step_tokens=step_tokens,
            slack_clients=oauth.clients if oauth is not None else OneWorkspace(client),
        )
        home.workspace_url = str(identity.get("url") or "")
        holds.team = deps.home_team
        app = build_app(deps, client, oauth)
        health = Health(store, watcher, tracker, settings.watch_poll_interval)
        bot = Bot(deps, app, health, oauth=oauth)
        if not deferred:
            bot.start()
        if settings.metrics_port:
            own_port = await listen_metrics(
                http_app(bot, slack_events=False, metrics=True, pages=False),
                settings.host,
                settings.metrics_port,
            )
            stack.push_async_callback(own_port.cleanup)
        try:
            yield bot
        finally:
            if bot.watcher_task is not None and not bot.watcher_task.done():
                await bot.drain()  # not drained by a front (tests, or a failed front)
            if bot.sampler_task is not None:
                await _within(bot.sampler_task, 0.0)


def watch_config(settings: Settings) -> WatchConfig:
    return WatchConfig(
        poll_interval=settings.watch_poll_interval,
        max_duration=settings.watch_max_duration,
        max_uids=settings.watch_max_uids,
        max_per_user=settings.watch_max_per_user,
        updates_per_minute=settings.watch_updates_per_minute,
        heartbeat=settings.watch_heartbeat,
        thread_reads_per_minute=settings.watch_thread_reads_per_minute,
        links=TaskLinks.of(settings.task_link_url),
    )


def http_app(
    bot: Bot, *, slack_events: bool = True, metrics: bool | None = None, pages: bool = True
) -> web.Application:
    """`/slack/events` in HTTP mode; `/healthz`, `/readyz` and `/metrics` in both modes
    (`/metrics` on `METRICS_PORT` instead when that is set); in OAuth mode the install
    pages in both modes (`pages`: not on the metrics port)."""
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

    web_app = web.Application(client_max_size=1_000_000)
    if slack_events:
        web_app.router.add_post("/slack/events", events)
    add_routes(web_app, bot.health)
    if pages and bot.oauth is not None:
        add_oauth_routes(web_app, bot.oauth.flow)
    serve_metrics = deps.settings.metrics_port is None if metrics is None else metrics
    if serve_metrics:
        web_app.router.add_get("/metrics", metrics_handler(deps.metrics))
    return web_app


async def serve(settings: Settings) -> int:
    """Run until SIGTERM/SIGINT, honoured in every state: during start-up it stops at once."""
    stop = asyncio.Event()
    main = asyncio.current_task()
    started = False

    def on_signal() -> None:
        stop.set()
        if not started and main is not None:
            main.cancel()  # start-up steps may be waiting on the network: leave now

    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, on_signal)
    try:
        async with running_bot(settings, deferred=True) as bot:
            started = True
            heap.settle()  # start-up's objects live as long as the process
            front = run_socket_mode if settings.mode == "socket" else run_http
            await front(bot, stop)
    except asyncio.CancelledError:
        if not stop.is_set():
            raise
        log.info("stopped during start-up")
        return 0
    log.info("stopped")
    return 0


async def run_socket_mode(bot: Bot, stop: asyncio.Event) -> None:
    """Until `stop`: the SDK keeps the websocket open and reconnects on its own, with backoff
    (`bot.slack.front.reconnect`); readiness reports the connection meanwhile."""
    settings = bot.deps.settings
    token = settings.slack_app_token
    assert token is not None
    handler = ObservedSocketModeHandler(bot.app, token.get_secret_value(), settings.slack_api_url)
    bot.health.slack_connected = handler.client.is_connected
    runner = await _listen(http_app(bot, slack_events=False), settings)
    try:
        connecting = asyncio.ensure_future(handler.connect_async())  # type: ignore[no-untyped-call]
        stopping = asyncio.ensure_future(stop.wait())
        done, _ = await asyncio.wait(
            {connecting, stopping}, timeout=FIRST_CONNECT_TIMEOUT, return_when=FIRST_COMPLETED
        )
        if not done:  # the SDK would retry the same websocket URL forever
            stopping.cancel()
            await handler.close_async()  # type: ignore[no-untyped-call]
            await _within(connecting, UNWIND)
            raise StartupError(
                f"Slack Socket Mode: no websocket connection within {FIRST_CONNECT_TIMEOUT:g}s. "
                "Check that this host can open wss:// connections to Slack (proxy, firewall), "
                "or use HTTP mode (BOT_MODE=http)."
            )
        if connecting.done():
            connecting.result()
            log.info("connected to Slack in Socket Mode")
            bot.start()
            await stopping
        log.info("stopping: no new work; finishing what was acknowledged")
        bot.deps.tracker.accepting = False
        connecting.cancel()
        stopping.cancel()
        await handler.close_async()  # type: ignore[no-untyped-call]
        await bot.drain()
    finally:
        await runner.cleanup()


async def run_http(bot: Bot, stop: asyncio.Event) -> None:
    """The listener stays up through the drain: Slack gets 503 (and retries elsewhere),
    probes get `/readyz` 503, until the process exits.

    And for `SHUTDOWN_DRAIN` at least (within `SHUTDOWN_GRACE`), even when nothing was in
    flight: a load balancer learns that an instance is going from its 503s; a listener that
    closes at once gives it refused connections instead, and requests lost on the way.
    """
    settings = bot.deps.settings
    runner = await _listen(http_app(bot), settings)
    bot.start()
    try:
        await stop.wait()
        loop = asyncio.get_running_loop()
        hold_until = loop.time() + min(settings.shutdown_drain, settings.shutdown_grace)
        log.info("stopping: no new work; finishing what was acknowledged")
        bot.deps.tracker.accepting = False
        await bot.drain()
        await asyncio.sleep(max(0.0, hold_until - loop.time()))  # still answering 503
    finally:
        await runner.cleanup()


async def _listen(app: web.Application, settings: Settings) -> web.AppRunner:
    # Requests still open when the drain is over get a second, not aiohttp's default minute.
    runner = web.AppRunner(app, handle_signals=False, shutdown_timeout=1.0)
    await runner.setup()
    try:
        await web.TCPSite(runner, settings.host, settings.port).start()
    except OSError as exc:
        await runner.cleanup()
        raise StartupError(
            f"HOST/PORT: cannot listen on {settings.host}:{settings.port} ({exc.strerror}). "
            + (
                "Set PORT to a free port, or stop what holds this one."
                if exc.errno == errno.EADDRINUSE
                else "Set HOST to an address of this machine (0.0.0.0: all of them)."
            )
        ) from None
    log.info(
        "listening on http://%s:%d/ (%s)",
        settings.host,
        settings.port,
        ", ".join(
            sorted({r.resource.canonical for r in app.router.routes() if r.resource is not None})
        ),
    )
    return runner


def _ticked(metrics: Metrics, watcher: Watcher, took: float, lag: float, *, many: bool) -> None:
    """After each watch tick: its metrics; with many workspaces, now and then the busiest."""
    metrics.tick_done(took, lag, watcher.takeovers)
    if many:
        metrics.workspaces.maybe_report(watcher.open_by_workspace)


def _open_in(watcher: Watcher, mode: str) -> float:
    """Quiet follows: this process's open watches of one mode, for `/metrics`."""
    return float(watcher.open_by_mode.get(mode, 0))
