"""The lookup modal, exactly: its form, the answer above it, the modal's block limit."""

from __future__ import annotations

from typing import Any

import pytest
from slack_sdk.models.blocks import SectionBlock

from bot.render.answer import answer_message, mrkdwn
from bot.render.modal import answer_blocks, lookup_modal, note_modal
from bot.taskapi.models import Found, TaskDetail


def plain(text: str) -> dict[str, Any]:
    return {"type": "plain_text", "text": text, "emoji": False}


def form(initial: str | None) -> list[dict[str, Any]]:
    element: dict[str, Any] = {
        "type": "plain_text_input",
        "action_id": "uids",
        "multiline": True,
        "placeholder": plain("0f8c2d4e-… or task-123"),
    }
    if initial is not None:
        element["initial_value"] = initial
    return [
        {
            "type": "input",
            "block_id": "lookup_uids",
            "label": plain("Task UIDs"),
            "hint": plain("Separate them with spaces, commas or new lines; up to 200 at a time."),
            "element": element,
        },
        {
            "type": "input",
            "block_id": "lookup_dm",
            "label": plain("Where"),
            "optional": True,
            "element": {
                "type": "checkboxes",
                "action_id": "dm",
                "options": [
                    {
                        "text": plain("Send me a live answer by direct message instead"),
                        "value": "dm",
                        "description": plain("It updates itself until every task is done."),
                    }
                ],
            },
        },
    ]


def modal(blocks: list[dict[str, Any]]) -> dict[str, Any]:
    return {
        "type": "modal",
        "callback_id": "task_lookup_modal",
        "title": plain("Look up tasks"),
        "submit": plain("Look up"),
        "close": plain("Close"),
        "blocks": blocks,
    }


def test_empty_form() -> None:
    assert lookup_modal() == modal(form(None))
    assert lookup_modal("") == modal(form(None))


def test_form_keeps_what_was_typed_within_the_input_limit() -> None:
    assert lookup_modal("a-1, b-2") == modal(form("a-1, b-2"))
    assert lookup_modal("x" * 3000) == modal(form("x" * 3000))
    assert lookup_modal("y" * 3000 + "z") == modal(form("y" * 3000))


def test_answer_sits_above_a_divider_and_the_form() -> None:
    answer = [SectionBlock(block_id="a", text=mrkdwn("*1 task*")), SectionBlock(text=mrkdwn("b"))]
    answered: list[dict[str, Any]] = [
        {
            "type": "section",
            "block_id": "a",
            "text": {"type": "mrkdwn", "text": "*1 task*", "verbatim": True},
        },
        {"type": "section", "text": {"type": "mrkdwn", "text": "b", "verbatim": True}},
        {"type": "divider"},
    ]
    assert lookup_modal("c-3", answer) == modal(answered + form("c-3"))


def test_note_modal_has_no_form_and_no_submit() -> None:
    assert note_modal("Looking up <3> tasks…") == {
        "type": "modal",
        "callback_id": "task_lookup_modal",
        "title": plain("Look up tasks"),
        "close": plain("Close"),
        "blocks": [
            {
                "type": "section",
                "text": {"type": "mrkdwn", "text": "Looking up <3> tasks…", "verbatim": True},
            }
        ],
    }


def found(uid: str, pictures: int) -> Found:
    urls = [f"https://img.example/{uid}/{n}.png" for n in range(pictures)]
    detail = {"TaskUid": uid, "TaskStatus": "Finished", "FinalPictureUrls": urls}
    return Found(uid, TaskDetail.model_validate(detail))


def dicts(blocks: Any) -> list[dict[str, Any]]:
    return [b.to_dict() for b in blocks]


@pytest.mark.parametrize(("tasks", "pictures"), [(3, 0), (30, 12), (60, 3), (200, 12)])
def test_answer_blocks_are_the_answer_then_its_continuations_up_to_97(
    tasks: int, pictures: int
) -> None:
    results = [found(f"t-{n}", pictures) for n in range(tasks)]
    message = answer_message(results, checked_at=1.0)
    every = dicts(message.blocks) + [d for m in message.continuations for d in dicts(m.blocks)]
    got = dicts(answer_blocks(results, 1.0))
    assert got == every[:97]
    assert len(got) == min(len(every), 97)


def test_answer_blocks_hide_pictures_slack_could_not_fetch() -> None:
    results = [found("t-1", 2)]
    broken = frozenset({"https://img.example/t-1/0.png"})
    expected = answer_message(results, checked_at=5.0, no_preview=broken)
    assert dicts(answer_blocks(results, 5.0, broken)) == dicts(expected.blocks)
    assert dicts(answer_blocks(results, 5.0, broken)) != dicts(answer_blocks(results, 5.0))
    assert dicts(answer_blocks(results, 5.0)) != dicts(answer_blocks(results, 6.0))
