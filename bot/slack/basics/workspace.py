"""The workspace a Slack request belongs to, as Bolt's context names it."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from bot.records.workspace import workspace_key


def request_workspace(context: Mapping[str, Any]) -> str:
    """The isolation key of a request (see `bot.records.workspace`).

    Bolt's context carries `team_id`, `enterprise_id` and `is_enterprise_install`, read from
    the payload; an org-wide install's requests share the enterprise's key.
    """
    return workspace_key(
        context.get("team_id"),
        context.get("enterprise_id"),
        bool(context.get("is_enterprise_install")),
    )
