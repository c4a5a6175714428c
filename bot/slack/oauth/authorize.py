"""Bolt's `authorize` in OAuth mode: each request's token from the installation store.

A subclass of Bolt's `AsyncAuthorize` (its public extension point) rather than Bolt's own
`AsyncInstallationStoreAuthorize`, which calls `auth.test` to fill in what the installation
already holds and rotates tokens in whichever process meets an expiring one (see
`bot.slack.oauth.rotation`).
"""

from __future__ import annotations

from slack_bolt.authorization import AuthorizeResult
from slack_bolt.authorization.async_authorize import AsyncAuthorize
from slack_bolt.context.async_context import AsyncBoltContext

from bot.records.workspace import workspace_key
from bot.slack.oauth.rotation import TokenKeeper


class InstallationAuthorize(AsyncAuthorize):
    def __init__(self, tokens: TokenKeeper) -> None:
        self._tokens = tokens

    async def __call__(
        self,
        *,
        context: AsyncBoltContext,
        enterprise_id: str | None,
        team_id: str | None,
        user_id: str | None,
        actor_enterprise_id: str | None = None,
        actor_team_id: str | None = None,
        actor_user_id: str | None = None,
    ) -> AuthorizeResult | None:
        org_wide = bool(context.is_enterprise_install)
        kept = await self._tokens.fresh(workspace_key(team_id, enterprise_id, org_wide))
        if kept is None and enterprise_id and not org_wide:
            # A request need not say its enterprise installed the app org-wide.
            org = await self._tokens.fresh(enterprise_id)
            kept = org if org is not None and org.is_enterprise_install else None
        if kept is None:
            return None
        if kept.is_enterprise_install:
            # The request's workspace is the installation's that authorized it: without this,
            # `request_workspace` would key an org-wide install's request by its team, where
            # nothing is installed and no state belongs.
            context["is_enterprise_install"] = True
        return AuthorizeResult(
            enterprise_id=kept.enterprise_id,
            team_id=team_id or kept.team_id,
            team=kept.team_name,
            bot_user_id=kept.bot_user_id,
            bot_id=kept.bot_id,
            bot_token=kept.bot_token,
            bot_scopes=kept.bot_scopes,
            user_id=user_id,
        )
