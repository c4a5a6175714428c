"""The App Home tab: a person's live watches, the followed channels, a way to look tasks up.

Pure: it takes what was already read from the store and returns the view. Within the Home
tab's limit of 100 blocks whatever the counts (extra watches and channels are summarised).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from slack_sdk.models.blocks import (
    ActionsBlock,
    Block,
    ButtonElement,
    ContextBlock,
    DividerBlock,
    HeaderBlock,
    PlainTextObject,
    SectionBlock,
)
from slack_sdk.models.views import View

from bot.render.answer import _decorated_summary, mrkdwn
from bot.render.text import clip, code

HOME_LOOKUP = "home_lookup"
HOME_UNWATCH = "home_unwatch"
MAX_WATCHES_SHOWN = 40  # 2 blocks each: within the tab's 100 blocks with room for the rest
MAX_CHANNELS_SHOWN = 50
MAX_UIDS_SHOWN = 8
FOLLOWED_CHARS = 2800  # one section's 3,000 characters, with room for "…and N more"


@dataclass(frozen=True)
class HomeWatch:
    """One live watch as the Home tab shows it. `link` is None where only its owner sees it."""

    watch_id: str
    channel_id: str
    uids: Sequence[str]
    results: Sequence[Any]  # TaskResult: the last statuses the watch saw
    link: str | None


@dataclass(frozen=True)
class FollowedChannel:
    channel_id: str
    user_id: str
    since: float


def home_view(
    watches: Sequence[HomeWatch], followed: Sequence[FollowedChannel], updated_at: float
) -> dict[str, Any]:
    blocks: list[Block] = [_header("Your live watches")]
    blocks += _watch_blocks(watches)
    blocks += [DividerBlock(), _header("Channels followed in this workspace")]
    blocks.append(SectionBlock(text=mrkdwn(_followed_text(followed))))
    blocks.append(
        ActionsBlock(
            elements=[
                ButtonElement(
                    text=PlainTextObject(text="Look up tasks", emoji=False),
                    action_id=HOME_LOOKUP,
                    value="lookup",
                    style="primary",
                )
            ]
        )
    )
    blocks.append(ContextBlock(elements=[mrkdwn(f"Updated {_date(updated_at)}")]))
    return View(type="home", blocks=blocks).to_dict()


def _header(text: str) -> HeaderBlock:
    return HeaderBlock(text=PlainTextObject(text=text, emoji=False))


def _watch_blocks(watches: Sequence[HomeWatch]) -> list[Block]:
    if not watches:
        return [
            SectionBlock(
                text=mrkdwn(
                    "No live watches. Start one with `/taskstatus watch UID`, the *Watch* button "
                    "on an answer, or the *Watch task status* message shortcut."
                )
            )
        ]
    blocks: list[Block] = []
    for watch in watches[:MAX_WATCHES_SHOWN]:
        blocks.append(
            SectionBlock(
                block_id=f"watch-{watch.watch_id}"[:255],
                text=mrkdwn(f"{_decorated_summary(watch.results)}\n{_uids(watch.uids)}"),
                accessory=ButtonElement(
                    text=PlainTextObject(text="Stop watching", emoji=False),
                    action_id=HOME_UNWATCH,
                    value=watch.watch_id,
                ),
            )
        )
        blocks.append(ContextBlock(elements=[mrkdwn(_where(watch))]))
    if len(watches) > MAX_WATCHES_SHOWN:
        rest = len(watches) - MAX_WATCHES_SHOWN
        blocks.append(SectionBlock(text=mrkdwn(f"…and {rest} more live watches.")))
    return blocks


def _uids(uids: Sequence[str]) -> str:
    shown = ", ".join(code(clip(u, 60)) for u in uids[:MAX_UIDS_SHOWN])
    more = f" and {len(uids) - MAX_UIDS_SHOWN} more" if len(uids) > MAX_UIDS_SHOWN else ""
    return shown + more


def _where(watch: HomeWatch) -> str:
    channel = f"<#{watch.channel_id}>" if watch.channel_id.isalnum() else "a conversation"
    if watch.link is None:
        return f"In {channel}, shown only to you (I am not a member there)"
    return f"<{watch.link}|Open the live message> in {channel}"


def _followed_text(followed: Sequence[FollowedChannel]) -> str:
    if not followed:
        return (
            "None yet. Type `/taskstatus follow` in a channel: every new message there that "
            "names tasks then gets a live answer in its thread."
        )
    lines: list[str] = []
    for f in followed[:MAX_CHANNELS_SHOWN]:
        line = (
            f"• <#{f.channel_id}>, turned on by <@{f.user_id}> {_date(f.since)}"
            if f.channel_id.isalnum() and f.user_id.isalnum()
            else "• a channel"
        )
        if sum(len(x) + 1 for x in lines) + len(line) > FOLLOWED_CHARS:
            break
        lines.append(line)
    if len(followed) > len(lines):
        lines.append(f"…and {len(followed) - len(lines)} more")
    return "\n".join(lines)


def _date(stamp: float) -> str:
    seconds = int(stamp)
    fallback = datetime.fromtimestamp(seconds, UTC).strftime("%Y-%m-%d %H:%M UTC")
    return f"<!date^{seconds}^{{date_short_pretty}} at {{time}}|{fallback}>"
