"""Every shape of a Slack message, read into the exact mrkdwn texts the parser is given.

Whole lists are compared, in reading order: a missing text, a text too many, a wrong escape
or a code span cut in two would each change what `bot.reading.parse` finds.
"""

from __future__ import annotations

from typing import Any

import pytest

from bot.reading.payload_text import message_texts


def rich(*elements: dict[str, Any]) -> dict[str, Any]:
    return {"type": "rich_text", "elements": list(elements)}


def section(*elements: dict[str, Any]) -> dict[str, Any]:
    return {"type": "rich_text_section", "elements": list(elements)}


def text(value: str, **style: Any) -> dict[str, Any]:
    return {"type": "text", "text": value, **({"style": style} if style else {})}


def code(value: str) -> dict[str, Any]:
    return text(value, code=True)


def link(url: str, label: str | None = None, **style: Any) -> dict[str, Any]:
    element: dict[str, Any] = {"type": "link", "url": url}
    if label is not None:
        element["text"] = label
    if style:
        element["style"] = style
    return element


def read(*elements: dict[str, Any]) -> list[str]:
    """The texts of a message holding one rich_text block made of `elements`."""
    return message_texts({"blocks": [rich(*elements)]})


# -- the message: text, blocks, attachments, in that order --------------------------------


def test_text_then_blocks_then_attachments() -> None:
    message = {
        "text": "top",
        "attachments": [{"text": "att"}],
        "blocks": [{"type": "section", "text": {"type": "mrkdwn", "text": "sec"}}],
    }
    assert message_texts(message) == ["top", "sec", "att"]


@pytest.mark.parametrize(
    "message",
    [
        {},
        {"text": ""},
        {"text": "  \n\t"},
        {"text": None, "blocks": None, "attachments": None},
        {"text": 7, "blocks": "not a list", "attachments": {"text": "a dict, not a list"}},
        {"blocks": ["a block that is text", 3, None], "attachments": ["x", 2]},
    ],
)
def test_nothing_to_read(message: dict[str, Any]) -> None:
    assert message_texts(message) == []


def test_a_message_that_is_not_a_mapping_reads_as_nothing() -> None:
    assert message_texts("tsk-1") == []  # type: ignore[arg-type]
    assert message_texts(["tsk-1"]) == []  # type: ignore[arg-type]


def test_blank_texts_are_dropped_but_others_kept_as_they_are() -> None:
    assert message_texts({"text": " a-1 ", "attachments": [{"text": " "}]}) == [" a-1 "]


# -- blocks --------------------------------------------------------------------------------


@pytest.mark.parametrize("kind", ["section", "header", "context", "card_of_2030"])
def test_blocks_with_text_objects_are_read(kind: str) -> None:
    block = {
        "type": kind,
        "text": {"type": "mrkdwn", "text": "t-1"},
        "fields": [{"type": "plain_text", "text": "f-1"}, {"type": "mrkdwn", "text": "f-2"}],
        "elements": [{"type": "mrkdwn", "text": "e-1"}, {"type": "image", "alt_text": "no"}],
    }
    assert message_texts({"blocks": [block]}) == ["t-1", "f-1", "f-2", "e-1"]


@pytest.mark.parametrize("kind", ["image", "actions", "divider", "file", "video", "input"])
def test_blocks_of_labels_are_not_read(kind: str) -> None:
    block = {
        "type": kind,
        "text": {"type": "mrkdwn", "text": "label-1"},
        "title": {"type": "plain_text", "text": "label-2"},
        "elements": [{"type": "button", "text": {"type": "plain_text", "text": "label-3"}}],
    }
    assert message_texts({"blocks": [block]}) == []


@pytest.mark.parametrize("kind", [{"a": 1}, ["section"], None, 3])
def test_a_block_whose_type_is_not_text_is_searched_for_text_objects(kind: Any) -> None:
    block = {"type": kind, "text": {"type": "mrkdwn", "text": "t-1"}, "elements": "x"}
    assert message_texts({"blocks": [block]}) == ["t-1"]


def test_markdown_block_and_nested_text_objects() -> None:
    blocks = [
        {"type": "markdown", "text": "**md-1**"},
        {
            "type": "context",
            "elements": [
                [{"type": "mrkdwn", "text": "in-a-list"}],
                {"type": "wrapper", "text": {"type": "plain_text", "text": "deep"}},
                {"type": "mrkdwn", "text": 5},
            ],
        },
    ]
    assert message_texts({"blocks": blocks}) == ["**md-1**", "in-a-list", "deep"]


def test_a_text_object_is_read_whole_not_searched_further() -> None:
    block = {
        "type": "section",
        "text": {"type": "mrkdwn", "text": "outer", "elements": [{"type": "mrkdwn", "text": "x"}]},
    }
    assert message_texts({"blocks": [block]}) == ["outer"]


# -- rich_text -----------------------------------------------------------------------------


def test_plain_text_is_escaped_as_slack_escapes_text() -> None:
    assert read(section(text("a & b <c> d"))) == ["a &amp; b &lt;c&gt; d"]
    assert read(section(text("&lt;"))) == ["&amp;lt;"]


def test_elements_of_a_section_join_without_separators() -> None:
    assert read(section(text("a"), text("b"), text("c"))) == ["abc"]


def test_containers_are_lines() -> None:
    quote = {"type": "rich_text_quote", "elements": [text("q-1")]}
    assert read(section(text("s-1")), quote, section(text("s-2"))) == ["s-1\nq-1\ns-2"]


def test_a_list_is_one_item_a_line() -> None:
    items = {
        "type": "rich_text_list",
        "style": "bullet",
        "elements": [section(text("i-1")), section(code("i-2")), section(text("i-3"))],
    }
    assert read(items) == ["i-1\n`i-2`\ni-3"]


def test_preformatted_is_a_code_block_of_raw_text() -> None:
    pre = {
        "type": "rich_text_preformatted",
        "elements": [text("a<1>&"), text("\n"), link("https://x.io/t/1", "page"), code("c")],
    }
    assert read(pre) == ["```a<1>&\npagec```"]


def test_preformatted_link_without_label_is_its_url() -> None:
    pre = {"type": "rich_text_preformatted", "elements": [link("https://x.io/t/1")]}
    assert read(pre) == ["```https://x.io/t/1```"]


def test_adjacent_code_runs_are_one_span() -> None:
    assert read(section(code("tsk-"), text("b", code=True, bold=True), code("7"))) == ["`tsk-b7`"]


def test_code_spans_around_plain_text() -> None:
    assert read(section(text("see "), code("a-1"), text(" and "), code("a-2"), text("."))) == [
        "see `a-1` and `a-2`."
    ]
    assert read(section(code("a-1"))) == ["`a-1`"]


def test_code_keeps_raw_characters_but_loses_backticks() -> None:
    assert read(section(code("a<b>&c`d"))) == ["`a<b>&c d`"]


@pytest.mark.parametrize("style", [{"code": "true"}, {"code": 1}, "code", {"bold": True}])
def test_only_code_true_is_code(style: Any) -> None:
    element = {"type": "text", "text": "a<1", "style": style}
    assert read(section(element)) == ["a&lt;1"]


def test_links() -> None:
    assert read(section(link("https://x.io/t?a=1&b=2"))) == ["<https://x.io/t?a=1&b=2>"]
    assert read(section(link("https://x.io/t", "a|b <c>"))) == ["<https://x.io/t|a b &lt;c&gt;>"]
    assert read(section(link("https://x.io/t", ""))) == ["<https://x.io/t>"]
    assert read(section(link("https://x.io/t", "|"))) == ["<https://x.io/t| >"]


def test_a_code_styled_link_is_part_of_the_code_span() -> None:
    assert read(section(code("a-"), link("https://x.io", "1", code=True))) == ["`a-1`"]
    assert read(section(link("https://x.io/t/9", code=True))) == ["`https://x.io/t/9`"]


def test_a_link_without_url_reads_empty() -> None:
    assert read(section(text("x"), {"type": "link", "text": "t"})) == ["x<|t>"]


def test_date_is_its_fallback_escaped() -> None:
    date = {"type": "date", "timestamp": 1700000000, "format": "{date}", "fallback": "a<b"}
    assert read(section(text("x"), date)) == ["xa&lt;b"]
    assert read(section(text("x"), {"type": "date"})) == ["x"]


@pytest.mark.parametrize(
    "element",
    [
        {"type": "user", "user_id": "U1"},
        {"type": "usergroup", "usergroup_id": "S1"},
        {"type": "channel", "channel_id": "C1"},
        {"type": "broadcast", "range": "here"},
        {"type": "emoji", "name": "tada"},
        {"type": "color", "value": "#fff"},
        {"type": "team", "team_id": "T1"},
        {"type": "a-new-kind", "text": "zz-9"},
    ],
)
def test_references_and_emoji_are_a_space(element: dict[str, Any]) -> None:
    assert read(section(text("a"), element, text("b"))) == ["a b"]


def test_a_reference_ends_a_code_span() -> None:
    assert read(section(code("a-1"), {"type": "user", "user_id": "U1"}, code("a-2"))) == [
        "`a-1` `a-2`"
    ]


def test_a_section_of_a_new_kind_is_read_like_a_section() -> None:
    assert read({"type": "rich_text_callout", "elements": [text("n<1")]}) == ["n&lt;1"]


def test_malformed_rich_elements_read_as_nothing_or_a_space() -> None:
    inline: list[Any] = [text("a"), 3, None, {"type": "text", "text": 9}]
    block = {"type": "rich_text", "elements": ["x", section(*inline), {"elements": 2}]}
    assert message_texts({"blocks": [block]}) == ["\na  \n"]


# -- attachments ---------------------------------------------------------------------------


def test_attachment_texts_in_order_with_links() -> None:
    attachment = {
        "fallback": "6",
        "footer": "5",
        "text": "4",
        "title_link": "https://x.io/t/1",
        "title": "3",
        "author_name": "2",
        "pretext": "1",
        "from_url": "https://from.io",
        "original_url": "https://orig.io",
        "fields": [{"title": "TaskUid", "value": "a-1"}],
        "blocks": [{"type": "section", "text": {"type": "mrkdwn", "text": "7"}}],
    }
    assert message_texts({"attachments": [attachment]}) == [
        "1",
        "2",
        "3",
        "<https://x.io/t/1>",
        "4",
        "5",
        "6",
        "<https://from.io>",
        "<https://orig.io>",
        "TaskUid: a-1",
        "7",
    ]


def test_a_title_link_without_a_title_is_read() -> None:
    assert message_texts({"attachments": [{"title_link": "https://x.io/t/2"}]}) == [
        "<https://x.io/t/2>"
    ]


@pytest.mark.parametrize("empty", [None, "", 0])
def test_links_only_when_given(empty: Any) -> None:
    attachment = {"title": "t", "title_link": empty, "from_url": empty, "original_url": empty}
    assert message_texts({"attachments": [attachment]}) == ["t"]


def test_link_fields_that_are_not_text_read_empty() -> None:
    attachment = {"title_link": 5, "from_url": ["u"], "original_url": True}
    assert message_texts({"attachments": [attachment]}) == ["<>", "<>", "<>"]


@pytest.mark.parametrize(
    ("title", "expected"),
    [
        ("TaskUid", "TaskUid: a-1"),
        ("*TaskUid:*", "TaskUid: a-1"),
        ("_ TaskUid _:", "TaskUid: a-1"),
        ("~*TaskUid*~ :", "TaskUid: a-1"),
        ("*TaskUid*:: ", "TaskUid: a-1"),
        ("*Task: Uid*", "Task: Uid: a-1"),
        ("*JOB INDEX:*", "JOB INDEX: a-1"),  # `:` is stripped from the end, nothing else
        ("\tTaskUid\t", "\tTaskUid\t: a-1"),
        (":", "a-1"),
        ("**", "a-1"),
        ("", "a-1"),
        (None, "a-1"),
    ],
)
def test_field_title_is_a_label_without_its_formatting(title: Any, expected: str) -> None:
    attachment = {"fields": [{"title": title, "value": "a-1"}]}
    assert message_texts({"attachments": [attachment]}) == [expected]


def test_fields_without_value_and_malformed_fields() -> None:
    fields = [{"title": "Status"}, "x", {"title": "UID", "value": 3}, {"value": "v-1"}]
    assert message_texts({"attachments": [{"fields": fields}]}) == ["Status: ", "UID: ", "v-1"]


def test_a_shared_message_is_read_whole() -> None:
    shared = {
        "message": {
            "text": "shared-1",
            "blocks": [rich(section(code("s-2")))],
            "attachments": [{"text": "s-3"}],
        }
    }
    attachment = {"text": "outer", "message_blocks": [shared, {"message": "x"}, "y"]}
    assert message_texts({"attachments": [attachment]}) == ["outer", "shared-1", "`s-2`", "s-3"]


def test_attachment_blocks_follow_its_fields() -> None:
    attachment = {
        "fields": [{"title": "a", "value": "1"}],
        "blocks": [rich(section(text("b<"))), {"type": "divider"}],
    }
    assert message_texts({"attachments": [attachment]}) == ["a: 1", "b&lt;"]
