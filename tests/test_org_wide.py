"""An enterprise's org-wide installation, through the real app and the fake Slack: a
request of one of its workspaces is served under the enterprise, whether or not its payload
says `is_enterprise_install`, and only an org admin or owner (or the installer) may change
the enterprise's task API account: one workspace's admin may not."""

from __future__ import annotations

import json
from typing import Any

from bot.taskapi.fake import FAKE_PRIVATE_KEY, FAKE_PUBLIC_KEY
from tests.oauth_harness import install, mention_in
from tests.slack_harness import Harness
from tests.test_oauth_flow import oauth, store_of  # noqa: F401 - the fixture

TEAM, ORG = "T0A", "E0ORG"


async def org_wide(h: Harness) -> None:
    h.slack.enterprises[TEAM] = ORG
    h.slack.own(TEAM, "C0A")
    assert (await install(h, None, enterprise=ORG, org_wide=True)).status == 200


async def test_a_request_that_does_not_say_org_wide_is_answered_and_kept_under_the_enterprise(
    oauth: Harness,  # noqa: F811
) -> None:
    await org_wide(oauth)
    response = await mention_in(oauth, TEAM, "C0A", "watch slow-1", enterprise=ORG, org_wide=False)
    assert response.status == 200
    await oauth.slack.wait_for(lambda: oauth.slack.calls_to("chat.postMessage"))
    await oauth.bot.deps.watcher.wait_ticks(1)
    store = store_of(oauth)
    assert len(await store.open_watches(ORG)) == 1
    assert await store.open_watches(TEAM) == []
    assert not [c for c in oauth.slack.calls if c.refused]  # the enterprise's token, its teams


def submission(user: str) -> dict[str, Any]:
    """The connect modal submitted from a workspace of the enterprise."""
    values = {
        block: {"value": {"type": "plain_text_input", "value": value}}
        for block, value in (("public_key", FAKE_PUBLIC_KEY), ("private_key", FAKE_PRIVATE_KEY))
    }
    return {
        "type": "view_submission",
        "team": {"id": TEAM, "enterprise_id": ORG},
        "enterprise": {"id": ORG},
        "is_enterprise_install": True,
        "user": {"id": user, "team_id": TEAM},
        "view": {
            "id": "VCONNECT",
            "type": "modal",
            "callback_id": "task_api_connect",
            "state": {"values": values},
        },
    }


async def submit(h: Harness, user: str) -> str:
    response = await h.interactive(submission(user))
    assert response.status == 200
    return json.dumps(json.loads(await response.text()))


async def test_only_an_org_admin_changes_an_org_wide_installs_account(
    oauth: Harness,  # noqa: F811
) -> None:
    await org_wide(oauth)
    oauth.slack.add_user("UWSADMIN", TEAM, admin=True, owner=True)  # one workspace's only
    oauth.slack.add_user("UORGADMIN", TEAM, org_admin=True)
    store = store_of(oauth)

    assert "Only an organisation admin or owner" in await submit(oauth, "UWSADMIN")
    assert await store.get_account(ORG) is None

    assert "Connected" in await submit(oauth, "UORGADMIN")
    account = await store.get_account(ORG)
    assert account is not None
    assert account.connected_by == "UORGADMIN"
