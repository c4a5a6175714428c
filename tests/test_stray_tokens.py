"""Tokens of a command that are not UIDs: what the parser keeps of them, and the line an answer
carries to name them (exactly), while the valid UIDs beside them are answered."""

from __future__ import annotations

import json

import pytest

from bot.reading.parse import Command, parse_command, parse_mention
from bot.render.answer import SECTION_TEXT, Controls, LiveNote, answer_message, lookup_message
from bot.render.notes import skipped_line
from bot.taskapi.models import Found, NotFound, TaskDetail

UUID = "b7e2d9f0-3c4a-4e5b-8f6a-7b8c9d0e1f2a"


def mention(text: str) -> Command:
    body = f"<@UBOT> {text}"
    return parse_mention(body, {"type": "app_mention", "text": body})


def test_a_stray_token_is_kept_apart_from_the_uids() -> None:
    assert parse_command(f"{UUID} h4wu2zq9 _,job_efeuu") == Command(
        "lookup", [UUID, "h4wu2zq9", "job_efeuu"], ["_"]
    )


@pytest.mark.parametrize(
    "link",
    [
        "<https://google.com>",
        "<https://google.com|google.com>",
        "<HTTP://example.org/a?b=1>",
        "https://google.com",
        "(<https://google.com>)",
    ],
)
def test_a_mention_ignores_links_that_are_no_task_page(link: str) -> None:
    assert mention(f"{UUID} {link}") == Command("lookup", [UUID])
    assert mention(f"watch {link} ok-1") == Command("watch", ["ok-1"])


def test_a_mention_still_reads_a_task_page_link_and_names_other_debris() -> None:
    page = "<https://tasks.example.com/tasks/tsk-42>"
    assert mention(f"{page} <https://google.com> _ ok-1") == Command(
        "lookup", ["tsk-42", "ok-1"], ["_"]
    )
    # Not a link: only `http(s)://` is, so these are named back.
    assert mention("ok-1 <ftp://x> <mailto:a@b>") == Command(
        "lookup", ["ok-1"], ["<ftp://x>", "<mailto:a@b>"]
    )


def test_a_half_bracketed_link_is_typed_text_and_named_back() -> None:
    # Slack marks links up as `<url>`; a lone `<` was typed (sent as `&lt;`).
    assert mention("ok-1 &lt;https://google.com") == Command(
        "lookup", ["ok-1"], ["<https://google.com"]
    )


def test_a_mention_of_only_links_is_a_lookup_of_nothing() -> None:
    assert mention("<https://google.com>") == Command("lookup", [])


def test_skipped_line_names_each_token_escaped() -> None:
    assert skipped_line([]) == ""
    assert skipped_line(["_"]) == ":warning: Not task UIDs, so not looked up: `_`."
    assert skipped_line(["<https://x>", "a&b", "`x`"]) == (
        ":warning: Not task UIDs, so not looked up: `&lt;https://x&gt;`, `a&amp;b`, `ˋxˋ`."
    )


def test_skipped_line_is_bounded_however_many_tokens() -> None:
    tokens = [f"{n}/" + "x" * 200 for n in range(5000)]
    line = skipped_line(tokens)
    shown = ", ".join(f"`{n}/{'x' * 37}…`" for n in range(10))
    assert line == f":warning: Not task UIDs, so not looked up: {shown} and 4990 more."
    worst = skipped_line(["<" * 100] * 11)  # each clipped to 40, then escaped: 160 characters
    assert worst.endswith(" and 1 more.")
    assert len(worst) < SECTION_TEXT


def test_eleven_tokens_show_ten_and_one_more() -> None:
    tokens = [f"t{n}/" for n in range(11)]
    assert skipped_line(tokens[:10]).endswith("`t9/`.")
    assert skipped_line(tokens).endswith("`t9/` and 1 more.")


def sections(blocks: list[dict[str, object]]) -> list[str]:
    return [b["text"]["text"] for b in blocks if b["type"] == "section"]  # type: ignore[index]


def found(uid: str, status: str = "Finished") -> Found:
    data = {"TaskUid": uid, "TaskType": "TaskGeneratePicture", "TaskStatus": status}
    return Found(uid, TaskDetail.model_validate(data))


def test_the_answer_carries_the_skipped_line_after_what_was_not_found() -> None:
    line = skipped_line(["_"])
    message = lookup_message([found("ok-1"), NotFound("nope-2")], "v", 0.0, skipped=line)
    blocks = message.as_payload()["blocks"]
    texts = sections(blocks)
    assert texts[-1] == line
    assert texts[-2].startswith(":mag: *Not found:* `nope-2`")
    assert [b["type"] for b in blocks[-3:]] == ["section", "context", "actions"]
    assert message.text == "2 tasks: 1 Finished, 1 not found"  # the notification stays short
    assert json.dumps(blocks).count("Not task UIDs") == 1


def test_no_skipped_line_without_debris() -> None:
    plain = lookup_message([found("ok-1")], "v", 0.0)
    assert plain == lookup_message([found("ok-1")], "v", 0.0, skipped="")
    assert "Not task UIDs" not in json.dumps(plain.as_payload())


def test_a_live_answer_keeps_the_line() -> None:
    line = skipped_line(["x/y"])
    message = answer_message(
        [found("ok-1", "Running")],
        controls=Controls("v", "live", "w1"),
        checked_at=0.0,
        live=LiveNote("watching", "5"),
        skipped=line,
    )
    assert sections(message.as_payload()["blocks"])[-1] == line
