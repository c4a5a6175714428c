"""The App Home tab, exactly: each block, the summaries, the limits that keep it in 100 blocks."""

from __future__ import annotations

from typing import Any

import pytest

from bot.render.home import MAX_MODE_MENUS, FollowedChannel, HomeWatch, home_view
from bot.taskapi.models import Found, NotFound, TaskDetail

STAMP = 1700000000.9  # 2023-11-14 22:13:20.9 UTC: the fraction is dropped, not rounded
DATE = "<!date^1700000000^{date_short_pretty} at {time}|2023-11-14 22:13 UTC>"
EPOCH = "<!date^0^{date_short_pretty} at {time}|1970-01-01 00:00 UTC>"


def plain(text: str) -> dict[str, Any]:
    return {"type": "plain_text", "text": text, "emoji": False}


def md(text: str) -> dict[str, Any]:
    return {"type": "mrkdwn", "text": text, "verbatim": True}


def header(text: str) -> dict[str, Any]:
    return {"type": "header", "text": plain(text)}


def section(text: str) -> dict[str, Any]:
    return {"type": "section", "text": md(text)}


def mode_menu(channel: str, text: str, mode: str = "all") -> dict[str, Any]:
    """A followed channel with its mode menu (quiet follows)."""
    options = {
        m: {"text": {"type": "plain_text", "text": label, "emoji": True}, "value": f"{m}:{channel}"}
        for m, label in (("all", "all: live answers"), ("errors", "errors: failures only"))
    }
    menu = {
        "type": "static_select",
        "action_id": "home_follow_mode",
        "placeholder": plain("Mode"),
        "options": list(options.values()),
        "initial_option": options[mode],
    }
    return {"type": "section", "block_id": f"follow-{channel}", "text": md(text), "accessory": menu}


def tail(followed: str | list[dict[str, Any]], updated: str) -> list[dict[str, Any]]:
    """Everything below the watches."""
    lookup = {
        "type": "button",
        "action_id": "home_lookup",
        "text": plain("Look up tasks"),
        "value": "lookup",
        "style": "primary",
    }
    return [
        {"type": "divider"},
        header("Channels followed in this workspace"),
        *([section(followed)] if isinstance(followed, str) else followed),
        {"type": "actions", "elements": [lookup]},
        {"type": "context", "elements": [md(f"Updated {updated}")]},
    ]


NO_WATCHES = (
    "No live watches. Start one with `/taskstatus watch UID`, the *Watch* button on an answer, "
    "or the *Watch task status* message shortcut."
)
NOT_FOLLOWED = (
    "None yet. Type `/taskstatus follow` in a channel: every new message there that names tasks "
    "then gets a live answer in its thread."
)


def test_empty_home(away_from_utc: None) -> None:
    assert home_view([], [], STAMP) == {
        "type": "home",
        "blocks": [header("Your live watches"), section(NO_WATCHES), *tail(NOT_FOLLOWED, DATE)],
    }


def found(uid: str, status: str = "Running") -> Found:
    return Found(uid, TaskDetail.model_validate({"TaskUid": uid, "TaskStatus": status}))


def watch_blocks(watch_id: str, text: str, where: str) -> list[dict[str, Any]]:
    stop = {
        "type": "button",
        "action_id": "home_unwatch",
        "text": plain("Stop watching"),
        "value": watch_id,
    }
    return [
        {"type": "section", "block_id": f"watch-{watch_id}", "text": md(text), "accessory": stop},
        {"type": "context", "elements": [md(where)]},
    ]


def test_watches_say_what_they_watch_and_where() -> None:
    linked = HomeWatch(
        "w1", "C1", ["a-1", "b`2"], [found("a-1"), NotFound("b`2")], "https://x/archives/C1/p1"
    )
    hidden = HomeWatch("w2", "D 1", ["<!here>"], [found("<!here>", "Finished")], None)
    unlinked = HomeWatch("w3", "C2", ["c-3"], [found("c-3", "Error")], None)
    view = home_view([linked, hidden, unlinked], [FollowedChannel("C1", "U1", 0.0)], 0.0)
    assert view["blocks"] == [
        header("Your live watches"),
        *watch_blocks(
            "w1",
            "*2 tasks*  :arrows_counterclockwise: 1 Running · :mag: 1 not found\n`a-1`, `bˋ2`",
            "<https://x/archives/C1/p1|Open the live message> in <#C1>",
        ),
        *watch_blocks(
            "w2",
            "*1 task*  :white_check_mark: 1 Finished\n`&lt;!here&gt;`",
            "In a conversation, shown only to you (I am not a member there)",
        ),
        *watch_blocks(
            "w3",
            "*1 task*  :x: 1 Error\n`c-3`",
            "In <#C2>, shown only to you (I am not a member there)",
        ),
        *tail([mode_menu("C1", f"• <#C1>, turned on by <@U1> {EPOCH} · mode `all`")], EPOCH),
    ]


@pytest.mark.parametrize("count", [8, 9, 12])
def test_a_watch_shows_eight_uids_each_clipped_then_a_count(count: int) -> None:
    uids = [f"u{n}-" + "x" * 60 for n in range(count)]
    watch = HomeWatch("w", "C1", uids, [found(u) for u in uids], None)
    text = home_view([watch], [], 0.0)["blocks"][1]["text"]["text"]
    shown = ", ".join(f"`u{n}-" + "x" * 56 + "…`" for n in range(8))
    more = f" and {count - 8} more" if count > 8 else ""
    assert text == f"*{count} tasks*  :arrows_counterclockwise: {count} Running\n{shown}{more}"


def test_a_uid_of_sixty_characters_is_whole() -> None:
    uid = "z" * 60
    watch = HomeWatch("w", "C1", [uid], [found(uid)], None)
    text = home_view([watch], [], 0.0)["blocks"][1]["text"]["text"]
    assert text.endswith(f"\n`{uid}`")


def test_block_id_is_cut_to_slacks_255_characters() -> None:
    for watch_id, block_id in [
        ("w" * 249, "watch-" + "w" * 249),
        ("w" * 250, "watch-" + "w" * 249),
    ]:
        watch = HomeWatch(watch_id, "C1", ["a"], [found("a")], None)
        block = home_view([watch], [], 0.0)["blocks"][1]
        assert block["block_id"] == block_id
        assert block["accessory"]["value"] == watch_id


@pytest.mark.parametrize("count", [40, 41, 55])
def test_forty_watches_then_a_count(count: int) -> None:
    watches = [HomeWatch(f"w{n}", "C1", ["a"], [found("a")], None) for n in range(count)]
    blocks = home_view(watches, [], 0.0)["blocks"]
    ids = [b["block_id"] for b in blocks if "block_id" in b]
    assert ids == [f"watch-w{n}" for n in range(40)]
    rest = [section(f"…and {count - 40} more live watches.")] if count > 40 else []
    assert blocks[81:] == rest + tail(NOT_FOLLOWED, EPOCH)


def channel_line(channel: str, user: str = "U1", mode: str = "all") -> str:
    return f"• <#{channel}>, turned on by <@{user}> {EPOCH} · mode `{mode}`"


def followed_text(followed: list[FollowedChannel]) -> str:
    """Every followed channel's line, those with a mode menu first, then the list below."""
    blocks = home_view([], followed, 0.0)["blocks"]
    return "\n".join(b["text"]["text"] for b in blocks[4:-2])


def list_text(followed: list[FollowedChannel]) -> str:
    """The list below the mode menus, which the first channels (plain ids) take."""
    menus = [FollowedChannel(f"M{n}", "U1", 0.0) for n in range(MAX_MODE_MENUS)]
    blocks = home_view([], menus + followed, 0.0)["blocks"]
    assert [b.get("block_id") for b in blocks[4 : 4 + MAX_MODE_MENUS]] == [
        f"follow-M{n}" for n in range(MAX_MODE_MENUS)
    ]
    text: str = blocks[4 + MAX_MODE_MENUS]["text"]["text"]
    return text


def test_followed_channels_each_on_a_line(away_from_utc: None) -> None:
    followed = [
        FollowedChannel("C1", "U1", STAMP, "errors"),
        FollowedChannel("C2", "U 2", 0.0),
        FollowedChannel("C-3", "U3", 0.0),
        FollowedChannel("C4", "W4", 0.0),
    ]
    assert followed_text(followed) == "\n".join(
        [
            f"• <#C1>, turned on by <@U1> {DATE} · mode `errors`",
            "• a channel",
            "• a channel",
            channel_line("C4", "W4"),
        ]
    )


@pytest.mark.parametrize("count", [50, 51, 70])
def test_fifty_channels_then_a_count(count: int) -> None:
    followed = [FollowedChannel(f"C-{n}", "U1", 0.0) for n in range(count)]
    more = [f"…and {count - 50} more"] if count > 50 else []
    assert followed_text(followed) == "\n".join(["• a channel"] * 50 + more)


def exactly(chars: int) -> list[str]:
    """Channel ids whose lines, joined by new lines, make exactly `chars` characters."""
    ids = [f"C{n:02}" for n in range(40)]
    while len("\n".join(channel_line(c) for c in ids)) + 1 + len(channel_line("C")) > chars:
        ids.pop()
    short = chars - len("\n".join(channel_line(c) for c in ids)) - 1 - len(channel_line(""))
    return [*ids, "C" * short]


@pytest.mark.parametrize("extra", [0, 1, 5])
def test_followed_lines_stop_at_2800_characters(extra: int) -> None:
    ids = exactly(2800)
    assert len("\n".join(channel_line(c) for c in ids)) == 2800
    fits = [FollowedChannel(c, "U1", 0.0) for c in ids]
    over = [FollowedChannel(f"D{n}", "U1", 0.0) for n in range(extra)]
    more = [f"…and {extra} more"] if extra else []
    assert list_text(fits + over) == "\n".join([channel_line(c) for c in ids] + more)
    longer = [*fits[:-1], FollowedChannel(ids[-1] + "C", "U1", 0.0), *over]
    assert list_text(longer) == "\n".join(
        [channel_line(c) for c in ids[:-1]] + [f"…and {extra + 1} more"]
    )
