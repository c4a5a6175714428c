"""The App Home tab: published when opened; *Stop watching* from it ends that watch."""

from __future__ import annotations

from typing import Any

from slack_bolt.async_app import AsyncAck, AsyncApp
from slack_bolt.context.async_context import AsyncBoltContext

from bot.render.answer import Message
from bot.slack.basics.ids import HomeAction
from bot.slack.basics.payloads import team_id, text, user_id
from bot.slack.basics.workspace import request_workspace
from bot.slack.delivery.answering import Place, guarded
from bot.slack.delivery.context import Deps
from bot.slack.surfaces.actions import unwatch_button
from bot.slack.surfaces.quiet import mode_choice, switch_mode


def register(app: AsyncApp, deps: Deps) -> None:
    @app.event("app_home_opened")
    async def on_home_opened(event: dict[str, Any], context: AsyncBoltContext) -> None:
        deps.metrics.requests.labels("home").inc()
        if event.get("tab") != "home" or deps.home is None:
            return  # the Messages tab
        ws = request_workspace(context)
        deps.tracker.spawn(deps.home.opened(ws, text(event, "user")), "home")

    @app.action(HomeAction.UNWATCH.value)
    async def on_stop(
        ack: AsyncAck, body: dict[str, Any], action: dict[str, Any], context: AsyncBoltContext
    ) -> None:
        await ack()
        deps.metrics.requests.labels("home_unwatch").inc()
        person = user_id(body)
        place = Place(channel="", user=person, team=team_id(body), ws=request_workspace(context))

        async def work() -> None:
            await unwatch_button(deps, body, action, place)
            if deps.home is not None:
                await deps.home.publish_soon(place.ws, person)  # at once, unless within its gap

        deps.tracker.spawn(guarded(deps, place, "home_unwatch", work), "home_unwatch")

    @app.action(HomeAction.FOLLOW_MODE.value)
    async def on_follow_mode(
        ack: AsyncAck, body: dict[str, Any], action: dict[str, Any], context: AsyncBoltContext
    ) -> None:
        """Quiet follows: a channel's mode chosen in the Home list; announced in the channel
        like the command's switch. A choice that names nothing valid is dropped."""
        await ack()
        deps.metrics.requests.labels("home_follow_mode").inc()
        person = user_id(body)
        place = Place(channel="", user=person, team=team_id(body), ws=request_workspace(context))
        choice = mode_choice(action)
        if choice is None:
            return

        async def work() -> None:
            mode, channel = choice
            await switch_mode(deps, place.ws, channel, person, mode, _nowhere)
            if deps.home is not None:
                await deps.home.publish(place.ws, person)  # at once: the menu shows the new mode

        deps.tracker.spawn(guarded(deps, place, "home_follow_mode", work), "home_follow_mode")


async def _nowhere(_: Message) -> None:
    """The Home menu has no reply channel: its view, published again, shows the outcome."""
