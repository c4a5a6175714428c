"""The lookup modal: a box for UIDs, the answer shown in the modal itself, a DM choice.

Pure: views are built from data already fetched. The answer is the same Block Kit as in a
channel (without buttons, which act on channel messages), within a modal's 100 blocks.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from slack_sdk.models.blocks import (
    Block,
    CheckboxesElement,
    DividerBlock,
    InputBlock,
    Option,
    PlainTextInputElement,
    PlainTextObject,
    SectionBlock,
)
from slack_sdk.models.views import View

from bot.render.answer import answer_message, mrkdwn
from bot.render.links import TaskLinks
from bot.taskapi.models import TaskResult

MODAL_CALLBACK = "task_lookup_modal"
UIDS_BLOCK = "lookup_uids"
UIDS_INPUT = "uids"
DM_BLOCK = "lookup_dm"
DM_INPUT = "dm"
MAX_MODAL_BLOCKS = 100
MAX_INITIAL = 3000  # plain_text_input initial_value


def lookup_modal(initial: str = "", answer: Sequence[Block] = ()) -> dict[str, Any]:
    """The form, with an answer above it once there is one (so another lookup is one step)."""
    blocks: list[Block] = [*answer, DividerBlock()] if answer else []
    blocks += _inputs(initial)
    return View(
        type="modal",
        callback_id=MODAL_CALLBACK,
        title=_plain("Look up tasks"),
        submit=_plain("Look up"),
        close=_plain("Close"),
        blocks=blocks,
    ).to_dict()


def answer_blocks(
    results: Sequence[TaskResult],
    checked_at: float,
    no_preview: frozenset[str] = frozenset(),
    links: TaskLinks | None = None,
) -> list[Block]:
    """The channel answer's blocks, then its continuation blocks while the modal has room."""
    message = answer_message(results, checked_at=checked_at, no_preview=no_preview, links=links)
    room = MAX_MODAL_BLOCKS - 1 - 2  # the divider and the two inputs below
    blocks = list(message.blocks)
    for more in message.continuations:
        # Only saves copying (so not mutated): the [:room] below cuts the same blocks.
        blocks += more.blocks[: max(room - len(blocks), 0)]  # pragma: no mutate
    return blocks[:room]


def note_modal(text: str) -> dict[str, Any]:
    """A modal that only says something (looking up, sent by DM)."""
    return View(
        type="modal",
        callback_id=MODAL_CALLBACK,
        title=_plain("Look up tasks"),
        close=_plain("Close"),
        blocks=[SectionBlock(text=mrkdwn(text))],
    ).to_dict()


def _inputs(initial: str) -> list[Block]:
    uids = InputBlock(
        block_id=UIDS_BLOCK,
        label=_plain("Task UIDs"),
        hint=_plain("Separate them with spaces, commas or new lines; up to 200 at a time."),
        element=PlainTextInputElement(
            action_id=UIDS_INPUT,
            multiline=True,
            initial_value=initial[:MAX_INITIAL] or None,
            placeholder=_plain("0f8c2d4e-… or task-123"),
        ),
    )
    dm = InputBlock(
        block_id=DM_BLOCK,
        label=_plain("Where"),
        optional=True,
        element=CheckboxesElement(
            action_id=DM_INPUT,
            options=[
                Option(
                    value="dm",
                    text=_plain("Send me a live answer by direct message instead"),
                    description=_plain("It updates itself until every task is done."),
                )
            ],
        ),
    )
    return [uids, dm]


def _plain(text: str) -> PlainTextObject:
    return PlainTextObject(text=text, emoji=False)
