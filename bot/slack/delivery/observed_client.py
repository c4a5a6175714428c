"""The Web API client that counts Slack's refusals: the base of the paced client
(`bot.slack.delivery.pacing`), so every call the bot makes is seen."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

import aiohttp
from aiohttp import FormData
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient
from slack_sdk.web.async_slack_response import AsyncSlackResponse

from bot.ops.metrics import Metrics


class ObservedWebClient(AsyncWebClient):
    """Counts every failed Web API call by method and Slack's error code, then re-raises.

    Every method of the SDK client goes through `api_call`, so this is the one place to see
    them all without wrapping each call site.
    """

    metrics: Metrics | None = None
    # OAuth mode: a client built without a token takes, at each call, the token of the
    # workspace the work is for (`bot.slack.oauth.clients`).
    token_source: Callable[[], Awaitable[str]] | None = None

    async def api_call(
        self,
        api_method: str,
        *,
        http_verb: str = "POST",
        files: dict[str, Any] | None = None,
        data: dict[str, Any] | FormData | None = None,
        params: dict[str, Any] | None = None,
        json: dict[str, Any] | None = None,
        headers: dict[str, Any] | None = None,
        auth: dict[str, Any] | None = None,
    ) -> AsyncSlackResponse:
        if (
            self.token is None
            and self.token_source is not None
            and not _own_token(params, data, json, auth)
        ):
            token = await self.token_source()
            headers = {**(headers or {}), "Authorization": f"Bearer {token}"}
        try:
            return await super().api_call(
                api_method,
                http_verb=http_verb,
                files=files,
                data=data,
                params=params,
                json=json,
                headers=headers,
                auth=auth,
            )
        except SlackApiError as exc:
            error = exc.response.get("error") if exc.response is not None else None
            self._count(api_method, str(error or "unknown"))
            raise
        except (aiohttp.ClientError, TimeoutError) as exc:
            self._count(api_method, type(exc).__name__)
            raise

    def _count(self, method: str, error: str) -> None:
        if self.metrics is not None:
            self.metrics.slack_errors.labels(method, error).inc()


def _own_token(*args: object) -> bool:
    """A call that brings its own credentials (`apps.connections.open` its app token,
    `oauth.v2.access` the app's id and secret) keeps them."""
    params, data, json, auth = args
    return auth is not None or any(
        isinstance(part, dict) and "token" in part for part in (params, data, json)
    )


C = TypeVar("C", bound=AsyncWebClient)


def copy_client(client: C, token: str | None, team_id: str | None) -> C:
    """The client Bolt makes for each request of `team_id` (`AsyncApp._init_context`, from
    `AsyncWebClient`'s public constructor and attributes), but of the app client's own
    class, with what that class adds (its gate for Slack's limits, its metrics). Bolt's
    per-team clients and the gate's copies under another policy are both made here."""
    copy = type(client)(
        token=token,
        base_url=client.base_url,
        timeout=client.timeout,
        ssl=client.ssl,
        proxy=client.proxy,
        session=client.session,
        trust_env_in_session=client.trust_env_in_session,
        headers=client.headers,
        team_id=team_id,
        logger=client.logger,
        retry_handlers=client.retry_handlers.copy() if client.retry_handlers is not None else None,
    )
    added = {k: v for k, v in vars(client).items() if k not in vars(copy)}
    vars(copy).update(added)
    return copy
