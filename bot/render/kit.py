"""The Block Kit blocks every answer is made of, each with its dict made alongside.

An answer is a few blocks of four shapes (a section of text, maybe with a thumbnail; a picture;
a row of buttons), made anew for every command. Each is built with slack_sdk's classes as
anywhere else and checked by slack_sdk's own validators (`validate`: a field over Slack's
limits raises `SlackObjectFormationError`, in the same order `to_dict()` would), but its dict
is written here from the object's own values instead of being found again by walking the
object (`block_dict`): that walk over every key of every nested object was, even made fast,
the largest part of rendering an answer. The dicts are `to_dict()`'s, key for key and in its
key order (sorted); where `to_dict()` would leave a key out (an empty text), the dict comes
from `block_dict` instead. Tests compare both for random inputs.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

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

from bot.render.blocks import block_dict, validate
from bot.render.text import clip

SECTION_TEXT = 3000

Made = tuple[Block, dict[str, Any]]
Button = tuple[str, str, str, str | None]  # label, action_id, value, style


def mrkdwn(text: str) -> MarkdownTextObject:
    # verbatim: Slack must not turn outside text into links, channel names or mentions.
    return MarkdownTextObject(text=clip(text, SECTION_TEXT), verbatim=True)


def converted(block: Block) -> Made:
    """Any other block, with its dict made the general way."""
    return block, block_dict(block)


def section(text: str, accessory: ImageElement | None = None) -> Made:
    """A section of mrkdwn text, with a picture beside it when there is one."""
    body = mrkdwn(text)
    block = SectionBlock(text=body, accessory=accessory)
    if not body.text or (accessory is not None and not _full_image(accessory)):
        return converted(block)
    validate(block)
    made: dict[str, Any] = {}
    if accessory is not None:
        validate(accessory)
        made["accessory"] = _image_dict(accessory)
    validate(body)
    made["text"] = {"text": body.text, "type": body.type, "verbatim": body.verbatim}
    made["type"] = block.type
    return block, made


def image(url: str, alt_text: str, title: str) -> Made:
    """A picture with a plain-text title."""
    heading = PlainTextObject(text=title, emoji=False)
    block = ImageBlock(image_url=url, alt_text=alt_text, title=heading)
    if not (block.image_url and block.alt_text and heading.text):
        return converted(block)
    validate(block)
    validate(heading)
    return block, {
        "alt_text": block.alt_text,
        "image_url": block.image_url,
        "title": _plain_dict(heading),
        "type": block.type,
    }


def actions(buttons: Sequence[Button]) -> Made:
    """A row of buttons with plain-text labels."""
    elements = [
        ButtonElement(
            text=PlainTextObject(text=label, emoji=False),
            action_id=action,
            value=value,
            style=style,
        )
        for label, action, value, style in buttons
    ]
    block = ActionsBlock(elements=elements)
    if not elements or not all(_full_button(b) for b in elements):
        return converted(block)
    validate(block)
    return block, {"elements": [_button_dict(b) for b in elements], "type": block.type}


def _full_image(element: ImageElement) -> bool:
    return bool(element.image_url and element.alt_text)


def _image_dict(element: ImageElement) -> dict[str, Any]:
    return {"alt_text": element.alt_text, "image_url": element.image_url, "type": element.type}


def _plain_dict(text: PlainTextObject) -> dict[str, Any]:
    return {"emoji": text.emoji, "text": text.text, "type": text.type}


def _full_button(button: ButtonElement) -> bool:
    """Every value the dict below writes is there (a style may be left out, not empty)."""
    label = button.text
    return bool(
        button.action_id
        and button.value
        and button.style != ""
        and isinstance(label, PlainTextObject)
        and label.text
    )


def _button_dict(button: ButtonElement) -> dict[str, Any]:
    validate(button)
    label = button.text
    assert isinstance(label, PlainTextObject)  # pragma: no mutate (checked by _full_button)
    validate(label)
    made: dict[str, Any] = {"action_id": button.action_id}
    if button.style is not None:
        made["style"] = button.style
    made["text"] = _plain_dict(label)
    made["type"] = button.type
    made["value"] = button.value
    return made
