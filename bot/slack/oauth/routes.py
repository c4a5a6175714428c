"""`GET /slack/install` and `GET /slack/oauth_redirect`, through Bolt's `AsyncOAuthFlow`.

Bolt's flow issues and checks the state (in `StoreStates`), exchanges the code at
`oauth.v2.access` under `SLACK_API_URL` and saves the installation (in `StoreInstallations`);
the pages are the bot's own (`pages`), every value escaped. Served by the bot's aiohttp
listener in HTTP and Socket Mode alike: Bolt routes these paths only in its own servers.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence

from aiohttp import web
from slack_bolt.adapter.aiohttp import to_aiohttp_response
from slack_bolt.oauth.async_callback_options import (
    AsyncCallbackOptions,
    AsyncFailureArgs,
    AsyncSuccessArgs,
)
from slack_bolt.oauth.async_oauth_flow import AsyncOAuthFlow
from slack_bolt.oauth.async_oauth_settings import AsyncOAuthSettings
from slack_bolt.request.async_request import AsyncBoltRequest
from slack_bolt.response import BoltResponse
from slack_sdk.oauth.state_utils import OAuthStateUtils
from slack_sdk.web.async_client import AsyncWebClient

from bot.slack.oauth.install_budget import InstallBudget
from bot.slack.oauth.installations import StoreInstallations, StoreStates
from bot.slack.oauth.pages import busy_page, failed_page, install_page, installed_page
from bot.slack.oauth.scopes import BOT_SCOPES, INSTALL_PATH, REDIRECT_PATH, STATE_TTL

log = logging.getLogger(__name__)

HTML: dict[str, str | Sequence[str]] = {
    "Content-Type": "text/html; charset=utf-8",
    "Cache-Control": "no-store",
}


class AnyBrowser(OAuthStateUtils):
    """The state is checked in the store (one use, ten minutes), not against a cookie of the
    browser that opened the install page: an admin often opens a link a colleague sent, and
    the installation goes to whichever workspace approved the code anyway."""

    def is_valid_browser(
        self, state: str | None, request_headers: Mapping[str, str | Sequence[str]]
    ) -> bool:
        return state is not None


def oauth_flow(
    client: AsyncWebClient,
    client_id: str,
    client_secret: str,
    installations: StoreInstallations,
    states: StoreStates,
) -> AsyncOAuthFlow:
    settings = AsyncOAuthSettings(
        client_id=client_id,
        client_secret=client_secret,
        scopes=list(BOT_SCOPES),
        user_scopes=[],
        installation_store=installations,
        installation_store_bot_only=True,
        state_store=states,
        state_expiration_seconds=STATE_TTL,
        install_path=INSTALL_PATH,
        redirect_uri_path=REDIRECT_PATH,
        callback_options=AsyncCallbackOptions(success=_installed, failure=_failed),
    )
    settings.state_utils = AnyBrowser(expiration_seconds=STATE_TTL)
    return AsyncOAuthFlow(client=client, logger=log, settings=settings)


async def _installed(args: AsyncSuccessArgs) -> BoltResponse:
    installation = args.installation
    log.info(
        "installed in workspace %s%s",
        installation.enterprise_id if installation.is_enterprise_install else installation.team_id,
        " (org-wide)" if installation.is_enterprise_install else "",
    )
    return BoltResponse(status=200, body=installed_page(installation.team_name), headers=HTML)


async def _failed(args: AsyncFailureArgs) -> BoltResponse:
    friendly = args.reason == "access_denied"  # the person said no: not an error
    status = 200 if friendly else args.suggested_status_code
    if not friendly:
        log.info("install not completed: %s", args.reason)
    return BoltResponse(status=status, body=failed_page(args.reason), headers=HTML)


def add_oauth_routes(
    app: web.Application, flow: AsyncOAuthFlow, budget: InstallBudget | None = None
) -> None:
    links = budget or InstallBudget()

    async def install(request: web.Request) -> web.StreamResponse:
        if not links.allow():  # each link stores a state: a stranger must not grow the store
            return web.Response(
                status=429,
                text=busy_page(),
                content_type="text/html",
                headers={"Cache-Control": "no-store", "Retry-After": str(links.wait())},
            )
        bolt = _bolt_request(request)
        state = await flow.issue_new_state(bolt)
        url = await flow.build_authorize_url(state, bolt)
        return web.Response(
            text=install_page(url), content_type="text/html", headers={"Cache-Control": "no-store"}
        )

    async def redirect(request: web.Request) -> web.StreamResponse:
        return await to_aiohttp_response(await flow.handle_callback(_bolt_request(request)))

    app.router.add_get(INSTALL_PATH, install)
    app.router.add_get(REDIRECT_PATH, redirect)


def _bolt_request(request: web.Request) -> AsyncBoltRequest:
    headers: dict[str, str | Sequence[str]] = {k.lower(): v for k, v in request.headers.items()}
    return AsyncBoltRequest(body="", query=request.query_string, headers=headers)
