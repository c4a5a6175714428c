"""`function_executed` events as Slack sends them for the Workflow Builder steps."""

from __future__ import annotations

import json
import time
import uuid
from typing import Any

from bot.testing.fake_slack import HOME_TEAM, FakeSlack


def function_event(
    callback_id: str,
    inputs: dict[str, Any],
    execution: str,
    token: str,
    *,
    team: str = HOME_TEAM,
    event_id: str | None = None,
    **top: Any,
) -> str:
    """The body of one `function_executed` event (shape of bolt-python's own tests);
    `top`: more top-level fields (`enterprise_id`, `is_enterprise_install`)."""
    body = {
        "type": "event_callback",
        "team_id": team,
        "api_app_id": "A1",
        "event": {
            "type": "function_executed",
            "function": {
                "id": "Fn" + callback_id,
                "callback_id": callback_id,
                "title": callback_id,
                "type": "app",
                "app_id": "A1",
            },
            "inputs": inputs,
            "function_execution_id": execution,
            "workflow_execution_id": "Wx" + execution,
            "event_ts": f"{time.time():.6f}",
            "bot_access_token": token,
        },
        "event_id": event_id or "Ev" + uuid.uuid4().hex[:10],
        "event_time": int(time.time()),
        "authorizations": [{"team_id": team, "user_id": "UBOT", "is_bot": True}],
        **top,
    }
    return json.dumps(body)


def completions(slack: FakeSlack, execution: str) -> list[dict[str, Any]]:
    """Every completion call made for `execution`, accepted or refused."""
    return [
        {"method": c.method, "token": c.token, **c.args}
        for c in slack.calls
        if c.method.startswith("functions.") and c.args.get("function_execution_id") == execution
    ]
