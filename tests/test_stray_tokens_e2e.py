"""Commands with debris beside their UIDs, through signed requests into the real app: every
valid UID is answered, and the same answer names, once, what was not a UID."""

from __future__ import annotations

import json
from typing import Any

import pytest

from tests.slack_harness import Harness
from tests.test_watch_e2e import FAST, live_message, notices

UUID = "8b804c2d-5e6f-4a1b-9c2d-3e4f5a6b7c8d"
BROADCAST_UUID = "b7e2d9f0-3c4a-4e5b-8f6a-7b8c9d0e1f2a"


def body(payload: dict[str, Any]) -> str:
    return json.dumps(payload.get("blocks")) + str(payload.get("text"))


def asked(harness: Harness) -> set[str]:
    """Every UID the fake task API was asked about."""
    return {uid for call in harness.api.calls for uid in call}


def sections(payload: dict[str, Any]) -> list[str]:
    return [b["text"]["text"] for b in payload["blocks"] if b["type"] == "section"]


async def test_slash_command_answers_every_uid_and_names_the_debris(harness: Harness) -> None:
    response, key = await harness.command(f"{UUID} h4wu2zq9 _,job_efeuu ok-1")
    assert response.status == 200
    assert await response.text() == ""  # no refusal in the ack: the answer follows
    [answer] = await harness.answers(key)
    assert {UUID, "h4wu2zq9", "job_efeuu", "ok-1"} <= asked(harness)
    text = body(answer)
    assert UUID in text
    assert "ok-1" in text
    assert ":warning: Not task UIDs, so not looked up: `_`." in sections(answer)
    assert text.count("Not task UIDs") == 1


async def test_many_junk_tokens_stay_within_slacks_limits(harness: Harness) -> None:
    # About 35,000 characters: within the 40,000 a command is read to (`parse.MAX_TEXT`).
    junk = " ".join(f"<{n}>&" + "&lt;" * 20 for n in range(400))
    _, key = await harness.command(f"ok-1 {junk}")
    [answer] = await harness.answers(key)
    line = [s for s in sections(answer) if s.startswith(":warning: Not task UIDs")]
    assert len(line) == 1
    assert line[0].endswith(" and 390 more.")
    assert all(len(s) <= 3000 for s in sections(answer))
    assert len(answer["blocks"]) <= 50
    assert "ok-1" in body(answer)


async def test_only_debris_is_still_refused_in_the_ack(harness: Harness) -> None:
    response, _ = await harness.command("_ <!channel> bad/uid")
    ack = json.dumps(await response.json())
    assert "not task UIDs" in ack
    assert "&lt;!channel&gt;" in ack
    assert "Nothing was looked up" in ack
    assert harness.api.calls == []


@pytest.mark.parametrize("harness", [FAST], indirect=True)
async def test_watch_command_keeps_the_line_on_every_redraw(harness: Harness) -> None:
    await harness.command("watch ok-1 x/y")
    slack = harness.slack
    await slack.wait_for(lambda: notices(slack, "C1"))
    line = ":warning: Not task UIDs, so not looked up: `x/y`."
    first = slack.called("chat.postMessage")[0]
    assert line in sections(first)
    final = live_message(slack)
    assert "Every task is done" in body(final)
    assert line in sections(final)
    assert all(line in sections(u) for u in slack.called("chat.update"))
    assert line not in body(notices(slack, "C1")[0])  # the notice is about the tasks


async def test_mention_answers_its_uids_and_names_the_debris(harness: Harness) -> None:
    await harness.mention("ok-1 _", ts="910.1")
    [post] = await harness.slack.wait_for(lambda: harness.slack.called("chat.postMessage"))
    assert post["thread_ts"] == "910.1"
    assert ":warning: Not task UIDs, so not looked up: `_`." in sections(post)
    assert "ok-1" in body(post)
    await harness.bot.deps.tracker.drain(5)
    assert harness.slack.called("chat.postEphemeral") == []


def broadcast_with_files(channel: str = "C1") -> dict[str, Any]:
    """An `app_mention` as Slack sends a thread reply also sent to the channel, with a file and
    a link, edited once (the shape shown in soxtoby/SlackNet#69): `subtype: thread_broadcast`,
    `files`, `upload`, `root`, `edited`, the link's unfurl in `attachments`."""
    return {
        "type": "app_mention",
        "subtype": "thread_broadcast",
        "text": f"<@UBOT> {BROADCAST_UUID} <https://google.com>",
        "files": [
            {
                "id": "F0AB12CD3",
                "created": 1604738780,
                "name": "render.png",
                "title": "render.png",
                "mimetype": "image/png",
                "filetype": "png",
                "user": "U1",
                "mode": "hosted",
                "is_external": False,
                "url_private": "https://files.slack.com/files-pri/T1-F0AB12CD3/render.png",
            }
        ],
        "upload": False,
        "blocks": [
            {
                "type": "rich_text",
                "block_id": "Zx9",
                "elements": [
                    {
                        "type": "rich_text_section",
                        "elements": [
                            {"type": "user", "user_id": "UBOT"},
                            {"type": "text", "text": f" {BROADCAST_UUID} "},
                            {"type": "link", "url": "https://google.com"},
                        ],
                    }
                ],
            }
        ],
        "user": "U1",
        "display_as_bot": False,
        "ts": "1604738785.007800",
        "edited": {"user": "U1", "ts": "1604738790.000000"},
        "thread_ts": "1604738675.007700",
        "parent_user_id": "U1",
        "root": {
            "type": "message",
            "text": "root message",
            "user": "U1",
            "ts": "1604738675.007700",
            "thread_ts": "1604738675.007700",
            "reply_count": 2,
            "reply_users_count": 1,
            "latest_reply": "1604738785.007800",
            "reply_users": ["U1"],
            "subscribed": False,
        },
        "attachments": [
            {
                "from_url": "https://google.com",
                "original_url": "https://google.com",
                "service_name": "google.com",
                "title": "Google",
                "title_link": "https://google.com",
                "fallback": "Google",
                "id": 1,
            }
        ],
        "channel": channel,
        "event_ts": "1604738785.007800",
    }


async def test_broadcast_mention_with_files_looks_its_uuid_up(harness: Harness) -> None:
    event = broadcast_with_files()
    await harness.mention("", fields=event)
    [post] = await harness.slack.wait_for(lambda: harness.slack.called("chat.postMessage"))
    await harness.bot.deps.tracker.drain(5)
    assert BROADCAST_UUID in asked(harness)
    assert post["thread_ts"] == "1604738675.007700"
    assert BROADCAST_UUID in body(post)
    assert "google.com" not in body(post)  # a link beside the UIDs is context, not debris
    assert harness.slack.called("chat.postEphemeral") == []
