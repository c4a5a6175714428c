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
    Option,
    PlainTextObject,
    SectionBlock,
    StaticSelectElement,
)
from slack_sdk.models.views import View

from bot.render.answer import _decorated_summary, mrkdwn
from bot.render.text import clip, code

HOME_LOOKUP = "home_lookup"
HOME_UNWATCH = "home_unwatch"
HOME_FOLLOW_MODE = "home_follow_mode"  # quiet follows: a followed channel's mode, changed
MAX_MODE_MENUS = 15  # channels shown with a mode menu, each its own block (see `_mode_blocks`)
MODE_OPTIONS = {"all": "all: live answers", "errors": "errors: failures only"}
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
    mode: str = "all"  # quiet follows: `all` or `errors`


def home_view(
    watches: Sequence[HomeWatch],
    followed: Sequence[FollowedChannel],
    updated_at: float,
    account: Sequence[Block] = (),
) -> dict[str, Any]:
    """`account`: the task API account's section (OAuth mode), shown last but the footer."""
    blocks: list[Block] = [_header("Your live watches")]
    blocks += _watch_blocks(watches)
    blocks += [DividerBlock(), _header("Channels followed in this workspace")]
    # Room for the menus: the tab's 100 blocks less the rest (list, button, footer).
    menus = _mode_blocks(followed, max(0, min(MAX_MODE_MENUS, 100 - len(blocks) - 3)))
    blocks += menus
    rest = followed[len(menus) :]
    if rest or not followed:
        blocks.append(SectionBlock(text=mrkdwn(_followed_text(rest, shown=len(menus)))))
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
    blocks += account
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


def _mode_blocks(followed: Sequence[FollowedChannel], count: int) -> list[Block]:
    """The first followed channels, each with a menu that changes its mode. The option's
    value carries the channel (`mode:channel`, well within 150 characters); channels whose
    ids are not plain ids get no menu (nothing trustworthy to act on)."""
    blocks: list[Block] = []
    for f in followed[:count]:
        if not (f.channel_id.isalnum() and f.mode in MODE_OPTIONS):
            break
        options = {
            mode: Option(value=f"{mode}:{f.channel_id}", label=label)
            for mode, label in MODE_OPTIONS.items()
        }
        blocks.append(
            SectionBlock(
                block_id=f"follow-{f.channel_id}",
                text=mrkdwn(_channel_line(f)),
                accessory=StaticSelectElement(
                    action_id=HOME_FOLLOW_MODE,
                    placeholder=PlainTextObject(text="Mode", emoji=False),
                    options=list(options.values()),
                    initial_option=options[f.mode],
                ),
            )
        )
    return blocks


def _channel_line(f: FollowedChannel) -> str:
    if not (f.channel_id.isalnum() and f.user_id.isalnum()):
        return "• a channel"
    mode = f.mode if f.mode.isalnum() else "all"
    return f"• <#{f.channel_id}>, turned on by <@{f.user_id}> {_date(f.since)} · mode `{mode}`"


def _followed_text(followed: Sequence[FollowedChannel], shown: int = 0) -> str:
    if not followed:
        return (
            "None yet. Type `/taskstatus follow` in a channel: every new message there that "
            "names tasks then gets a live answer in its thread."
        )
    lines: list[str] = []
    for f in followed[: max(0, MAX_CHANNELS_SHOWN - shown)]:
        line = _channel_line(f)
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
