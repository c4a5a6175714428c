"""The answer renderer as it was before each block was converted only once: the reference.

`test_render_reference.py` checks that `bot.render.answer` builds exactly these payloads for
any input. Kept as it was (only this docstring is new); not used by the bot.

Original description: the answer to a lookup, a live watch message and a completion notice,
as Block Kit.

Whatever the API returned, the result stays inside Slack's limits: at most 50
blocks and well under the ~13,000 characters of blocks where Slack starts refusing a message.
Tasks that do not fit are summarised; picture links that do not fit go to continuation
messages, so every picture stays reachable.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Literal

from slack_sdk.models.blocks import (
    ActionsBlock,
    Block,
    ButtonElement,
    ContextBlock,
    DividerBlock,
    ImageBlock,
    ImageElement,
    MarkdownTextObject,
    PlainTextObject,
    SectionBlock,
)

from bot.render.status import counts, emoji_for, status_of, summary
from bot.render.text import clip, code, escape, is_previewable, link, one_line
from bot.taskapi.models import Failed, Found, NotFound, TaskResult, all_done

MAX_BLOCKS = 50
MAX_BLOCKS_CHARS = 11_000
SECTION_TEXT = 3000
SINGLE_PREVIEWS = 3
SINGLE_ERROR_CHARS = 1500
MULTI_ERROR_CHARS = 300
MAX_CONTINUATIONS = 5

NO_PREVIEWS_AT_ALL = "*"  # in `no_preview`: show every picture as a link only

ACTION_REFRESH = "task_refresh"
ACTION_WATCH = "task_watch"
ACTION_UNWATCH = "task_unwatch"


@dataclass(frozen=True)
class Message:
    text: str
    blocks: list[Block]
    continuations: tuple[Message, ...] = ()

    def as_payload(self) -> dict[str, Any]:
        return {"text": self.text, "blocks": [b.to_dict() for b in self.blocks]}


@dataclass(frozen=True)
class Controls:
    """Buttons under an answer. `value` is already encoded (see `slack.values`)."""

    value: str
    watch: Literal["offer", "live", "none"] = "offer"
    watch_id: str = ""


@dataclass(frozen=True)
class LiveNote:
    """What a live message says about itself in its footer."""

    kind: Literal["watching", "retrying", "done", "expired", "stopped"]
    detail: str = ""
    user: str = ""


@dataclass
class _Budget:
    blocks: int
    chars: int
    leftovers: list[tuple[str, int, str]] = field(default_factory=list)

    def fits(self, blocks: Sequence[Block]) -> bool:
        return len(blocks) <= self.blocks and _size(blocks) <= self.chars

    def take(self, blocks: Sequence[Block]) -> None:
        self.blocks -= len(blocks)
        self.chars -= _size(blocks)


def _size(blocks: Sequence[Block]) -> int:
    return sum(len(json.dumps(b.to_dict(), ensure_ascii=False)) for b in blocks)


def mrkdwn(text: str) -> MarkdownTextObject:
    # verbatim: Slack must not turn outside text into links, channel names or mentions.
    return MarkdownTextObject(text=clip(text, SECTION_TEXT), verbatim=True)


def answer_message(
    results: Sequence[TaskResult],
    *,
    controls: Controls | None = None,
    checked_at: float | None = None,
    live: LiveNote | None = None,
    no_preview: frozenset[str] = frozenset(),
    headline: str | None = None,
) -> Message:
    """The whole answer. `no_preview` lists picture URLs Slack could not download."""
    head: list[Block] = [SectionBlock(text=mrkdwn(headline or _decorated_summary(results)))]
    tail = _tail(results, controls, checked_at, live)
    budget = _Budget(MAX_BLOCKS - 2, MAX_BLOCKS_CHARS - 700)  # room: divider, "more tasks"
    budget.take(head)
    budget.take(tail)
    body = _task_blocks([r for r in results if isinstance(r, Found)], budget, no_preview)
    blocks = [*head, DividerBlock(), *body, *tail] if body else [*head, *tail]
    text = summary(results)
    return Message(text, blocks, _continuations(budget.leftovers, text))


def lookup_message(
    results: Sequence[TaskResult],
    value: str,
    checked_at: float,
    no_preview: frozenset[str] = frozenset(),
) -> Message:
    """A one-off answer: Refresh, and Watch while some task is still under way."""
    controls = Controls(value, "none" if all_done(results) else "offer")
    return answer_message(results, controls=controls, checked_at=checked_at, no_preview=no_preview)


def completion_message(
    results: Sequence[TaskResult], user_id: str, no_preview: frozenset[str] = frozenset()
) -> Message:
    """The one notice in the thread when a watch ends: mentions who started it, with pictures."""
    mention = f"<@{user_id}> " if user_id.isalnum() else ""
    headline = f":checkered_flag: {mention}all done. {_decorated_summary(results)}"
    message = answer_message(results, no_preview=no_preview, headline=headline)
    return Message(f"All done: {message.text}", message.blocks, message.continuations)


def _decorated_summary(results: Sequence[TaskResult]) -> str:
    total = len(results)
    parts = " · ".join(
        f"{emoji_for(s)} {n} {escape(clip(one_line(s), 40))}" for s, n in counts(results)
    )
    return f"*{total} {'task' if total == 1 else 'tasks'}*  {parts}"


def _task_blocks(
    found: Sequence[Found], budget: _Budget, no_preview: frozenset[str]
) -> list[Block]:
    single = len(found) == 1
    body: list[Block] = []
    for index, result in enumerate(found):
        blocks, leftovers = (
            _single_task(result, no_preview) if single else _compact_task(result, no_preview)
        )
        if not budget.fits(blocks):
            rest = found[index:]
            for skipped in rest:
                budget.leftovers += _numbered(skipped)
            body.append(SectionBlock(text=mrkdwn(_more_tasks(rest))))
            break
        budget.take(blocks)
        budget.leftovers += leftovers
        body += blocks
    return body


def _may_preview(url: str, no_preview: frozenset[str]) -> bool:
    return is_previewable(url) and url not in no_preview and NO_PREVIEWS_AT_ALL not in no_preview


def _numbered(result: Found) -> list[tuple[str, int, str]]:
    return [(result.uid, n, url) for n, url in enumerate(result.task.final_picture_urls, 1)]


def _task_line(result: Found, error_chars: int) -> str:
    task = result.task
    status = status_of(result)
    line = f"{emoji_for(status)} *{escape(clip(one_line(status), 60))}*  {code(result.uid)}"
    if task.task_type:
        line += f"  ·  {escape(clip(one_line(task.task_type), 80))}"
    if task.task_error_code or task.task_error_msg or status == "Error":
        message = escape(clip(one_line(task.task_error_msg), error_chars)) or "no message"
        error_code = escape(clip(str(task.task_error_code), 40))
        line += f"\n>*Error {error_code}:* {message}"
    return line


def _single_task(result: Found, no_preview: frozenset[str]) -> tuple[list[Block], list[Any]]:
    blocks: list[Block] = [SectionBlock(text=mrkdwn(_task_line(result, SINGLE_ERROR_CHARS)))]
    urls = _numbered(result)
    previews = [u for u in urls if _may_preview(u[2], no_preview)]
    shown = previews[:SINGLE_PREVIEWS]
    for uid, n, url in shown:
        alt = clip(f"Picture {n} of task {uid}", 2000)
        title = PlainTextObject(text=f"Picture {n} of {len(urls)}", emoji=False)
        blocks.append(ImageBlock(image_url=url, alt_text=alt, title=title))
    rest = [u for u in urls if u not in shown]
    text, leftovers = _links("More pictures: " if shown else "Pictures: ", rest)
    if text:
        blocks.append(SectionBlock(text=mrkdwn(text)))
    return blocks, leftovers


def _compact_task(result: Found, no_preview: frozenset[str]) -> tuple[list[Block], list[Any]]:
    urls = _numbered(result)
    line = _task_line(result, MULTI_ERROR_CHARS)
    text, leftovers = _links("\nPictures: ", urls, budget=SECTION_TEXT - len(line) - 50)
    thumb = next((u for u in urls if _may_preview(u[2], no_preview)), None)
    accessory = (
        ImageElement(image_url=thumb[2], alt_text=clip(f"Picture 1 of task {result.uid}", 2000))
        if thumb
        else None
    )
    return [SectionBlock(text=mrkdwn(line + text), accessory=accessory)], leftovers


def _links(
    prefix: str, urls: Sequence[tuple[str, int, str]], budget: int = 2500
) -> tuple[str, list[tuple[str, int, str]]]:
    """As many numbered links as fit in `budget` characters; the rest are returned."""
    if not urls:
        return "", []
    parts: list[str] = []
    used = len(prefix)
    for index, (_, n, url) in enumerate(urls):
        part = link(url, str(n))
        if used + len(part) + 3 > budget:
            return prefix + " · ".join(parts) + f" · +{len(urls) - index} more below", list(
                urls[index:]
            )
        parts.append(part)
        used += len(part) + 3
    return prefix + " · ".join(parts), []


def _more_tasks(rest: Sequence[Found]) -> str:
    names = ", ".join(code(r.uid) for r in rest[:30])
    more = f" and {len(rest) - 30} more" if len(rest) > 30 else ""
    return clip(
        f"…{len(rest)} more {'task is' if len(rest) == 1 else 'tasks are'} counted above but not "
        f"shown here: {names}{more}. Ask about fewer at a time to see each one.",
        SECTION_TEXT,
    )


def _tail(
    results: Sequence[TaskResult],
    controls: Controls | None,
    checked_at: float | None,
    live: LiveNote | None,
) -> list[Block]:
    blocks: list[Block] = []
    missing = [r.uid for r in results if isinstance(r, NotFound)]
    if missing:
        blocks.append(SectionBlock(text=mrkdwn(_not_found(missing))))
    failed = [r for r in results if isinstance(r, Failed)]
    if failed:
        blocks.append(SectionBlock(text=mrkdwn(_failures(failed))))
    footer = _footer(checked_at, live)
    if footer:
        blocks.append(ContextBlock(elements=[mrkdwn(part) for part in footer]))
    if controls is not None:
        blocks.append(_buttons(controls))
    return blocks


def _not_found(uids: Sequence[str]) -> str:
    shown = ", ".join(code(u) for u in uids[:40])
    more = f" and {len(uids) - 40} more" if len(uids) > 40 else ""
    noun = "This UID is" if len(uids) == 1 else f"These {len(uids)} UIDs are"
    return clip(
        f":mag: *Not found:* {shown}{more}\n{noun} unknown to the task API: check for typos, "
        "or the task may be too old.",
        SECTION_TEXT,
    )


def _failures(failed: Sequence[Failed]) -> str:
    lines = []
    by_reference: dict[str, list[Failed]] = {}
    for failure in failed:
        by_reference.setdefault(failure.error.request_uuid, []).append(failure)
    for reference, group in list(by_reference.items())[:5]:
        error = group[0].error
        what = {
            "unavailable": "The task API is not answering",
            "rejected": "The task API refused the request",
            "unreadable": "The task API sent an answer the bot cannot read",
        }.get(error.kind, "The task API call failed")
        uids = ", ".join(code(f.uid) for f in group[:10])
        more = f" and {len(group) - 10} more" if len(group) > 10 else ""
        lines.append(
            f":warning: *{what}* ({escape(clip(one_line(error.detail), 300))}) for {uids}{more}."
            f" Try again in a moment with *Refresh*. Support reference: {code(reference or 'none')}"
        )
    return clip("\n".join(lines), SECTION_TEXT)


def _footer(checked_at: float | None, live: LiveNote | None) -> list[str]:
    parts = []
    if checked_at is not None:
        stamp = int(checked_at)
        fallback = datetime.fromtimestamp(stamp, UTC).strftime("%Y-%m-%d %H:%M:%S UTC")
        parts.append(f"Checked <!date^{stamp}^{{date_short_pretty}} at {{time_secs}}|{fallback}>")
    if live is not None:
        detail = escape(clip(one_line(live.detail), 300))
        parts.append(
            {
                "watching": f":eyes: Live: checked every {detail} s until every task is done.",
                "retrying": f":warning: The task API is not answering ({detail}); still trying.",
                "done": ":checkered_flag: Every task is done; this message no longer updates.",
                "expired": f":stopwatch: Stopped updating after {detail}. Press *Watch* to go on.",
                "stopped": f":no_entry_sign: Stopped updating{_by(live.user)}.",
            }[live.kind]
        )
    return parts


def _by(user: str) -> str:
    return f" by <@{user}>" if user.isalnum() else ""


def _buttons(controls: Controls) -> ActionsBlock:
    buttons = [_button("Refresh", ACTION_REFRESH, controls.value)]
    if controls.watch == "offer":
        buttons.append(_button("Watch", ACTION_WATCH, controls.value, style="primary"))
    elif controls.watch == "live":
        buttons.append(_button("Stop watching", ACTION_UNWATCH, controls.watch_id))
    return ActionsBlock(elements=buttons)


def _button(label: str, action_id: str, value: str, style: str | None = None) -> ButtonElement:
    text = PlainTextObject(text=label, emoji=False)
    return ButtonElement(text=text, action_id=action_id, value=value, style=style)


def _continuations(leftovers: Sequence[tuple[str, int, str]], text: str) -> tuple[Message, ...]:
    """Picture links that did not fit, grouped by task, in as few extra messages as needed."""
    sections: list[Block] = []
    pending = list(leftovers)
    while pending:
        uid = pending[0][0]
        group = [p for p in pending if p[0] == uid]
        line, rest = _links(f"Pictures of {code(uid)}: ", group, budget=SECTION_TEXT - 100)
        sections.append(SectionBlock(text=mrkdwn(line)))
        taken = {id(p) for p in group[: max(len(group) - len(rest), 1)]}
        pending = [p for p in pending if id(p) not in taken]
    messages: list[Message] = []
    blocks: list[Block] = []
    for section in sections:
        if len(blocks) >= MAX_BLOCKS - 1 or _size([*blocks, section]) > MAX_BLOCKS_CHARS:
            messages.append(Message(f"More pictures ({text})", blocks))
            blocks = []
        blocks.append(section)
    if blocks:
        messages.append(Message(f"More pictures ({text})", blocks))
    return tuple(messages[:MAX_CONTINUATIONS])
