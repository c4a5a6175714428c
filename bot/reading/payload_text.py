"""The texts a person reads in a Slack message payload, as mrkdwn strings. Pure, no I/O.

Slack sends one message in several shapes at once: `text` (mrkdwn), `blocks` (rich_text for
what people type, section/context/header for what apps post) and legacy `attachments` (text,
pretext, title, footer, fields as title/value pairs, nested blocks, shared messages). Each is
turned into mrkdwn here, so one set of rules (`bot.reading.parse`) reads them all:

- rich_text `code` runs come back in backticks (adjacent runs merged, so a UID split into
  several styled elements stays one), preformatted elements as fenced code blocks, links as
  `<url|text>`, user/channel mentions dropped; raw text is escaped as Slack escapes `text`;
- an attachment field becomes `title: value`, so a field titled `TaskUid` reads as a label.

The top-level `text` is read too, though Slack derives it from a person's rich_text: apps
post texts and blocks that differ, and the same UID found twice is counted once.

Slack's reference for these shapes: api.slack.com/reference/block-kit/blocks#rich_text and
api.slack.com/reference/messaging/attachments.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

_TEXT_OBJECT_TYPES = frozenset({"mrkdwn", "plain_text"})
_FORMATTING = "*_~ "
_ATTACHMENT_TEXTS = ("pretext", "author_name", "title", "text", "footer", "fallback")
# Blocks whose texts are labels, never what the message says: an image's title, a button's
# label, an input's placeholder. Any other type (section, header, context, markdown, or one
# newer than this code) is read for its text objects.
# A tuple, not a set: `in` then compares, so a malformed `type` (a dict) cannot raise.
_TEXTLESS_BLOCKS = ("image", "actions", "divider", "file", "video", "input")


def message_texts(message: Mapping[str, Any]) -> list[str]:
    """Every text of a message (text, blocks, attachments) as mrkdwn, in reading order."""
    return [t for t in _message(_dict(message)) if t.strip()]


def _message(message: Mapping[str, Any]) -> Iterator[str]:
    yield _str(message.get("text"))
    for block in _list(message.get("blocks")):
        yield from _block(_dict(block))
    for attachment in _list(message.get("attachments")):
        yield from _attachment(_dict(attachment))


def _attachment(attachment: Mapping[str, Any]) -> Iterator[str]:
    for key in _ATTACHMENT_TEXTS:
        yield _str(attachment.get(key))
        if key == "title" and attachment.get("title_link"):
            yield f"<{_str(attachment.get('title_link'))}>"
    for url_key in ("from_url", "original_url"):
        if attachment.get(url_key):
            yield f"<{_str(attachment.get(url_key))}>"
    for field in _list(attachment.get("fields")):
        field = _dict(field)
        title = _str(field.get("title")).strip(_FORMATTING).rstrip(":").strip(_FORMATTING)
        value = _str(field.get("value"))
        yield f"{title}: {value}" if title else value
    for block in _list(attachment.get("blocks")):
        yield from _block(_dict(block))
    for shared in _list(attachment.get("message_blocks")):  # a message shared with its blocks
        yield from _message(_dict(_dict(shared).get("message")))


def _block(block: Mapping[str, Any]) -> Iterator[str]:
    kind = block.get("type")
    if kind == "rich_text":
        yield "\n".join(_rich_element(_dict(e)) for e in _list(block.get("elements")))
    elif kind not in _TEXTLESS_BLOCKS:  # section, header, context, markdown, or a newer type
        yield from _text_objects(block)


def _text_objects(node: Any) -> Iterator[str]:
    """Texts of a block's text objects (`text`, `fields`, context `elements`), in order."""
    if isinstance(node, Mapping):
        if _str(node.get("type")) in _TEXT_OBJECT_TYPES or node.get("type") == "markdown":
            yield _str(node.get("text"))
            return
        for key in ("text", "fields", "elements"):
            yield from _text_objects(node.get(key))
    elif isinstance(node, list):
        for item in node:
            yield from _text_objects(item)


def _rich_element(element: Mapping[str, Any]) -> str:
    kind = element.get("type")
    children = [_dict(e) for e in _list(element.get("elements"))]
    if kind == "rich_text_preformatted":
        return "```" + "".join(_inline(e, in_code=True) for e in children) + "```"
    if kind == "rich_text_list":
        return "\n".join(_rich_element(e) for e in children)
    return _runs(children)  # rich_text_section, rich_text_quote, and any newer container


def _runs(elements: list[Mapping[str, Any]]) -> str:
    """A section's elements as one line: adjacent `code` runs merged into one code span."""
    out: list[str] = []
    code: list[str] = []
    for element in elements:
        if _is_code(element):
            code.append(_inline(element, in_code=True))
            continue
        if code:
            out.append(_code_span("".join(code)))
            code = []
        out.append(_inline(element, in_code=False))
    if code:
        out.append(_code_span("".join(code)))
    return "".join(out)


def _inline(element: Mapping[str, Any], *, in_code: bool) -> str:
    kind = element.get("type")
    text = _str(element.get("text"))
    if kind == "text":
        return text if in_code else _escape(text)
    if kind == "link":
        url = _str(element.get("url"))
        if in_code:
            return text or url
        label = _escape(text).replace("|", " ")
        return f"<{url}|{label}>" if label else f"<{url}>"
    if kind == "date":
        return _escape(_str(element.get("fallback")))
    return " "  # user, usergroup, channel, broadcast, team, emoji, color: never a task


def _is_code(element: Mapping[str, Any]) -> bool:
    style = element.get("style")
    return isinstance(style, Mapping) and style.get("code") is True


def _code_span(text: str) -> str:
    return "`" + text.replace("`", " ") + "`"


def _escape(text: str) -> str:
    """As Slack escapes `text`: rich_text elements carry the raw characters."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []


def _dict(value: Any) -> Mapping[str, Any]:
    return value if isinstance(value, Mapping) else {}


def _str(value: Any) -> str:
    return value if isinstance(value, str) else ""
