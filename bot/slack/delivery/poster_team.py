"""The Slack Connect guard for events that name a person but not their organisation.

Slack's `link_shared` and `entity_details_requested` carry only `user`: no `user_team` or
`source_team`. Read alone, such an event looks like it came from the installing team, so a
person of another organisation pasting a task link in a shared channel would get its unfurl.
When the envelope says the channel is shared with another organisation
(`is_ext_shared_channel`), or does not say, and the event names no team, the person's team is
asked of Slack (`users.info`, `users:read`), remembered per workspace and person for an hour in
a bounded cache. Anything unknown is refused: a failed lookup shows nothing rather than leak.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

import aiohttp
from cachetools import TTLCache
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bot.slack.basics.payloads import delivered_to, is_external, text
from bot.slack.delivery.deliver import slack_error

log = logging.getLogger(__name__)

LOOKUP_TIMEOUT = 2.0  # seconds for `users.info`: the unfurl is already acknowledged
CACHE_SIZE = 10_000  # (workspace, person) pairs remembered
CACHE_TTL = 3600.0  # seconds: a person rarely changes organisation


class PosterTeams:
    """Whether the person behind an event may see task details (home team or allowed)."""

    def __init__(self, home_team: str, allowed: list[str]) -> None:
        self._home_team = home_team
        self._allowed = allowed
        # (workspace, person) -> (their team, their enterprise or "")
        self._teams: TTLCache[tuple[str, str], tuple[str, str]] = TTLCache(CACHE_SIZE, CACHE_TTL)

    async def outsider(
        self, client: AsyncWebClient, ws: str, body: dict[str, Any], event: dict[str, Any]
    ) -> bool:
        """True when the event's person belongs to another organisation, or may."""
        if is_external(body, self._home_team, self._allowed):
            return True
        shared = body.get("is_ext_shared_channel")
        named = any(text(event, key) for key in ("user_team", "source_team", "team"))
        if shared is False or (named and shared is not True):
            return False  # a channel of ours alone, or the event names the team it checked
        home = self._home_team or delivered_to(body)
        person = text(event, "user")
        found = await self._team_of(client, ws, person) if person else None
        if found is None:
            log.info("the person's organisation is unknown: nothing shown to them")
            return True
        team, enterprise = found
        if enterprise and enterprise == text(body, "enterprise_id"):
            return False  # another workspace of the same Enterprise Grid organisation
        return team != home and team not in self._allowed

    async def _team_of(
        self, client: AsyncWebClient, ws: str, person: str
    ) -> tuple[str, str] | None:
        key = (ws, person)
        if key in self._teams:
            return self._teams[key]
        try:
            info = await asyncio.wait_for(client.users_info(user=person), LOOKUP_TIMEOUT)
        except SlackApiError as exc:
            log.info("users.info refused: %s", slack_error(exc))
            return None
        except (TimeoutError, aiohttp.ClientError):
            log.info("users.info did not answer in time")
            return None
        user = {"user": info.get("user")}
        team = text(user, "user", "team_id")
        if not team:
            return None
        found = (team, text(user, "user", "enterprise_user", "enterprise_id"))
        self._teams[key] = found
        return found
