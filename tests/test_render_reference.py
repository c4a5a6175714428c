"""The faster renderer builds exactly the payloads of the reference one, for any input."""

from __future__ import annotations

import json
from typing import Any, Literal

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.render import answer
from bot.render.answer import NO_PREVIEWS_AT_ALL
from bot.render.blocks import block_dict
from bot.taskapi.errors import ApiUnavailable, ApiUnreadable
from bot.taskapi.models import Failed, Found, TaskDetail, TaskResult
from tests import reference_answer as reference
from tests.test_render import nasty_text, result

failure = st.builds(
    lambda uid, detail, ref, kind: Failed(uid, kind(detail, ref)),
    st.sampled_from(["ok-1", "ok-2", "a" * 128]),
    nasty_text,
    st.sampled_from(["", "req-1", "req-2"]),
    st.sampled_from([ApiUnavailable, ApiUnreadable]),
)
# Long, non-ASCII errors and many pictures: answers at the edge of the size budget.
heavy = st.builds(
    lambda uid, msg, n: Found(
        uid,
        TaskDetail.model_validate(
            {
                "TaskUid": uid,
                "TaskStatus": "Error",
                "TaskErrorMsg": msg,
                "FinalPictureUrls": [f"https://img.example/{uid}/{k}.png" for k in range(n)],
            }
        ),
    ),
    st.text(alphabet="abc-_9", min_size=1, max_size=128),
    st.text(alphabet="aé任<&", min_size=0, max_size=400),
    st.integers(0, 30),
)
results = st.lists(result | failure, min_size=1, max_size=60) | st.lists(
    heavy, min_size=5, max_size=80
)
live_kind = st.sampled_from(["watching", "retrying", "done", "expired", "stopped"])
watch_kind = st.sampled_from(["offer", "live", "none"])
user = st.sampled_from(["", "U123", "U1 <!here>"])


def flatten(message: Any) -> list[tuple[str, dict[str, Any]]]:
    """The message and its continuations as (text, payload) pairs."""
    return [(m.text, m.as_payload()) for m in (message, *message.continuations)]


def pictures(found: list[TaskResult], data: st.DataObject) -> frozenset[str]:
    urls = [u for r in found if isinstance(r, Found) for u in r.task.final_picture_urls]
    chosen = data.draw(st.lists(st.sampled_from(urls), max_size=5) if urls else st.just([]))
    every = data.draw(st.booleans())
    return frozenset(chosen) | (frozenset({NO_PREVIEWS_AT_ALL}) if every else frozenset())


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    results,
    st.data(),
    st.none() | st.tuples(nasty_text, watch_kind, nasty_text),
    st.none() | st.floats(min_value=0, max_value=4e9),
    st.none() | st.tuples(live_kind, nasty_text, user),
    st.none() | nasty_text,
)
def test_answer_message_matches_the_reference(
    found: list[TaskResult],
    data: st.DataObject,
    buttons: tuple[str, Literal["offer", "live", "none"], str] | None,
    checked_at: float | None,
    note: tuple[Literal["watching", "retrying", "done", "expired", "stopped"], str, str] | None,
    headline: str | None,
) -> None:
    no_preview = pictures(found, data)
    kwargs: dict[str, Any] = {"checked_at": checked_at, "no_preview": no_preview}
    new = answer.answer_message(
        found,
        controls=answer.Controls(*buttons) if buttons else None,
        live=answer.LiveNote(*note) if note else None,
        headline=headline,
        **kwargs,
    )
    old = reference.answer_message(
        found,
        controls=reference.Controls(*buttons) if buttons else None,
        live=reference.LiveNote(*note) if note else None,
        headline=headline,
        **kwargs,
    )
    assert flatten(new) == flatten(old)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(results, st.data(), nasty_text, st.floats(min_value=0, max_value=4e9), user)
def test_lookup_and_completion_match_the_reference(
    found: list[TaskResult], data: st.DataObject, value: str, checked_at: float, who: str
) -> None:
    no_preview = pictures(found, data)
    assert flatten(answer.lookup_message(found, value, checked_at, no_preview)) == flatten(
        reference.lookup_message(found, value, checked_at, no_preview)
    )
    assert flatten(answer.completion_message(found, who, no_preview)) == flatten(
        reference.completion_message(found, who, no_preview)
    )


def test_one_finished_task_matches_the_reference() -> None:
    """The commonest answer, pinned without randomness."""
    from tests.test_render import task

    urls = [f"https://img.example/{n}.png" for n in range(2)]
    found: list[TaskResult] = [task(FinalPictureUrls=urls)]
    new = answer.lookup_message(found, '{"u":["ok-1"]}', 1.8e9)
    old = reference.lookup_message(found, '{"u":["ok-1"]}', 1.8e9)
    assert flatten(new) == flatten(old)
    assert [b["type"] for b in new.as_payload()["blocks"]].count("image") == 2


def test_block_dict_is_to_dict_for_other_block_kinds() -> None:
    """Classes the answers do not use yet, some with their own `to_dict`: the same dicts."""
    from slack_sdk.models.blocks import (
        ConfirmObject,
        HeaderBlock,
        InputBlock,
        Option,
        PlainTextInputElement,
        RichTextBlock,
        RichTextSectionElement,
        StaticSelectElement,
    )
    from slack_sdk.models.blocks import SectionBlock as Section

    confirm = ConfirmObject(title="Sure?", text="Really <b>", confirm="Yes", deny="No")
    options = [Option(text=f"o{n}", value=str(n)) for n in range(3)]
    select = StaticSelectElement(action_id="s", options=options, confirm=confirm)
    blocks = [
        HeaderBlock(text="Head"),
        Section(text="plain", accessory=select, fields=["a", "b"]),
        InputBlock(label="L", element=PlainTextInputElement(action_id="i"), optional=True),
        RichTextBlock(elements=[RichTextSectionElement(elements=[])]),
        Section(text="x", block_id=""),
    ]
    for block in blocks:
        assert block_dict(block) == block.to_dict()
        assert json.dumps(block_dict(block)) == json.dumps(block.to_dict())


def test_block_dict_validates_as_to_dict_does() -> None:
    from slack_sdk.errors import SlackObjectFormationError
    from slack_sdk.models.blocks import ActionsBlock, ButtonElement, ImageBlock

    too_long = ActionsBlock(elements=[ButtonElement(text="x" * 100, action_id="a", value="v")])
    bad_image = ImageBlock(image_url="https://x/" + "p" * 3000, alt_text="a")
    for block in (too_long, bad_image):
        with pytest.raises(SlackObjectFormationError):
            block.to_dict()
        with pytest.raises(SlackObjectFormationError):
            block_dict(block)
