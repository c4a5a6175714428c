"""Every short message the bot says to a person, in one place."""

from __future__ import annotations

from collections.abc import Sequence

from slack_sdk.models.blocks import SectionBlock

from bot.render.answer import Message, mrkdwn
from bot.render.text import clip, code, escape

COMMAND = "/taskstatus"


def _note(text: str) -> Message:
    return Message(_plain(text), [SectionBlock(text=mrkdwn(text))])


def _plain(text: str) -> str:
    return clip(text.partition("\n")[0].replace("*", ""), 300)


def help_message() -> Message:
    return _note(
        "*Follow your image-generation tasks*\n"
        f"• `{COMMAND} UID [UID ...]`: status of each task (separate UIDs with spaces, commas "
        "or new lines)\n"
        f"• `{COMMAND} watch UID ...`: a live answer that updates itself until every task is "
        "done, then tells you in its thread\n"
        "• Mention me in a thread: `@bot UID ...`, `@bot watch UID ...`, or in a sentence "
        "with each UID in `code`\n"
        "• On any message that names tasks: *More actions* (⋮) → *Check task status* or "
        "*Watch task status*; I answer in its thread\n"
        f"• `{COMMAND} follow` in a channel: every new message there naming tasks gets a live "
        f"answer in its thread; `{COMMAND} follow errors`: only failures are reported "
        f"(`{COMMAND} unfollow`, `{COMMAND} following`)\n"
        "• *Look up tasks* (the shortcuts menu, or my Home tab): look tasks up in a window\n"
        "A UID is letters, digits, `-` and `_`, up to 128 characters."
    )


def no_uids_message(where: str = "message") -> Message:
    return _note(
        f":mag: I found no task UID in this {where}.\n"
        "I look for UUIDs, words in `code` formatting, words after `task:`, `uid:` or "
        f"`TaskUid:`, and links to task pages. Or type `{COMMAND} UID` yourself."
    )


def mention_howto_message() -> Message:
    return _note(
        ":mag: I found no task UID in your message.\n"
        "Mention me with the UIDs: `@Task Status UID UID`, or `@Task Status watch UID` for a "
        "live answer. In a sentence, put each UID in `code` or after `TaskUid:`. "
        "`@Task Status help` says more."
    )


def invalid_uids_message(invalid: Sequence[str]) -> Message:
    return _note(
        f":warning: These are not task UIDs: {_named(invalid)}.\n"
        "A UID is letters, digits, `-` and `_`, up to 128 characters. Nothing was looked up; "
        f"fix them and try again, or see `{COMMAND} help`."
    )


def skipped_line(invalid: Sequence[str]) -> str:
    """The line an answer carries for the tokens of its command that are not UIDs: the
    valid ones were looked up, and the person learns what was left out."""
    return f":warning: Not task UIDs, so not looked up: {_named(invalid)}." if invalid else ""


def _named(tokens: Sequence[str]) -> str:
    """Tokens as the person typed them, escaped, each at most 40 characters, ten at most:
    a pasted page of debris stays a short line, far inside a section's 3,000 characters."""
    shown = ", ".join(code(clip(t, 40)) for t in tokens[:10])
    more = f" and {len(tokens) - 10} more" if len(tokens) > 10 else ""
    return shown + more


def too_many_uids_message(count: int, limit: int) -> Message:
    return _note(
        f":warning: That is {count} UIDs; I take at most {limit} at a time. "
        "Split them into smaller groups."
    )


def external_refused_message() -> Message:
    return _note(
        ":lock: Sorry, this app only answers people of the workspace that installed it. "
        "Ask its admins to allow your organisation."
    )


def invite_message(channel_id: str) -> Message:
    channel = f"<#{channel_id}>" if channel_id.isalnum() else "this channel"
    return _note(
        f":information_source: I can't post in {channel}, so only you see this answer. "
        "To let me answer in threads and keep live messages there, invite me: "
        "type `/invite @Task Status` in the channel."
    )


def failure_message(reference: str) -> Message:
    return _note(
        ":boom: Something went wrong on my side and I could not answer. Please try again; "
        f"if it keeps happening, give this reference to the app's admins: {code(reference)}"
    )


def watch_limit_message(what: str) -> Message:
    return _note(f":warning: {escape(what)}")


def note_message(text: str) -> Message:
    """A line the bot composed itself (no outside text), posted as it is."""
    return _note(text)


def lookup_limit_message(per_minute: int, wait: float) -> Message:
    seconds = max(1, round(wait))
    return _note(
        f":hourglass: You have looked up a lot of tasks in the last minute (at most {per_minute} "
        f"a minute per person, so everyone gets quick answers). Try again in {seconds} s."
    )


def already_live_message() -> Message:
    return _note(
        ":eyes: This answer is already live: it updates by itself and says in its thread "
        "when every task is done."
    )


def too_old_message(action: str) -> Message:
    return _note(
        f":hourglass: This answer is too old to {action}: I no longer keep what it was about. "
        f"Ask again with `{COMMAND} UID`."
    )


def restarting_message() -> Message:
    return _note(
        ":arrows_counterclockwise: The bot is restarting and could not finish this answer; "
        "please ask again in a minute."
    )
