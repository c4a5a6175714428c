"""Slack message payloads in the shapes Slack sends them, for the parser's table tests.

Written from Slack's documented formats: the `message` and `app_mention` events (with their
subtypes), rich_text blocks (sections, preformatted, quotes, lists; text, link, user, emoji,
date elements with styles), legacy attachments (pretext, title, fields, footer, shared
messages) and Enterprise Grid / Slack Connect envelopes. Each `case` says which UIDs a person
reading the message would expect the bot to find.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

BOT_USER = "UBOT"
BOT_ID = "BBOT"


@dataclass(frozen=True)
class Case:
    name: str
    event: dict[str, Any]
    uids: list[str]
    ignored: str | None = None  # why a `message`/`app_mention` event gets no answer


def text(value: str, **style: bool) -> dict[str, Any]:
    element: dict[str, Any] = {"type": "text", "text": value}
    if style:
        element["style"] = style
    return element


def section(*elements: dict[str, Any]) -> dict[str, Any]:
    return {"type": "rich_text_section", "elements": list(elements)}


def rich(*elements: dict[str, Any]) -> dict[str, Any]:
    return {"type": "rich_text", "block_id": "Xk2+", "elements": list(elements)}


def user_message(body: str, *blocks: dict[str, Any], **fields: Any) -> dict[str, Any]:
    """A person's message as Slack delivers it: mrkdwn `text` plus the rich_text it came from."""
    return {
        "type": "message",
        "user": "U061F7AUR",
        "text": body,
        "ts": "1700000000.000100",
        "client_msg_id": "8c9d1c1e-3a6f-4c8b-9b7e-2f1d0e5c4a3b",
        "team": "T0HOME",
        "channel": "C2147483705",
        "event_ts": "1700000000.000100",
        "channel_type": "channel",
        "blocks": list(blocks),
        **fields,
    }


def mention(body: str, *blocks: dict[str, Any], **fields: Any) -> dict[str, Any]:
    event = user_message(f"<@{BOT_USER}> {body}", *blocks, **fields)
    event["type"] = "app_mention"
    return event


BOT_PING = {"type": "user", "user_id": BOT_USER}

CASES = [
    Case(
        "prose number beside a label",
        user_message(
            "Task 2 of the banner set is stuck, TaskUid: tsk-1f2e3d",
            rich(section(text("Task 2 of the banner set is stuck, TaskUid: tsk-1f2e3d"))),
        ),
        ["tsk-1f2e3d"],
    ),
    Case(
        "bold label and UID in separate elements",
        user_message(
            "*TaskUid:* tsk-0b7e11",
            rich(section(text("TaskUid:", bold=True), text(" tsk-0b7e11"))),
        ),
        ["tsk-0b7e11"],
    ),
    Case(
        "italic UID after a bold label",
        user_message(
            "*uid =* _tsk-it1_",
            rich(section(text("uid =", bold=True), text(" "), text("tsk-it1", italic=True))),
        ),
        ["tsk-it1"],
    ),
    Case(
        "code block of UIDs, one a line",
        user_message(
            "```tsk-a1\ntsk-b2\ntsk-c3```",
            rich(
                {
                    "type": "rich_text_preformatted",
                    "elements": [text("tsk-a1\ntsk-b2\ntsk-c3")],
                    "border": 0,
                }
            ),
        ),
        ["tsk-a1", "tsk-b2", "tsk-c3"],
    ),
    Case(
        "code block of plain words, one a line",
        user_message(
            "```a\nb\nc```",
            rich({"type": "rich_text_preformatted", "elements": [text("a\nb\nc")]}),
        ),
        ["a", "b", "c"],
    ),
    Case(
        "code block holding a command",
        user_message(
            "```/taskstatus ok-1 ok-2, ok-3```",
            rich(
                {
                    "type": "rich_text_preformatted",
                    "elements": [text("/taskstatus ok-1 ok-2, ok-3")],
                }
            ),
        ),
        ["ok-1", "ok-2", "ok-3"],
    ),
    Case(
        "several code spans, one split over styled runs",
        user_message(
            "check `tsk-a9` and `tsk-0b7e11` please",
            rich(
                section(
                    text("check "),
                    text("tsk-a9", code=True),
                    text(" and "),
                    text("tsk-", code=True),
                    text("0b7e11", code=True, bold=True),
                    text(" please"),
                )
            ),
        ),
        ["tsk-a9", "tsk-0b7e11"],
    ),
    Case(
        "ordinary words in code are no UIDs",
        user_message(
            "run `make test` then `sleep 10`",
            rich(
                section(
                    text("run "),
                    text("make test", code=True),
                    text(" then "),
                    text("sleep 10", code=True),
                )
            ),
        ),
        [],
    ),
    Case(
        "quote",
        user_message(
            "&gt; TaskUid: tsk-q1\nstill stuck",
            rich(
                {"type": "rich_text_quote", "elements": [text("TaskUid: tsk-q1")]},
                section(text("still stuck")),
            ),
        ),
        ["tsk-q1"],
    ),
    Case(
        "bulleted list",
        user_message(
            "• `tsk-l1`\n• `tsk-l2`",
            rich(
                {
                    "type": "rich_text_list",
                    "style": "bullet",
                    "indent": 0,
                    "border": 0,
                    "elements": [
                        section(text("tsk-l1", code=True)),
                        section(text("tsk-l2", code=True)),
                    ],
                }
            ),
        ),
        ["tsk-l1", "tsk-l2"],
    ),
    Case(
        "link to a task page",
        user_message(
            "see <https://console.example.com/tasks/tsk-99?tab=pictures|the banner task>",
            rich(
                section(
                    text("see "),
                    {
                        "type": "link",
                        "url": "https://console.example.com/tasks/tsk-99?tab=pictures",
                        "text": "the banner task",
                    },
                )
            ),
        ),
        ["tsk-99"],
    ),
    Case(
        "link to a task page pasted in code",
        user_message(
            "`https://console.example.com/tasks/tsk-c9`",
            rich(section(text("https://console.example.com/tasks/tsk-c9", code=True))),
        ),
        ["tsk-c9"],
    ),
    Case(
        "links by query, by route, and an unrelated one",
        user_message(
            "<https://console.example.com/task?uid=tsk-q7&amp;lang=en> "
            "<https://console.example.com/#/tasks/tsk-r8> <https://docs.example.com/v2/guide>"
        ),
        ["tsk-q7", "tsk-r8"],
    ),
    Case(
        "UUID in prose, mentions, emoji and a date around",
        user_message(
            "<@U02> done :tada: 123e4567-e89b-12d3-a456-426614174000 since <!date^1700000000^{date}|Nov 14>",
            rich(
                section(
                    {"type": "user", "user_id": "U02"},
                    text(" done "),
                    {"type": "emoji", "name": "tada", "unicode": "1f389"},
                    text(" 123e4567-e89b-12d3-a456-426614174000 since "),
                    {
                        "type": "date",
                        "timestamp": 1700000000,
                        "format": "{date}",
                        "fallback": "Nov 14",
                    },
                )
            ),
        ),
        ["123e4567-e89b-12d3-a456-426614174000"],
    ),
    Case(
        "labels however written",
        user_message(
            "uid = tsk-u1; task: tsk-t1, Task ID: 4242, TaskUid=ZZ_9, TaskUids: a-1, a-2 &amp; a-3"
        ),
        ["tsk-u1", "tsk-t1", "4242", "ZZ_9", "a-1", "a-2", "a-3"],
    ),
    Case(
        "prose only",
        user_message(
            "lunch at 12? The 3 banners look great, the task is running. v2 ships 2024-05-01",
            rich(section(text("lunch at 12? The 3 banners look great, the task is running."))),
        ),
        [],
    ),
    Case(
        "another bot's attachment fields (CI pipeline)",
        {
            "type": "message",
            "subtype": "bot_message",
            "bot_id": "B0CI",
            "username": "pipeline",
            "text": "",
            "ts": "1700000000.000200",
            "channel": "C2147483705",
            "attachments": [
                {
                    "id": 1,
                    "color": "36a64f",
                    "fallback": "Render pipeline #77 started",
                    "pretext": "Render pipeline <https://ci.example.com/builds/77|#77> started",
                    "title": "Banner set",
                    "title_link": "https://ci.example.com/builds/77",
                    "text": "3 pictures requested",
                    "fields": [
                        {"title": "TaskUid", "value": "tsk-c0ffee", "short": True},
                        {"title": "Status", "value": "Running", "short": True},
                        {"title": "Retries", "value": "3", "short": True},
                    ],
                    "footer": "pipeline 42",
                    "ts": 1700000000,
                }
            ],
        },
        ["tsk-c0ffee"],
        ignored="a bot's message",
    ),
    Case(
        "attachment pretext, footer, multi-value field, nested blocks",
        {
            "type": "message",
            "user": "U061F7AUR",
            "text": "",
            "ts": "1700000000.000300",
            "attachments": [
                {
                    "pretext": "uid = tsk-pre1",
                    "footer": "task: tsk-foot2",
                    "fields": [{"title": "*Task UIDs:*", "value": "tsk-f3\ntsk-f4"}],
                    "blocks": [
                        {
                            "type": "section",
                            "text": {"type": "mrkdwn", "text": "also `tsk-blk5`"},
                        }
                    ],
                }
            ],
        },
        ["tsk-pre1", "tsk-foot2", "tsk-f3", "tsk-f4", "tsk-blk5"],
    ),
    Case(
        "a shared message",
        user_message(
            "look at this",
            rich(section(text("look at this"))),
            attachments=[
                {
                    "is_share": True,
                    "is_msg_unfurl": True,
                    "fallback": "[November 14th, 2023 9:13 AM] ana: stuck",
                    "from_url": "https://example.slack.com/archives/C1/p1700000000000100",
                    "message_blocks": [
                        {
                            "team": "T0HOME",
                            "channel": "C1",
                            "ts": "1700000000.000100",
                            "message": {
                                "blocks": [rich(section(text("tsk-sh1", code=True)))],
                            },
                        }
                    ],
                }
            ],
        ),
        ["tsk-sh1"],
    ),
    Case(
        "app blocks: section, fields, context, header, markdown",
        {
            "type": "message",
            "user": "U061F7AUR",
            "text": "fallback",
            "ts": "1700000000.000400",
            "blocks": [
                {"type": "header", "text": {"type": "plain_text", "text": "Render report"}},
                {
                    "type": "section",
                    "text": {"type": "mrkdwn", "text": "*Task:* `tsk-s1`"},
                    "fields": [{"type": "mrkdwn", "text": "*TaskUid:*\ntsk-s2"}],
                    "accessory": {
                        "type": "button",
                        "text": {"type": "plain_text", "text": "Open"},
                        "value": "task-button-99",
                    },
                },
                {"type": "context", "elements": [{"type": "mrkdwn", "text": "uid: tsk-ctx3"}]},
                {"type": "markdown", "text": "```\ntsk-m4\ntsk-m5\n```"},
                {"type": "divider"},
            ],
        },
        ["tsk-s1", "tsk-s2", "tsk-ctx3", "tsk-m4", "tsk-m5"],
    ),
    Case(
        "Enterprise Grid mention written as a sentence",
        mention(
            "can you check `tsk-3b8e70` for me? thanks!",
            rich(
                section(
                    BOT_PING,
                    text(" can you check "),
                    text("tsk-3b8e70", code=True),
                    text(" for me? thanks!"),
                )
            ),
            user_team="E0GRID-T1",
            source_team="E0GRID-T1",
            enterprise="E0GRID",
        ),
        ["tsk-3b8e70"],
    ),
    Case(
        "Slack Connect mention from another organisation",
        mention(
            "<@W0EXT1|ana> asked about task: tsk-ext1",
            rich(
                section(
                    BOT_PING,
                    text(" "),
                    {"type": "user", "user_id": "W0EXT1"},
                    text(" asked about task: tsk-ext1"),
                )
            ),
            user="W0EXT2",
            user_team="T0OTHER",
            source_team="T0OTHER",
            is_ext_shared_channel=True,
        ),
        ["tsk-ext1"],
    ),
    Case(
        "thread broadcast with files, edited",
        mention(
            "watch `ok-1`",
            rich(section(BOT_PING, text(" watch "), text("ok-1", code=True))),
            subtype="thread_broadcast",
            thread_ts="1699999999.000100",
            root={"text": "banner set", "ts": "1699999999.000100", "user": "U061F7AUR"},
            files=[
                {"id": "F1", "name": "tsk-9.png", "title": "tsk-9.png", "mimetype": "image/png"}
            ],
            upload=False,
            edited={"user": "U061F7AUR", "ts": "1700000001.000000"},
        ),
        ["ok-1"],
    ),
    Case(
        "file share with a comment",
        user_message(
            "render output for TaskUid: tsk-fs1",
            rich(section(text("render output for TaskUid: tsk-fs1"))),
            subtype="file_share",
            files=[{"id": "F2", "name": "tsk-fs9.png", "title": "out"}],
            upload=True,
        ),
        ["tsk-fs1"],
    ),
    Case(
        "an edit",
        {
            "type": "message",
            "subtype": "message_changed",
            "hidden": True,
            "channel": "C2147483705",
            "ts": "1700000002.000000",
            "message": user_message("task: tsk-e1"),
            "previous_message": user_message("task: tsk-e0"),
        },
        [],
        ignored="an edit",
    ),
    Case(
        "a deletion",
        {
            "type": "message",
            "subtype": "message_deleted",
            "hidden": True,
            "deleted_ts": "1700000000.000100",
            "previous_message": user_message("task: tsk-d0"),
        },
        [],
        ignored="a deletion",
    ),
    Case(
        "this bot's own answer",
        {
            "type": "message",
            "user": BOT_USER,
            "bot_id": BOT_ID,
            "app_id": "A1",
            "text": "1 task: 1 Finished",
            "blocks": [{"type": "section", "text": {"type": "mrkdwn", "text": "`ok-1`"}}],
            "bot_profile": {"id": BOT_ID, "name": "Task Status"},
        },
        ["ok-1"],
        ignored="a bot's message",
    ),
]
