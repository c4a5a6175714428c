"""Each short note the bot says, exactly: its notification text and its one mrkdwn section."""

from __future__ import annotations

import pytest

from bot.render.answer import Message
from bot.render.notes import (
    external_refused_message,
    failure_message,
    help_message,
    invalid_uids_message,
    invite_message,
    mention_howto_message,
    no_uids_message,
    note_message,
    restarting_message,
    too_many_uids_message,
    watch_limit_message,
)


def shown(message: Message) -> tuple[str, str]:
    [block] = message.as_payload()["blocks"]
    assert block["type"] == "section"
    assert block["text"]["type"] == "mrkdwn"
    assert block["text"]["verbatim"] is True
    return message.text, block["text"]["text"]


def test_help() -> None:
    text, section = shown(help_message())
    assert text == "Follow your image-generation tasks"
    assert section.split("\n") == [
        "*Follow your image-generation tasks*",
        "• `/taskstatus UID [UID ...]`: status of each task (separate UIDs with spaces, commas or"
        " new lines)",
        "• `/taskstatus watch UID ...`: a live answer that updates itself until every task is"
        " done, then tells you in its thread",
        "• Mention me in a thread: `@bot UID ...`, `@bot watch UID ...`, or in a sentence with"
        " each UID in `code`",
        "• On any message that names tasks: *More actions* (⋮) → *Check task status* or *Watch"
        " task status*; I answer in its thread",
        "• `/taskstatus follow` in a channel: every new message there naming tasks gets a live"
        " answer in its thread; `/taskstatus follow errors`: only failures are reported"
        " (`/taskstatus unfollow`, `/taskstatus following`)",
        "• *Look up tasks* (the shortcuts menu, or my Home tab): look tasks up in a window",
        "A UID is letters, digits, `-` and `_`, up to 128 characters.",
    ]


@pytest.mark.parametrize("where", ["message", "thread"])
def test_no_uids(where: str) -> None:
    assert shown(no_uids_message(where)) == (
        f":mag: I found no task UID in this {where}.",
        f":mag: I found no task UID in this {where}.\nI look for UUIDs, words in `code` formatting,"
        " words after `task:`, `uid:` or `TaskUid:`, and links to task pages. Or type"
        " `/taskstatus UID` yourself.",
    )
    assert shown(no_uids_message()) == shown(no_uids_message("message"))


def test_mention_howto() -> None:
    assert shown(mention_howto_message()) == (
        ":mag: I found no task UID in your message.",
        ":mag: I found no task UID in your message.\nMention me with the UIDs: `@Task Status UID"
        " UID`, or `@Task Status watch UID` for a live answer. In a sentence, put each UID in"
        " `code` or after `TaskUid:`. `@Task Status help` says more.",
    )


def test_invalid_uids_are_named_back_escaped_and_clipped() -> None:
    text, section = shown(invalid_uids_message(["a/b", "<!here>", "x" * 50]))
    names = f"`a/b`, `&lt;!here&gt;`, `{'x' * 39}…`"
    assert text == f":warning: These are not task UIDs: {names}."
    assert section == (
        f":warning: These are not task UIDs: {names}.\nA UID is letters, digits, `-` and `_`, up"
        " to 128 characters. Nothing was looked up; fix them and try again, or see"
        " `/taskstatus help`."
    )


def test_invalid_uids_name_ten_then_count() -> None:
    tokens = [f"b/{n}" for n in range(12)]
    text, _ = shown(invalid_uids_message(tokens))
    names = ", ".join(f"`b/{n}`" for n in range(10))
    assert text == f":warning: These are not task UIDs: {names} and 2 more."
    text, _ = shown(invalid_uids_message(tokens[:11]))
    assert text == f":warning: These are not task UIDs: {names} and 1 more."
    text, _ = shown(invalid_uids_message(tokens[:10]))
    assert text == f":warning: These are not task UIDs: {names}."


def test_the_notification_text_is_clipped_to_300() -> None:
    text, _ = shown(invalid_uids_message(["y" * 40] * 10))
    assert len(text) == 300
    assert text.endswith("…")


def test_too_many() -> None:
    assert (
        shown(too_many_uids_message(300, 200))
        == (
            (
                ":warning: That is 300 UIDs; I take at most 200 at a time. Split them into smaller"
                " groups."
            ),
        )
        * 2
    )


def test_external_refused() -> None:
    assert (
        shown(external_refused_message())
        == (
            (
                ":lock: Sorry, this app only answers people of the workspace that installed it. Ask"
                " its admins to allow your organisation."
            ),
        )
        * 2
    )


@pytest.mark.parametrize(
    ("channel", "named"), [("C1", "<#C1>"), ("C1>", "this channel"), ("", "this channel")]
)
def test_invite(channel: str, named: str) -> None:
    assert (
        shown(invite_message(channel))
        == (
            (
                f":information_source: I can't post in {named}, so only you see this answer. To let"
                " me answer in threads and keep live messages there, invite me: type"
                " `/invite @Task Status` in the channel."
            ),
        )
        * 2
    )


def test_failure_reference() -> None:
    assert (
        shown(failure_message("ref`<1>"))
        == (
            (
                ":boom: Something went wrong on my side and I could not answer. Please try again; if"
                " it keeps happening, give this reference to the app's admins: `refˋ&lt;1&gt;`"
            ),
        )
        * 2
    )


def test_watch_limit_is_escaped() -> None:
    assert (
        shown(watch_limit_message("at most 2 <!here>"))
        == ((":warning: at most 2 &lt;!here&gt;"),) * 2
    )


def test_a_composed_note_keeps_its_markup_and_its_text_loses_the_stars() -> None:
    assert shown(note_message("*Done* in <#C1>\nsecond line")) == (
        "Done in <#C1>",
        "*Done* in <#C1>\nsecond line",
    )


def test_restarting() -> None:
    assert (
        shown(restarting_message())
        == (
            (
                ":arrows_counterclockwise: The bot is restarting and could not finish this answer;"
                " please ask again in a minute."
            ),
        )
        * 2
    )
