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
from functools import lru_cache
from json.encoder import encode_basestring
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
from bot.render.jsontext import encode
from bot.render.text import clip

SECTION_TEXT = 3000
_json = encode_basestring  # a text as JSON, as `encode` writes it (`ensure_ascii=False`)

Made = tuple[Block, dict[str, Any], str]  # the block, its dict, its JSON (`jsontext.encode`)
Button = tuple[str, str, str, str | None]  # label, action_id, value, style


def mrkdwn(text: str) -> MarkdownTextObject:
    # verbatim: Slack must not turn outside text into links, channel names or mentions.
    return MarkdownTextObject(text=clip(text, SECTION_TEXT), verbatim=True)


def converted(block: Block) -> Made:
    """Any other block, with its dict and JSON made the general way."""
    made = block_dict(block)
    return block, made, encode(made)


def section(text: str, accessory: ImageElement | None = None) -> Made:
    """A section of mrkdwn text, with a picture beside it when there is one."""
    body = mrkdwn(text)
    block = SectionBlock(text=body, accessory=accessory)
    if not body.text or (accessory is not None and not _full_image(accessory)):
        return converted(block)
    validate(block)
    made: dict[str, Any] = {}
    text = ""
    if accessory is not None:
        validate(accessory)
        made["accessory"], text = _image_element(accessory)
        text = f'"accessory": {text}, '
    validate(body)
    made["text"] = {"text": body.text, "type": "mrkdwn", "verbatim": True}
    made["type"] = "section"
    mrkdwn_json = f'{{"text": {_json(body.text)}, "type": "mrkdwn", "verbatim": true}}'
    return block, made, f'{{{text}"text": {mrkdwn_json}, "type": "section"}}'


def image(url: str, alt_text: str, title: str) -> Made:
    """A picture with a plain-text title."""
    heading = PlainTextObject(text=title, emoji=False)
    block = ImageBlock(image_url=url, alt_text=alt_text, title=heading)
    if not (block.image_url and block.alt_text and heading.text):
        return converted(block)
    validate(block)
    validate(heading)
    title_dict, title_json = _plain(heading)
    made = {
        "alt_text": block.alt_text,
        "image_url": block.image_url,
        "title": title_dict,
        "type": "image",
    }
    text = (
        f'{{"alt_text": {_json(block.alt_text)}, "image_url": {_json(block.image_url)}, '
        f'"title": {title_json}, "type": "image"}}'
    )
    return block, made, text


def actions(buttons: Sequence[Button]) -> Made:
    """A row of buttons with plain-text labels."""
    elements = [
        ButtonElement(text=_label(label), action_id=action, value=value, style=style)
        for label, action, value, style in buttons
    ]
    block = ActionsBlock(elements=elements)
    if not elements or not all(_full_button(b) for b in elements):
        return converted(block)
    validate(block)
    dicts, jsons = zip(*[_button(b) for b in elements], strict=True)
    text = f'{{"elements": [{", ".join(jsons)}], "type": "actions"}}'
    return block, {"elements": list(dicts), "type": "actions"}, text


@lru_cache(maxsize=64)
def _label(text: str) -> PlainTextObject:
    """A button's label, made once per text: the same few labels are on every answer.

    Shared between the buttons of every answer, like all made blocks: read only.
    """
    return PlainTextObject(text=text, emoji=False)


def _checked(text: str | None) -> str:
    """`_json` of a text the caller made sure is there (by `_full_image`, `_full_button`)."""
    assert text is not None  # pragma: no mutate
    return _json(text)


def _full_image(element: ImageElement) -> bool:
    return bool(element.image_url and element.alt_text)


def _image_element(element: ImageElement) -> tuple[dict[str, Any], str]:
    alt_text, url = element.alt_text, element.image_url
    text = f'{{"alt_text": {_checked(alt_text)}, "image_url": {_checked(url)}, "type": "image"}}'
    return {"alt_text": alt_text, "image_url": url, "type": "image"}, text


def _plain(text: PlainTextObject) -> tuple[dict[str, Any], str]:
    """A plain-text object made with `emoji=False` (as every one here is)."""
    made = {"emoji": False, "text": text.text, "type": "plain_text"}
    return made, f'{{"emoji": false, "text": {_json(text.text)}, "type": "plain_text"}}'


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


def _button(button: ButtonElement) -> tuple[dict[str, Any], str]:
    validate(button)
    label = button.text
    assert isinstance(label, PlainTextObject)  # pragma: no mutate (checked by _full_button)
    validate(label)
    label_dict, label_json = _plain(label)
    made: dict[str, Any] = {"action_id": button.action_id}
    text = f'{{"action_id": {_checked(button.action_id)}, '
    if button.style is not None:
        made["style"] = button.style
        text += f'"style": {_json(button.style)}, '
    made["text"] = label_dict
    made["type"] = "button"
    made["value"] = button.value
    return (
        made,
        f'{text}"text": {label_json}, "type": "button", "value": {_checked(button.value)}}}',
    )
