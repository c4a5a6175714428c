"""The Bolt app: one AsyncApp, each surface registered from its own module."""

from __future__ import annotations

import logging

from slack_bolt.async_app import AsyncApp
from slack_bolt.logger.messages import warning_client_prioritized_and_token_skipped
from slack_sdk.web.async_client import AsyncWebClient

from bot.slack.bolt import observe, request_errors
from bot.slack.bolt.lean_bolt import LeanApp
from bot.slack.delivery.context import Deps
from bot.slack.oauth.wiring import OAuth, acknowledge_revocations
from bot.slack.surfaces import (
    actions,
    command,
    connect,
    follow,
    home,
    mention,
    modal,
    shortcut,
    steps,
    unfurl,
)


class _ClientWins(logging.Filter):
    """Bolt reads SLACK_BOT_TOKEN from the environment by itself, then warns at every start
    that the client we pass wins over it. That is the intent, so the warning is dropped."""

    def filter(self, record: logging.LogRecord) -> bool:
        return record.getMessage() != warning_client_prioritized_and_token_skipped()


def build_app(deps: Deps, client: AsyncWebClient, oauth: OAuth | None = None) -> AsyncApp:
    settings = deps.settings
    bolt_log = logging.getLogger("bot.slack.bolt")
    if not any(isinstance(f, _ClientWins) for f in bolt_log.filters):
        bolt_log.addFilter(_ClientWins())
    secret = settings.slack_signing_secret
    app = LeanApp(
        client=client,
        signing_secret=secret.get_secret_value() if secret else "",
        # Off in both modes: HTTP requests are verified before Bolt, on the raw bytes
        # (bot.slack.front.front_door); Socket Mode's arrive over an authenticated websocket.
        request_verification_enabled=False,
        # Every listener acks, hands its work to the tracker and returns at once, so Bolt may
        # await it in line: otherwise it runs each listener as a task and polls for the ack
        # every 10 ms, which put 10 ms on every ack and a timer per request on the CPU.
        process_before_response=True,
        raise_error_for_unhandled_request=True,  # see request_errors
        logger=bolt_log,
        **(oauth.bolt_options() if oauth is not None else {}),
    )
    if oauth is not None:
        oauth.attach(app)
    else:
        acknowledge_revocations(app)
    observe.install(app, deps.metrics)
    request_errors.install(app)
    for surface in (
        command,
        shortcut,
        mention,
        actions,
        follow,
        home,
        modal,
        connect,
        unfurl,
        steps,
    ):
        surface.register(app, deps)
    return app
