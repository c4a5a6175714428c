"""The Bolt app: one AsyncApp, each surface registered from its own module."""

from __future__ import annotations

import logging

from slack_bolt.async_app import AsyncApp
from slack_sdk.web.async_client import AsyncWebClient

from bot.slack import actions, command, mention, observe, shortcut
from bot.slack.context import Deps


def build_app(deps: Deps, client: AsyncWebClient) -> AsyncApp:
    settings = deps.settings
    secret = settings.slack_signing_secret
    app = AsyncApp(
        client=client,
        signing_secret=secret.get_secret_value() if secret else "",
        # Socket Mode requests arrive over an authenticated websocket, unsigned.
        request_verification_enabled=settings.mode == "http",
        process_before_response=False,
        logger=logging.getLogger("bot.slack.bolt"),
    )
    observe.install(app, deps.metrics)
    for surface in (command, shortcut, mention, actions):
        surface.register(app, deps)
    return app
