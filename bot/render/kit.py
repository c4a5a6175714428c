"""The Block Kit blocks every answer is made of, each with its dict and JSON made alongside.

An answer is a few blocks of four shapes (a section of text, maybe with a thumbnail; a picture;
a row of buttons), made anew for every command. Each is built with slack_sdk's classes as
anywhere else and checked by slack_sdk's own validators (`validate`: a field over Slack's
limits raises `SlackObjectFormationError`, in the same order `to_dict()` would), but its dict
and its JSON are written here from the object's own values instead of being found again by
walking the object (`block_dict`) and encoding that: the walk over every key of every nested
object, even made fast, and the encoding were most of the cost of rendering an answer.
The dicts are `to_dict()`'s, key for key and in its key order (sorted), the JSON is what
`json.dumps` makes of them; where `to_dict()` would leave a key out (an empty text), both come
the general way (`converted`). Tests compare them with slack_sdk's for random inputs.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from functools import lru_cache
from json.encoder import encode_basestring, encode_basestring_ascii
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
from bot.render.jsontext import ascii_json, encode
from bot.render.text import clip

SECTION_TEXT = 3000

# The block, its dict, its JSON as `json.dumps` writes it, and the length the budget counts:
# its JSON as `ensure_ascii=False` writes it (`jsontext.encode`).
Made = tuple[Block, dict[str, Any], str, int]
Escape = Callable[[str], str]  # a text as a JSON string, with or without `ensure_ascii`
Button = tuple[str, str, str, str | None]  # label, action_id, value, style


def mrkdwn(text: str) -> MarkdownTextObject:
    # verbatim: Slack must not turn outside text into links, channel names or mentions.
    return MarkdownTextObject(text=clip(text, SECTION_TEXT), verbatim=True)


def converted(block: Block) -> Made:
    """Any other block, with its dict and JSON made the general way."""
    made = block_dict(block)
    text = encode(made)
    return block, made, ascii_json(text).decode("ascii"), len(text)


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
        made["accessory"] = _image_element(accessory)
    validate(body)
    made["text"] = {"text": body.text, "type": "mrkdwn", "verbatim": True}
    made["type"] = "section"

    def write(j: Escape) -> str:
        beside = f'"accessory": {_image_element_json(accessory, j)}, ' if accessory else ""
        mrkdwn_json = f'{{"text": {j(body.text)}, "type": "mrkdwn", "verbatim": true}}'
        return f'{{{beside}"text": {mrkdwn_json}, "type": "section"}}'

    return block, made, *_written(write)


def image(url: str, alt_text: str, title: str) -> Made:
    """A picture with a plain-text title."""
    heading = _plain_text(title)
    block = ImageBlock(image_url=url, alt_text=alt_text, title=heading)
    if not (block.image_url and block.alt_text and heading.text):
        return converted(block)
    validate(block)
    made = {
        "alt_text": block.alt_text,
        "image_url": block.image_url,
        "title": _plain(heading),
        "type": "image",
    }

    def write(j: Escape) -> str:
        return (
            f'{{"alt_text": {j(block.alt_text)}, "image_url": {j(_there(block.image_url))}, '
            f'"title": {_plain_json(heading, j)}, "type": "image"}}'
        )

    return block, made, *_written(write)


def actions(buttons: Sequence[Button]) -> Made:
    """A row of buttons with plain-text labels."""
    elements = [
        ButtonElement(text=_plain_text(label), action_id=action, value=value, style=style)
        for label, action, value, style in buttons
    ]
    block = ActionsBlock(elements=elements)
    if not elements or not all(_full_button(b) for b in elements):
        return converted(block)
    validate(block)
    made = {"elements": [_button(b) for b in elements], "type": "actions"}

    def write(j: Escape) -> str:
        row = ", ".join([_button_json(b, j) for b in elements])
        return f'{{"elements": [{row}], "type": "actions"}}'

    return block, made, *_written(write)


def _written(write: Callable[[Escape], str]) -> tuple[str, int]:
    """A block's JSON as `json.dumps` writes it, and its length as the budget counts it
    (`ensure_ascii=False`): the same text unless some character was escaped as `\\uXXXX`,
    then written again the other way to be measured."""
    text = write(encode_basestring_ascii)
    if "\\u" not in text:
        return text, len(text)
    return text, len(write(encode_basestring))


@lru_cache(maxsize=256)
def _plain_text(text: str) -> PlainTextObject:
    """A button's label or a picture's title, made once per text: the same few are on every
    answer ("Refresh", "Picture 1 of 1").

    Shared between the blocks of every answer, like all made blocks: read only. Its own
    validators (a plain text has none today) run here, once.
    """
    made = PlainTextObject(text=text, emoji=False)
    validate(made)
    return made


def _full_image(element: ImageElement) -> bool:
    """A plain picture element with every value the dict below writes (and nothing else)."""
    plain = type(element) is ImageElement and element.slack_file is None
    return bool(plain and element.image_url and element.alt_text)


def _image_element(element: ImageElement) -> dict[str, Any]:
    return {"alt_text": element.alt_text, "image_url": element.image_url, "type": "image"}


def _image_element_json(element: ImageElement, j: Escape) -> str:
    alt_text, url = _there(element.alt_text), _there(element.image_url)
    return f'{{"alt_text": {j(alt_text)}, "image_url": {j(url)}, "type": "image"}}'


def _plain(text: PlainTextObject) -> dict[str, Any]:
    """A plain-text object made with `emoji=False` (as every one here is)."""
    return {"emoji": False, "text": text.text, "type": "plain_text"}


def _plain_json(text: PlainTextObject, j: Escape) -> str:
    return f'{{"emoji": false, "text": {j(text.text)}, "type": "plain_text"}}'


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


def _button(button: ButtonElement) -> dict[str, Any]:
    validate(button)
    label = button.text
    assert isinstance(label, PlainTextObject)  # pragma: no mutate (checked by _full_button)
    made: dict[str, Any] = {"action_id": button.action_id}
    if button.style is not None:
        made["style"] = button.style
    made["text"] = _plain(label)
    made["type"] = "button"
    made["value"] = button.value
    return made


def _button_json(button: ButtonElement, j: Escape) -> str:
    label = button.text
    assert isinstance(label, PlainTextObject)  # pragma: no mutate (checked by _full_button)
    style = "" if button.style is None else f'"style": {j(button.style)}, '
    return (
        f'{{"action_id": {j(_there(button.action_id))}, {style}"text": {_plain_json(label, j)}, '
        f'"type": "button", "value": {j(_there(button.value))}}}'
    )


def _there(text: str | None) -> str:
    """A text the caller made sure is there (`_full_image`, `_full_button`)."""
    assert text is not None  # pragma: no mutate
    return text
