"""The answer to a lookup, a live watch message and a completion notice, as Block Kit.

Whatever the API returned, the result stays inside Slack's limits: at most 50
blocks and well under the ~13,000 characters of blocks where Slack starts refusing a message.
Tasks that do not fit are summarised; picture links that do not fit go to continuation
messages, so every picture stays reachable.

Each block is made once with its dict (the dict slack_sdk's `to_dict()` makes, validation
included) and its JSON (`kit.py`): the JSON's length is what the budget counts, the dict goes
into the payload and the JSON into the body posted to a `response_url` (`Message.as_json`),
however often the answer is measured, posted or retried. Pieces that repeat from answer to
answer (headlines, footers, the divider, button labels) are made once per value.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from functools import lru_cache
from typing import Any, Literal

from slack_sdk.models.blocks import Block, ContextBlock, DividerBlock, ImageElement

from bot.render import kit
from bot.render.blocks import block_dict
from bot.render.jsontext import json_scalar
from bot.render.kit import SECTION_TEXT as SECTION_TEXT
from bot.render.kit import mrkdwn as mrkdwn
from bot.render.links import TaskLinks
from bot.render.status import counts, emoji_for, status_of, summary_of
from bot.render.text import clip, code, escape, is_previewable, link, one_line
from bot.taskapi.models import Failed, Found, NotFound, TaskResult, all_done

MAX_BLOCKS = 50
MAX_BLOCKS_CHARS = 11_000
MORE_ROOM = 700  # kept for the divider and the "more tasks" note
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
    # `blocks` as dicts, when the builder already converted them (shared: read them only).
    block_dicts: tuple[dict[str, Any], ...] | None = field(default=None, compare=False, repr=False)
    # The same, as JSON (as `json.dumps` writes it), one text per run of blocks, no brackets.
    block_jsons: tuple[str, ...] | None = field(default=None, compare=False, repr=False)

    def as_payload(self) -> dict[str, Any]:
        if self.block_dicts is None:
            return {"text": self.text, "blocks": [block_dict(b) for b in self.blocks]}
        return {"text": self.text, "blocks": list(self.block_dicts)}

    def as_json(self, **extra: str | bool) -> bytes:
        """`json.dumps({**self.as_payload(), **extra}).encode()`, the same bytes.

        The blocks were already written out to measure them; only the text and `extra` are new.
        """
        if self.block_jsons is None or "text" in extra or "blocks" in extra:
            return json.dumps({**self.as_payload(), **extra}).encode()
        blocks = ", ".join(self.block_jsons)
        tail = _extra_json(tuple(extra.items()))
        return f'{{"text": {json_scalar(self.text)}, "blocks": [{blocks}]{tail}}}'.encode()


@lru_cache(maxsize=64)
def _extra_json(extra: tuple[tuple[str, str | bool], ...]) -> str:
    """The keys after the blocks, as JSON: the same few for every answer, made once each."""
    return "".join([f", {json_scalar(key)}: {json_scalar(value)}" for key, value in extra])


class _Blocks:
    """Blocks, their dicts, their JSON and the sum of each block's size (what the budget
    counts, see `kit.Made`). A plain class with slots: several are made for every answer."""

    __slots__ = ("blocks", "dicts", "jsons", "size")

    def __init__(
        self,
        blocks: tuple[Block, ...] = (),
        dicts: tuple[dict[str, Any], ...] = (),
        jsons: tuple[str, ...] = (),
        size: int = 0,
    ) -> None:
        self.blocks = blocks
        self.dicts = dicts
        self.jsons = jsons  # per group of blocks made together, their JSON without brackets
        self.size = size

    def __add__(self, other: _Blocks) -> _Blocks:
        if not other.blocks:
            return self
        if not self.blocks:
            return other
        return _Blocks(
            self.blocks + other.blocks,
            self.dicts + other.dicts,
            self.jsons + other.jsons,
            self.size + other.size,
        )


def _made(*made: kit.Made) -> _Blocks:
    """Blocks made with their dicts and JSON; the budget counts each block's JSON length."""
    if not made:
        return _NOTHING
    if len(made) == 1:  # a row of buttons, a note: no lists to gather
        block, converted, text, size = made[0]
        return _Blocks((block,), (converted,), (text,), size)
    blocks = tuple([block for block, _, _, _ in made])
    dicts = tuple([converted for _, converted, _, _ in made])
    text = ", ".join([text for _, _, text, _ in made])
    return _Blocks(blocks, dicts, (text,), sum([size for _, _, _, size in made]))


_NOTHING = _Blocks()


def _joined(*parts: _Blocks) -> _Blocks:
    """`a + b + c ...`, without the sums in between."""
    blocks: tuple[Block, ...] = ()
    dicts: tuple[dict[str, Any], ...] = ()
    jsons: tuple[str, ...] = ()
    for part in parts:
        blocks += part.blocks
        dicts += part.dicts
        jsons += part.jsons
    return _Blocks(blocks, dicts, jsons, sum(part.size for part in parts))


@lru_cache(maxsize=256)
def _section(text: str) -> _Blocks:
    """A section of mrkdwn, made once per text: headlines repeat from answer to answer.

    Made blocks and their dicts are shared between messages; nothing changes them once made.
    """
    return _made(kit.section(text))


_DIVIDER = _made(kit.converted(DividerBlock()))


def _message(text: str, made: _Blocks, continuations: tuple[Message, ...] = ()) -> Message:
    return Message(text, list(made.blocks), continuations, made.dicts, made.jsons)


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

    def fits(self, made: _Blocks) -> bool:
        return len(made.blocks) <= self.blocks and made.size <= self.chars

    def take(self, made: _Blocks) -> None:
        self.blocks -= len(made.blocks)
        self.chars -= made.size


def answer_message(
    results: Sequence[TaskResult],
    *,
    controls: Controls | None = None,
    checked_at: float | None = None,
    live: LiveNote | None = None,
    no_preview: frozenset[str] = frozenset(),
    headline: str | None = None,
    skipped: str = "",
    links: TaskLinks | None = None,
) -> Message:
    """The whole answer. `no_preview` lists picture URLs Slack could not download; `skipped`
    is the line naming what the command held besides UIDs (`notes.skipped_line`); `links`
    turns each UID into a link to its page (`TASK_LINK_URL`)."""
    counted = tuple(counts(results))
    head = _section(headline or _decorated(counted, len(results)))
    tail = _tail(results, controls, checked_at, live, skipped)
    budget = _Budget(MAX_BLOCKS - 2, MAX_BLOCKS_CHARS - MORE_ROOM)  # divider, "more tasks"
    budget.take(head)
    budget.take(tail)
    body = _task_blocks([r for r in results if isinstance(r, Found)], budget, no_preview, links)
    made = _joined(head, _DIVIDER, body, tail) if body.blocks else head + tail
    text = summary_of(counted, len(results))
    return _message(text, made, _continuations(budget.leftovers, text))


def lookup_message(
    results: Sequence[TaskResult],
    value: str,
    checked_at: float,
    no_preview: frozenset[str] = frozenset(),
    skipped: str = "",
    links: TaskLinks | None = None,
) -> Message:
    """A one-off answer: Refresh, and Watch while some task is still under way."""
    controls = Controls(value, "none" if all_done(results) else "offer")
    return answer_message(
        results,
        controls=controls,
        checked_at=checked_at,
        no_preview=no_preview,
        skipped=skipped,
        links=links,
    )


def completion_message(
    results: Sequence[TaskResult],
    user_id: str,
    no_preview: frozenset[str] = frozenset(),
    links: TaskLinks | None = None,
) -> Message:
    """The one notice in the thread when a watch ends: mentions who started it, with pictures."""
    mention = f"<@{user_id}> " if user_id.isalnum() else ""
    headline = f":checkered_flag: {mention}all done. {_decorated_summary(results)}"
    message = answer_message(results, no_preview=no_preview, headline=headline, links=links)
    return replace(message, text=f"All done: {message.text}")


def _decorated_summary(results: Sequence[TaskResult]) -> str:
    return _decorated(tuple(counts(results)), len(results))


@lru_cache(maxsize=256)
def _decorated(counted: tuple[tuple[str, int], ...], total: int) -> str:
    """The headline for these counts, made once: most answers are about one task or a few."""
    parts = " · ".join(f"{emoji_for(s)} {n} {escape(clip(one_line(s), 40))}" for s, n in counted)
    return f"*{total} {'task' if total == 1 else 'tasks'}*  {parts}"


def _task_blocks(
    found: Sequence[Found],
    budget: _Budget,
    no_preview: frozenset[str],
    links: TaskLinks | None = None,
) -> _Blocks:
    single = len(found) == 1
    parts: list[_Blocks] = []
    for index, result in enumerate(found):
        blocks, leftovers = (
            _single_task(result, no_preview, links)
            if single
            else _compact_task(result, no_preview, links)
        )
        if not budget.fits(blocks):
            rest = found[index:]
            for skipped in rest:
                budget.leftovers += _numbered(skipped)
            # The note lists as many names as the room left allows (its JSON adds ~100).
            room = budget.chars + MORE_ROOM - 150
            parts.append(_made(kit.section(_more_tasks(rest, room))))
            break
        budget.take(blocks)
        budget.leftovers += leftovers
        parts.append(blocks)
    return parts[0] if len(parts) == 1 else _joined(*parts)


def _may_preview(url: str, no_preview: frozenset[str]) -> bool:
    return is_previewable(url) and url not in no_preview and NO_PREVIEWS_AT_ALL not in no_preview


def _numbered(result: Found) -> list[tuple[str, int, str]]:
    return [(result.uid, n, url) for n, url in enumerate(result.task.final_picture_urls, 1)]


def task_line(result: Found, error_chars: int, links: TaskLinks | None = None) -> str:
    """A task's status, UID (linked to its page when `TASK_LINK_URL` is set), type, error."""
    task = result.task
    status = status_of(result)
    uid = code(result.uid) if links is None else link(links.url_for(result.uid), result.uid)
    line = f"{_status_words(status)}  {uid}"
    if task.task_type:
        line += _type_words(task.task_type)
    if task.task_error_code or task.task_error_msg or status == "Error":
        message = escape(clip(one_line(task.task_error_msg), error_chars)) or "no message"
        error_code = escape(clip(str(task.task_error_code), 40))
        line += f"\n>*Error {error_code}:* {message}"
    return line


@lru_cache(maxsize=64)
def _status_words(status: str) -> str:
    """A status as a task line shows it, made once per status (there are a few)."""
    return f"{emoji_for(status)} *{escape(clip(one_line(status), 60))}*"


@lru_cache(maxsize=64)
def _type_words(task_type: str) -> str:
    """A task type as a task line shows it, made once per type (there are a few)."""
    return f"  ·  {escape(clip(one_line(task_type), 80))}"


def _single_task(
    result: Found, no_preview: frozenset[str], links: TaskLinks | None = None
) -> tuple[_Blocks, list[Any]]:
    blocks = [kit.section(task_line(result, SINGLE_ERROR_CHARS, links))]
    urls = _numbered(result)
    previews = [u for u in urls if _may_preview(u[2], no_preview)]
    shown = previews[:SINGLE_PREVIEWS]
    for uid, n, url in shown:
        alt = clip(f"Picture {n} of task {uid}", 2000)
        blocks.append(kit.image(url, alt, f"Picture {n} of {len(urls)}"))
    rest = [u for u in urls if u not in shown]
    text, leftovers = _links("More pictures: " if shown else "Pictures: ", rest)
    if text:
        blocks.append(kit.section(text))
    return _made(*blocks), leftovers


def _compact_task(
    result: Found, no_preview: frozenset[str], links: TaskLinks | None = None
) -> tuple[_Blocks, list[Any]]:
    urls = _numbered(result)
    line = task_line(result, MULTI_ERROR_CHARS, links)
    text, leftovers = _links("\nPictures: ", urls, budget=SECTION_TEXT - len(line) - 50)
    thumb = next((u for u in urls if _may_preview(u[2], no_preview)), None)
    accessory = (
        ImageElement(image_url=thumb[2], alt_text=clip(f"Picture 1 of task {result.uid}", 2000))
        if thumb
        else None
    )
    return _made(kit.section(line + text, accessory)), leftovers


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


def _more_tasks(rest: Sequence[Found], room: int = SECTION_TEXT) -> str:
    count = len(rest)
    head = f"…{count} more {'task is' if count == 1 else 'tasks are'} counted above but not shown"
    tail = ". Ask about fewer at a time to see each one."
    names: list[str] = []
    for r in rest[:30]:
        shown = ", ".join([*names, code(r.uid)])
        more = f" and {count - len(names) - 1} more" if count > len(names) + 1 else ""
        if len(f"{head} here: {shown}{more}{tail}") > min(room, SECTION_TEXT):
            break
        names.append(code(r.uid))
    if not names:
        return clip(f"{head}{tail}", SECTION_TEXT)
    more = f" and {count - len(names)} more" if count > len(names) else ""
    return clip(f"{head} here: {', '.join(names)}{more}{tail}", SECTION_TEXT)


def _tail(
    results: Sequence[TaskResult],
    controls: Controls | None,
    checked_at: float | None,
    live: LiveNote | None,
    skipped: str,
) -> _Blocks:
    blocks: list[kit.Made] = []
    missing = [r.uid for r in results if isinstance(r, NotFound)]
    if missing:
        blocks.append(kit.section(_not_found(missing)))
    failed = [r for r in results if isinstance(r, Failed)]
    if failed:
        blocks.append(kit.section(_failures(failed)))
    if skipped:  # bounded where it is written: ten tokens of 40 characters at most
        blocks.append(kit.section(skipped))
    made = _made(*blocks)
    if checked_at is not None or live is not None:
        made += _footer_blocks(None if checked_at is None else int(checked_at), live)
    if controls is not None:
        made += _made(kit.actions(_buttons(controls)))
    return made


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


@lru_cache(maxsize=256)
def _footer_blocks(stamp: int | None, live: LiveNote | None) -> _Blocks:
    """The footer, made once per second and note: every answer within the same second has the
    same one."""
    parts = _footer(stamp, live)
    return _made(kit.converted(ContextBlock(elements=[mrkdwn(part) for part in parts])))


def _footer(stamp: int | None, live: LiveNote | None) -> list[str]:
    parts = []
    if stamp is not None:
        parts.append(_checked(stamp))
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


@lru_cache(maxsize=16)
def _checked(stamp: int) -> str:
    fallback = datetime.fromtimestamp(stamp, UTC).strftime("%Y-%m-%d %H:%M:%S UTC")
    return f"Checked <!date^{stamp}^{{date_short_pretty}} at {{time_secs}}|{fallback}>"


def _by(user: str) -> str:
    return f" by <@{user}>" if user.isalnum() else ""


def _buttons(controls: Controls) -> list[kit.Button]:
    buttons: list[kit.Button] = [("Refresh", ACTION_REFRESH, controls.value, None)]
    if controls.watch == "offer":
        buttons.append(("Watch", ACTION_WATCH, controls.value, "primary"))
    elif controls.watch == "live":
        buttons.append(("Stop watching", ACTION_UNWATCH, controls.watch_id, None))
    return buttons


def _continuations(leftovers: Sequence[tuple[str, int, str]], text: str) -> tuple[Message, ...]:
    """Picture links that did not fit, grouped by task, in as few extra messages as needed."""
    if not leftovers:
        return ()
    sections: list[_Blocks] = []
    pending = list(leftovers)
    while pending:
        uid = pending[0][0]
        group = [p for p in pending if p[0] == uid]
        line, rest = _links(f"Pictures of {code(uid)}: ", group, budget=SECTION_TEXT - 100)
        sections.append(_made(kit.section(line)))
        taken = {id(p) for p in group[: max(len(group) - len(rest), 1)]}
        pending = [p for p in pending if id(p) not in taken]
    messages: list[Message] = []
    blocks = _Blocks()
    for section in sections:
        if len(blocks.blocks) >= MAX_BLOCKS - 1 or blocks.size + section.size > MAX_BLOCKS_CHARS:
            messages.append(_message(f"More pictures ({text})", blocks))
            blocks = _Blocks()
        blocks += section
    if blocks.blocks:
        messages.append(_message(f"More pictures ({text})", blocks))
    return tuple(messages[:MAX_CONTINUATIONS])
