"""The blocks `kit` makes carry `to_dict()`'s dicts, their JSON and its measure, and fail where
`to_dict()` fails.

Every input the answer could give, and those it never does (empty texts, texts over Slack's
limits, odd characters), compared with slack_sdk's own `to_dict()` of the same object.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from slack_sdk.errors import SlackObjectFormationError
from slack_sdk.models.blocks import (
    ActionsBlock,
    Block,
    ButtonElement,
    ImageBlock,
    ImageElement,
    MarkdownTextObject,
    PlainTextObject,
    SectionBlock,
)

from bot.render import kit
from bot.render.jsontext import encode
from tests.test_render import nasty_text

# Short, empty, at and over Slack's limits (75 for a button's text, 2000 for alt texts and
# values, 3000 for URLs and sections).
sized = st.one_of(
    nasty_text,
    st.just(""),
    st.integers(60, 3100).map(lambda n: "é" * n),
    st.sampled_from(["x" * 75, "x" * 76, "y" * 2000, "y" * 2001, "u" * 3000, "u" * 3001]),
    st.lists(st.sampled_from(["\\u00e9", "\x7f", "\x01", "😀", "é", '"', "\\"]), max_size=8).map(
        "".join
    ),
)
style = st.sampled_from([None, "", "primary", "danger", "loud"])
button = st.tuples(sized, sized, sized, style)


def same_as_to_dict(make: Callable[[], kit.Made], reference: Block) -> None:
    """`make()` gives the dict `to_dict()` gives of `reference` (the same block, made here with
    slack_sdk alone), or fails with the error `to_dict()` raises."""
    try:
        expected = reference.to_dict()
    except SlackObjectFormationError as error:
        refused = str(error)
    else:
        refused = ""
    if refused:
        with pytest.raises(SlackObjectFormationError, match=f"^{re.escape(refused)}$"):
            make()
        return
    block, made, text, size = make()
    assert made == expected == block.to_dict()
    assert text == json.dumps(made) == json.dumps(expected)  # the same key order too
    assert size == len(json.dumps(expected, ensure_ascii=False)) == len(encode(made))


def plain(text: str) -> PlainTextObject:
    return PlainTextObject(text=text, emoji=False)


@settings(max_examples=300, deadline=None)
@given(sized, st.none() | st.tuples(sized, sized))
def test_sections(text: str, thumb: tuple[str, str] | None) -> None:
    accessory = ImageElement(image_url=thumb[0], alt_text=thumb[1]) if thumb else None
    body = MarkdownTextObject(text=text[:2999] + "…" if len(text) > 3000 else text, verbatim=True)
    same_as_to_dict(
        lambda: kit.section(text, accessory), SectionBlock(text=body, accessory=accessory)
    )


@settings(max_examples=300, deadline=None)
@given(sized, sized, sized)
def test_images(url: str, alt_text: str, title: str) -> None:
    same_as_to_dict(
        lambda: kit.image(url, alt_text, title),
        ImageBlock(image_url=url, alt_text=alt_text, title=plain(title)),
    )


@settings(max_examples=300, deadline=None)
@given(st.lists(button, max_size=3))
def test_buttons(buttons: list[tuple[str, str, str, Any]]) -> None:
    elements = [
        ButtonElement(text=plain(label), action_id=action, value=value, style=style)
        for label, action, value, style in buttons
    ]
    same_as_to_dict(lambda: kit.actions(buttons), ActionsBlock(elements=elements))


def test_limits_are_slack_sdks() -> None:
    """Over a limit, the error is slack_sdk's own, with its own words."""
    with pytest.raises(SlackObjectFormationError, match="value attribute cannot exceed 2000"):
        kit.actions([("Refresh", "a", "v" * 2001, None)])
    with pytest.raises(SlackObjectFormationError, match="text attribute cannot exceed 75"):
        kit.actions([("x" * 76, "a", "v", None)])
    with pytest.raises(SlackObjectFormationError, match="style attribute must be one of"):
        kit.actions([("Go", "a", "v", "loud")])
    with pytest.raises(SlackObjectFormationError, match="image_url attribute cannot exceed"):
        kit.image("https://x/" + "p" * 3000, "alt", "title")
    with pytest.raises(SlackObjectFormationError, match="alt_text attribute cannot exceed"):
        kit.section("t", ImageElement(image_url="https://x/p.png", alt_text="a" * 2001))


def test_a_thumbnail_with_more_than_a_url_goes_the_general_way() -> None:
    thumb = ImageElement(slack_file={"url": "https://files.slack.com/x.png"}, alt_text="a")
    same_as_to_dict(
        lambda: kit.section("t", thumb),
        SectionBlock(text=MarkdownTextObject(text="t", verbatim=True), accessory=thumb),
    )
    assert "slack_file" in kit.section("t", thumb)[1]["accessory"]
