"""The Bolt app: one AsyncApp, each surface registered from its own module."""

from __future__ import annotations

import logging

from slack_bolt.async_app import AsyncApp
from slack_sdk.web.async_client import AsyncWebClient

from bot.slack import actions, command, mention, observe, shortcut
from bot.slack.context import Deps
from bot.slack.front_door import quiet_unhandled


def build_app(deps: Deps, client: AsyncWebClient) -> AsyncApp:
    settings = deps.settings
    secret = settings.slack_signing_secret
    app = AsyncApp(
        client=client,
        signing_secret=secret.get_secret_value() if secret else "",
        # Off in both modes: HTTP requests are verified before Bolt, on the raw bytes
        # (bot.slack.front_door); Socket Mode's arrive over an authenticated websocket.
        request_verification_enabled=False,
        process_before_response=False,
        raise_error_for_unhandled_request=True,  # see quiet_unhandled
        logger=logging.getLogger("bot.slack.bolt"),
    )
    observe.install(app, deps.metrics)
    quiet_unhandled(app)
    for surface in (command, shortcut, mention, actions):
        surface.register(app, deps)
    return app
