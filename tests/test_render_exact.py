"""What each part of an answer says, exactly: the summary, each task's own line, the emoji per
status, the footer and buttons, the limits. Comparing whole strings, not looking for a word
that may just as well come from the headline."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from typing import Any

import pytest

from bot.render.answer import (
    MAX_BLOCKS,
    MAX_BLOCKS_CHARS,
    NO_PREVIEWS_AT_ALL,
    Controls,
    LiveNote,
    Message,
    answer_message,
    completion_message,
    lookup_message,
)
from bot.render.status import counts, emoji_for, status_of, summary
from bot.taskapi.errors import ApiRejected, ApiUnavailable, ApiUnreadable, TaskApiError
from bot.taskapi.models import Failed, Found, NotFound, TaskDetail, TaskResult

HEADLINE_EMOJI = {
    "Queuing": ":hourglass_flowing_sand:",
    "Running": ":arrows_counterclockwise:",
    "Finished": ":white_check_mark:",
    "Error": ":x:",
}


def task(uid: str = "ok-1", status: str = "Finished", **fields: Any) -> Found:
    data = {"TaskUid": uid, "TaskType": "TaskGeneratePicture", "TaskStatus": status, **fields}
    return Found(uid, TaskDetail.model_validate(data))


def failed(uid: str, error: TaskApiError | None = None) -> Failed:
    return Failed(uid, error or ApiUnavailable("timed out", "req-1"))


def sections(message: Message) -> list[str]:
    """The mrkdwn text of each section, in order."""
    return [b["text"]["text"] for b in message.as_payload()["blocks"] if b["type"] == "section"]


def mrkdwn_objects(payload: Any) -> Iterator[dict[str, Any]]:
    if isinstance(payload, dict):
        if payload.get("type") == "mrkdwn":
            yield payload
        for value in payload.values():
            yield from mrkdwn_objects(value)
    elif isinstance(payload, list):
        for item in payload:
            yield from mrkdwn_objects(item)


def every_message(message: Message) -> list[Message]:
    return [message, *message.continuations]


# --- statuses, emoji and the summary line -------------------------------------------------


@pytest.mark.parametrize(("status", "emoji"), HEADLINE_EMOJI.items())
def test_each_known_status_has_its_own_emoji_everywhere(status: str, emoji: str) -> None:
    assert emoji_for(status) == emoji
    message = answer_message([task(status=status)])
    assert sections(message)[0] == f"*1 task*  {emoji} 1 {status}"
    assert sections(message)[1].startswith(f"{emoji} *{status}*  `ok-1`")


@pytest.mark.parametrize(
    ("status", "emoji"),
    [
        ("not found", ":mag:"),
        ("lookup failed", ":warning:"),
        ("Paused", ":grey_question:"),
        ("queuing", ":grey_question:"),  # the vendor's exact words only
        ("unknown", ":grey_question:"),
        ("", ":grey_question:"),
    ],
)
def test_other_emoji(status: str, emoji: str) -> None:
    assert emoji_for(status) == emoji


def test_status_of_each_kind_of_result() -> None:
    assert status_of(task(status="Running")) == "Running"
    assert status_of(task(status="")) == "unknown"
    assert status_of(NotFound("a")) == "not found"
    assert status_of(failed("a")) == "lookup failed"


def test_counts_put_known_statuses_first_then_new_words_then_the_missing() -> None:
    results: list[TaskResult] = [
        failed("f"),
        task(status="Queuing"),
        task(status="Zeta"),
        NotFound("n"),
        task(status="Running"),
        task(status="Error"),
        task(status="Alpha"),
        task(status="Finished"),
        task(status="Finished"),
        NotFound("m"),
    ]
    assert counts(results) == [
        ("Finished", 2),
        ("Error", 1),
        ("Running", 1),
        ("Queuing", 1),
        ("Alpha", 1),
        ("Zeta", 1),
        ("not found", 2),
        ("lookup failed", 1),
    ]
    assert summary(results) == (
        "10 tasks: 2 Finished, 1 Error, 1 Running, 1 Queuing, 1 Alpha, 1 Zeta, 2 not found, "
        "1 lookup failed"
    )
    assert sections(answer_message(results))[0] == (
        "*10 tasks*  :white_check_mark: 2 Finished · :x: 1 Error · :arrows_counterclockwise: 1 "
        "Running · :hourglass_flowing_sand: 1 Queuing · :grey_question: 1 Alpha · "
        ":grey_question: 1 Zeta · :mag: 2 not found · :warning: 1 lookup failed"
    )


def test_summary_counts_one_and_none() -> None:
    assert summary([task()]) == "1 task: 1 Finished"
    assert summary([NotFound("a")]) == "1 task: 1 not found"
    assert summary([]) == "No tasks"
    assert answer_message([failed("a")]).text == "1 task: 1 lookup failed"


def test_a_new_status_word_is_shown_on_one_line_clipped_and_escaped() -> None:
    word = "Paused <now>\n" + "w" * 60
    expected = "Paused &lt;now&gt; " + "w" * 26 + "…"  # 40 characters before escaping
    assert summary([task(status=word)]) == f"1 task: 1 {expected}"
    assert sections(answer_message([task(status=word)]))[0] == (
        f"*1 task*  :grey_question: 1 {expected}"
    )


# --- each task's own line -----------------------------------------------------------------


def task_lines(results: list[TaskResult]) -> list[str]:
    """Each task's section in a several-task answer: the headline and tail left out."""
    return sections(answer_message(results))[1 : 1 + sum(isinstance(r, Found) for r in results)]


def test_each_task_has_its_own_line_with_its_status_and_uid() -> None:
    results: list[TaskResult] = [
        task("q-1", "Queuing"),
        task("r-2", "Running"),
        task("f-3", "Finished"),
        task("e-4", "Error", TaskErrorCode=1001, TaskErrorMsg="refused"),
        task("p-5", "Paused", TaskType=""),
    ]
    assert task_lines(results) == [
        ":hourglass_flowing_sand: *Queuing*  `q-1`  ·  TaskGeneratePicture",
        ":arrows_counterclockwise: *Running*  `r-2`  ·  TaskGeneratePicture",
        ":white_check_mark: *Finished*  `f-3`  ·  TaskGeneratePicture",
        ":x: *Error*  `e-4`  ·  TaskGeneratePicture\n>*Error 1001:* refused",
        ":grey_question: *Paused*  `p-5`",
    ]


@pytest.mark.parametrize(
    ("fields", "error_line"),
    [
        ({"TaskStatus": "Error"}, ">*Error 0:* no message"),
        ({"TaskStatus": "Error", "TaskErrorCode": "E_QUOTA"}, ">*Error E_QUOTA:* no message"),
        ({"TaskStatus": "Error", "TaskErrorMsg": "bad"}, ">*Error 0:* bad"),
        ({"TaskStatus": "Running", "TaskErrorCode": 7}, ">*Error 7:* no message"),
        ({"TaskStatus": "Running", "TaskErrorMsg": "slow"}, ">*Error 0:* slow"),
        ({"TaskStatus": "Error", "TaskErrorMsg": "a <b>\n\tc"}, ">*Error 0:* a &lt;b&gt; c"),
        ({"TaskStatus": "Error", "TaskErrorCode": "<!here>"}, ">*Error &lt;!here&gt;:* no message"),
    ],
)
def test_an_error_is_always_shown_with_its_code_and_message(
    fields: dict[str, Any], error_line: str
) -> None:
    status = fields["TaskStatus"]
    [line] = task_lines([task("e-1", **fields), task("e-2", "Queuing")])[:1]
    assert line == f"{emoji_for(status)} *{status}*  `e-1`  ·  TaskGeneratePicture\n{error_line}"
    [single] = sections(answer_message([task("e-1", **fields)]))[1:]
    assert single == line


def test_a_task_without_error_has_no_error_line() -> None:
    for status in ("Finished", "Running", "Queuing", ""):
        [line] = task_lines([task("a-1", status), task("b-2")])[:1]
        assert "\n" not in line


def test_error_messages_are_clipped_to_1500_alone_and_300_among_several() -> None:
    text = "e" * 2000
    [single] = sections(answer_message([task(status="Error", TaskErrorMsg=text)]))[1:]
    assert single.endswith(f">*Error 0:* {'e' * 1499}…")
    [first, _] = task_lines([task(status="Error", TaskErrorMsg=text), task("b-2")])
    assert first.endswith(f">*Error 0:* {'e' * 299}…")
    exact = "e" * 300
    [first, _] = task_lines([task(status="Error", TaskErrorMsg=exact), task("b-2")])
    assert first.endswith(f">*Error 0:* {exact}")


def test_status_type_and_code_are_clipped() -> None:
    result = task(status="S" * 70, TaskType="T" * 90, TaskErrorCode="C" * 50)
    [line, _] = task_lines([result, task("b-2")])
    assert line == (
        f":grey_question: *{'S' * 59}…*  `ok-1`  ·  {'T' * 79}…\n>*Error {'C' * 39}…:* no message"
    )
    exact = task(status="S" * 60, TaskType="T" * 80, TaskErrorCode="C" * 40)
    [line, _] = task_lines([exact, task("b-2")])
    assert (
        line
        == f":grey_question: *{'S' * 60}*  `ok-1`  ·  {'T' * 80}\n>*Error {'C' * 40}:* no message"
    )


def test_task_text_is_one_line_and_escaped() -> None:
    result = task("a-1", "Run\nning", TaskType="<b>\tType & co")
    [line, _] = task_lines([result, task("b-2")])
    assert line == ":grey_question: *Run ning*  `a-1`  ·  &lt;b&gt; Type &amp; co"


# --- the whole answer ---------------------------------------------------------------------


def test_a_mixed_answer_exactly() -> None:
    results: list[TaskResult] = [
        task(FinalPictureUrls=["https://x/1.png"]),
        task("err-2", "Error", TaskErrorCode=1001, TaskErrorMsg="refused"),
        NotFound("nope-3"),
        failed("f-4"),
    ]
    message = answer_message(
        results, controls=Controls("v"), checked_at=1.8e9, live=LiveNote("watching", "15")
    )
    assert message.continuations == ()
    assert message.as_payload() == {
        "text": "4 tasks: 1 Finished, 1 Error, 1 not found, 1 lookup failed",
        "blocks": [
            section(
                "*4 tasks*  :white_check_mark: 1 Finished · :x: 1 Error · :mag: 1 not found · "
                ":warning: 1 lookup failed"
            ),
            {"type": "divider"},
            {
                **section(
                    ":white_check_mark: *Finished*  `ok-1`  ·  TaskGeneratePicture\n"
                    "Pictures: <https://x/1.png|1>"
                ),
                "accessory": {
                    "alt_text": "Picture 1 of task ok-1",
                    "image_url": "https://x/1.png",
                    "type": "image",
                },
            },
            section(":x: *Error*  `err-2`  ·  TaskGeneratePicture\n>*Error 1001:* refused"),
            section(
                ":mag: *Not found:* `nope-3`\nThis UID is unknown to the task API: check for "
                "typos, or the task may be too old."
            ),
            section(
                ":warning: *The task API is not answering* (timed out) for `f-4`. Try again in a "
                "moment with *Refresh*. Support reference: `req-1`"
            ),
            {
                "type": "context",
                "elements": [
                    mrkdwn(
                        "Checked <!date^1800000000^{date_short_pretty} at {time_secs}|"
                        "2027-01-15 08:00:00 UTC>"
                    ),
                    mrkdwn(":eyes: Live: checked every 15 s until every task is done."),
                ],
            },
            {
                "type": "actions",
                "elements": [button("Refresh", "task_refresh", "v"), WATCH_BUTTON],
            },
        ],
    }


def mrkdwn(text: str) -> dict[str, Any]:
    return {"type": "mrkdwn", "text": text, "verbatim": True}


def section(text: str) -> dict[str, Any]:
    return {"type": "section", "text": mrkdwn(text)}


def button(label: str, action_id: str, value: str, **extra: str) -> dict[str, Any]:
    text = {"type": "plain_text", "text": label, "emoji": False}
    return {"type": "button", "text": text, "action_id": action_id, "value": value, **extra}


WATCH_BUTTON = button("Watch", "task_watch", "v", style="primary")


def test_a_single_task_shows_three_pictures_and_links_the_rest() -> None:
    urls = [f"https://x/{n}.png" for n in range(1, 6)]
    blocks = answer_message([task(FinalPictureUrls=urls)]).as_payload()["blocks"]
    assert blocks[3:] == [
        image(urls[0], 1, 5),
        image(urls[1], 2, 5),
        image(urls[2], 3, 5),
        section("More pictures: <https://x/4.png|4> · <https://x/5.png|5>"),
    ]


def image(url: str, n: int, of: int, uid: str = "ok-1") -> dict[str, Any]:
    title = {"type": "plain_text", "text": f"Picture {n} of {of}", "emoji": False}
    return {
        "type": "image",
        "image_url": url,
        "alt_text": f"Picture {n} of task {uid}",
        "title": title,
    }


def test_pictures_slack_cannot_preview_are_links_and_numbers_stay_the_vendors() -> None:
    urls = ["https://x/a.pdf", "https://x/b.png", "https://x/c.html", "https://x/d.jpg"]
    blocks = answer_message([task(FinalPictureUrls=urls)]).as_payload()["blocks"]
    assert blocks[3:] == [
        image(urls[1], 2, 4),
        image(urls[3], 4, 4),
        section("More pictures: <https://x/a.pdf|1> · <https://x/c.html|3>"),
    ]


def test_no_preview_turns_a_broken_picture_into_a_link() -> None:
    urls = ["https://x/1.png", "https://x/2.png"]
    blocks = answer_message([task(FinalPictureUrls=urls)], no_preview=frozenset({urls[0]}))
    assert blocks.as_payload()["blocks"][3:] == [
        image(urls[1], 2, 2),
        section("More pictures: <https://x/1.png|1>"),
    ]
    every = answer_message(
        [task(FinalPictureUrls=urls)], no_preview=frozenset({NO_PREVIEWS_AT_ALL})
    )
    assert every.as_payload()["blocks"][3:] == [
        section("Pictures: <https://x/1.png|1> · <https://x/2.png|2>")
    ]


def test_several_tasks_show_a_thumbnail_each_from_their_first_previewable_picture() -> None:
    results: list[TaskResult] = [
        task("a-1", FinalPictureUrls=["https://x/a.webp", "https://x/a.png"]),
        task("b-2", FinalPictureUrls=["https://x/b.pdf"]),
        task("c-3", FinalPictureUrls=["https://x/c.png"]),
    ]
    blocks = answer_message(results, no_preview=frozenset({"https://x/c.png"})).as_payload()
    [a, b, c] = blocks["blocks"][2:5]
    assert a["accessory"] == {
        "type": "image",
        "image_url": "https://x/a.png",
        "alt_text": "Picture 1 of task a-1",
    }
    assert a["text"]["text"].endswith("\nPictures: <https://x/a.webp|1> · <https://x/a.png|2>")
    assert "accessory" not in b
    assert b["text"]["text"].endswith("\nPictures: <https://x/b.pdf|1>")
    assert "accessory" not in c


@pytest.mark.parametrize(
    ("controls", "buttons"),
    [
        (Controls("v"), [button("Refresh", "task_refresh", "v"), WATCH_BUTTON]),
        (
            Controls("v", "live", "w-1"),
            [
                button("Refresh", "task_refresh", "v"),
                button("Stop watching", "task_unwatch", "w-1"),
            ],
        ),
        (Controls("v", "none"), [button("Refresh", "task_refresh", "v")]),
    ],
)
def test_buttons(controls: Controls, buttons: list[dict[str, Any]]) -> None:
    last = answer_message([task()], controls=controls).as_payload()["blocks"][-1]
    assert last == {"type": "actions", "elements": buttons}


def test_a_lookup_offers_watch_only_while_something_can_change() -> None:
    def buttons(results: list[TaskResult]) -> list[str]:
        last = lookup_message(results, "v", 0.0).as_payload()["blocks"][-1]
        return [b["action_id"] for b in last["elements"]]

    assert buttons([task(), task("e-2", "Error"), NotFound("n")]) == ["task_refresh"]
    assert buttons([task(), task("r-2", "Running")]) == ["task_refresh", "task_watch"]
    assert buttons([task(), failed("f-2")]) == ["task_refresh", "task_watch"]
    urls = frozenset({"https://x/1.png"})
    single = lookup_message([task(FinalPictureUrls=[*urls])], "v", 0.0, no_preview=urls)
    assert single.as_payload()["blocks"][3] == section("Pictures: <https://x/1.png|1>")


@pytest.mark.parametrize(
    ("note", "text"),
    [
        (LiveNote("watching", "15"), ":eyes: Live: checked every 15 s until every task is done."),
        (
            LiveNote("retrying", "timed <out>\n"),
            ":warning: The task API is not answering (timed &lt;out&gt;); still trying.",
        ),
        (
            LiveNote("done", "ignored"),
            ":checkered_flag: Every task is done; this message no longer updates.",
        ),
        (
            LiveNote("expired", "24 h"),
            ":stopwatch: Stopped updating after 24 h. Press *Watch* to go on.",
        ),
        (LiveNote("stopped", user="U2"), ":no_entry_sign: Stopped updating by <@U2>."),
        (LiveNote("stopped", user="U2|x"), ":no_entry_sign: Stopped updating."),
        (LiveNote("stopped"), ":no_entry_sign: Stopped updating."),
    ],
)
def test_live_footer(note: LiveNote, text: str) -> None:
    last = answer_message([task()], live=note).as_payload()["blocks"][-1]
    assert last == {"type": "context", "elements": [mrkdwn(text)]}


def test_the_live_detail_is_clipped() -> None:
    last = answer_message([task()], live=LiveNote("retrying", "d" * 400)).as_payload()
    assert last["blocks"][-1]["elements"][0]["text"] == (
        f":warning: The task API is not answering ({'d' * 299}…); still trying."
    )


def test_checked_at_is_a_slack_date_with_a_utc_fallback() -> None:
    last = answer_message([task()], checked_at=1_700_000_000.9).as_payload()["blocks"][-1]
    assert last == {
        "type": "context",
        "elements": [
            mrkdwn(
                "Checked <!date^1700000000^{date_short_pretty} at {time_secs}|"
                "2023-11-14 22:13:20 UTC>"
            )
        ],
    }


def test_only_missing_uids_have_no_divider_and_no_task_lines() -> None:
    message = answer_message([NotFound("a-1"), NotFound("b-2")])
    assert message.as_payload()["blocks"] == [
        section("*2 tasks*  :mag: 2 not found"),
        section(
            ":mag: *Not found:* `a-1`, `b-2`\nThese 2 UIDs are unknown to the task API: check "
            "for typos, or the task may be too old."
        ),
    ]


def test_not_found_names_forty_then_counts_the_rest() -> None:
    message = answer_message([NotFound(f"n-{i}") for i in range(41)])
    names = ", ".join(f"`n-{i}`" for i in range(40))
    assert sections(message)[1] == (
        f":mag: *Not found:* {names} and 1 more\nThese 41 UIDs are unknown to the task API: "
        "check for typos, or the task may be too old."
    )
    names = ", ".join(f"`n-{i}`" for i in range(40))
    exact = answer_message([NotFound(f"n-{i}") for i in range(40)])
    assert sections(exact)[1].startswith(f":mag: *Not found:* {names}\nThese 40 UIDs")


def test_failures_are_grouped_by_call_and_say_what_failed() -> None:
    rejected = ApiRejected("bad <key>", "r1", 5)
    results: list[TaskResult] = [
        *[failed(f"u{i}", rejected) for i in range(11)],
        failed("v", ApiUnreadable("junk", "")),
        failed("w", TaskApiError("odd", "r3")),
    ]
    names = ", ".join(f"`u{i}`" for i in range(10))
    assert sections(answer_message(results))[1].split("\n") == [
        f":warning: *The task API refused the request* (bad &lt;key&gt;) for {names} and 1 more."
        " Try again in a moment with *Refresh*. Support reference: `r1`",
        ":warning: *The task API sent an answer the bot cannot read* (junk) for `v`. Try again in"
        " a moment with *Refresh*. Support reference: `none`",
        ":warning: *The task API call failed* (odd) for `w`. Try again in a moment with "
        "*Refresh*. Support reference: `r3`",
    ]


def test_at_most_five_failed_calls_are_described() -> None:
    results: list[TaskResult] = [failed(f"u{i}", ApiUnavailable("d", f"r{i}")) for i in range(7)]
    lines = sections(answer_message(results))[1].split("\n")
    assert [line.rsplit(" ", 1)[1] for line in lines] == [f"`r{i}`" for i in range(5)]
    exact = [failed(f"u{i}", ApiUnavailable("d", "r")) for i in range(10)]
    names = ", ".join(f"`u{i}`" for i in range(10))
    assert f"for {names}. Try" in sections(answer_message(exact))[1]


# --- completion notice --------------------------------------------------------------------


def test_completion_notice_exactly() -> None:
    message = completion_message([task(), NotFound("n-2")], "U1")
    assert message.text == "All done: 2 tasks: 1 Finished, 1 not found"
    assert sections(message)[0] == (
        ":checkered_flag: <@U1> all done. *2 tasks*  :white_check_mark: 1 Finished · "
        ":mag: 1 not found"
    )
    assert message.as_payload()["blocks"][-1]["type"] == "section"  # no footer, no buttons


@pytest.mark.parametrize("user", ["", "U1>", "U1|x", "<!here>", "U 1"])
def test_completion_mentions_nobody_for_an_odd_user_id(user: str) -> None:
    headline = sections(completion_message([task()], user))[0]
    assert headline == ":checkered_flag: all done. *1 task*  :white_check_mark: 1 Finished"


def test_completion_keeps_continuations_and_honours_broken_pictures() -> None:
    urls = [f"https://cdn.example/{'p' * 400}/{n}.png" for n in range(40)]
    message = completion_message([task(FinalPictureUrls=urls)], "U1", frozenset({urls[0]}))
    answer = answer_message([task(FinalPictureUrls=urls)], no_preview=frozenset({urls[0]}))
    assert [m.as_payload() for m in message.continuations] == [
        m.as_payload() for m in answer.continuations
    ]
    assert message.continuations
    images = [b["image_url"] for b in message.as_payload()["blocks"] if b["type"] == "image"]
    assert images == urls[1:4]


# --- safety and limits --------------------------------------------------------------------


def big_answers() -> Iterator[Message]:
    urls = [f"https://cdn.example/{'p' * 400}/{n}.png" for n in range(30)]
    yield answer_message([task(FinalPictureUrls=urls)], controls=Controls("v"), checked_at=0.0)
    yield answer_message([task(f"t-{n}", FinalPictureUrls=urls[:8]) for n in range(12)])
    yield completion_message([task(FinalPictureUrls=urls), NotFound("n"), failed("f")], "U1")
    yield answer_message([NotFound("n"), failed("f")], live=LiveNote("stopped", user="U1"))


def test_verbatim_is_on_every_mrkdwn_object_of_every_message() -> None:
    seen = 0
    for message in big_answers():
        assert len(message.continuations) >= 0
        for part in every_message(message):
            for obj in mrkdwn_objects(part.as_payload()):
                assert obj["verbatim"] is True, obj
                seen += 1
    assert seen >= 20


def test_the_block_budget_is_exactly_fifty() -> None:
    def blocks(count: int) -> list[dict[str, Any]]:
        results = [task(f"t-{n}") for n in range(count)]
        message = answer_message(results, controls=Controls("v"), checked_at=0.0)
        return list(message.as_payload()["blocks"])

    # headline, divider, one section per task, footer, buttons
    assert len(blocks(45)) == 49
    assert blocks(45)[-3]["text"]["text"].startswith(":white_check_mark: *Finished*  `t-44`")
    full = blocks(46)
    assert len(full) == MAX_BLOCKS == 50
    assert full[-4]["text"]["text"].startswith(":white_check_mark: *Finished*  `t-44`")
    assert full[-3]["text"]["text"].startswith("…1 more task is counted above but not shown")
    many = blocks(200)
    assert len(many) == 50
    assert many[-3]["text"]["text"].startswith(
        "…155 more tasks are counted above but not shown here: `t-45`, `t-46`,"
    )
    assert many[-3]["text"]["text"].endswith(
        "`t-74` and 125 more. Ask about fewer at a time to see each one."
    )


def test_large_tasks_stop_at_the_character_budget() -> None:
    results = [task(f"t-{n}", status="Error", TaskErrorMsg="e" * 400) for n in range(40)]
    message = answer_message(results, controls=Controls("v"), checked_at=0.0)
    blocks = message.as_payload()["blocks"]
    size = sum(len(json.dumps(b, ensure_ascii=False)) for b in blocks)
    assert MAX_BLOCKS_CHARS - 1500 < size <= MAX_BLOCKS_CHARS
    shown = sum(1 for b in blocks if "`t-" in b.get("text", {}).get("text", "")[:40])
    assert 10 < shown < 40
    assert blocks[-3]["text"]["text"].startswith(f"…{40 - shown} more tasks are counted")


def test_leftover_links_of_every_task_follow_in_order() -> None:
    """Links that do not fit stay reachable: earlier tasks' leftovers are kept when a later
    task does not fit at all, and each picture is linked exactly once."""
    urls = {
        uid: [f"https://cdn.example/{uid}/{'p' * 900}/{n}.png" for n in range(6)]
        for uid in ("t-0", "t-1", "t-2")
    }
    results: list[TaskResult] = [task(uid, FinalPictureUrls=u) for uid, u in urls.items()]
    message = answer_message(results)
    assert [m.text for m in message.continuations] == ["More pictures (3 tasks: 3 Finished)"] * 2
    lines = [s for m in message.continuations for s in sections(m)]
    assert [line.split(":", 1)[0] for line in lines] == [
        "Pictures of `t-0`",
        "Pictures of `t-1`",
        "Pictures of `t-2`",
        "Pictures of `t-2`",
    ]
    everything = "".join(sections(message) + lines)
    for uid, links in urls.items():
        assert [everything.count(f"<{u}|{n}>") for n, u in enumerate(links, 1)] == [1] * 6, uid
    assert sections(message)[1].endswith(f"<{urls['t-0'][2]}|3> · +3 more below")
    assert lines[0].startswith(f"Pictures of `t-0`: <{urls['t-0'][3]}|4> · ")


def test_a_link_too_long_for_its_section_says_how_many_follow() -> None:
    urls = [f"https://cdn.example/{'p' * 1000}/{n}.png" for n in range(4)]
    [line, _] = task_lines([task("a-1", FinalPictureUrls=urls), task("b-2")])
    assert line.endswith(f"<{urls[0]}|1> · <{urls[1]}|2> · +2 more below")


def test_a_failure_detail_is_clipped_to_300() -> None:
    for detail, shown in (("d" * 300, "d" * 300), ("d" * 301, "d" * 299 + "…")):
        text = sections(answer_message([failed("a", ApiUnavailable(detail, "r"))]))[1]
        assert text.startswith(f":warning: *The task API is not answering* ({shown}) for `a`.")


def test_a_lookup_carries_its_value_and_its_time() -> None:
    blocks = lookup_message([task("r-1", "Running")], "val-1", 0.0).as_payload()["blocks"]
    assert blocks[-2]["elements"][0]["text"].startswith("Checked <!date^0^")
    assert [b["value"] for b in blocks[-1]["elements"]] == ["val-1", "val-1"]


def test_tasks_left_out_are_named_up_to_thirty() -> None:
    def more(count: int) -> str:
        results = [task(f"t-{n}") for n in range(count)]
        blocks = answer_message(results, controls=Controls("v"), checked_at=0.0).as_payload()
        return str(blocks["blocks"][-3]["text"]["text"])

    names = ", ".join(f"`t-{n}`" for n in range(45, 75))
    assert more(75) == (
        f"…30 more tasks are counted above but not shown here: {names}. Ask about fewer at a "
        "time to see each one."
    )
    assert more(76).endswith(f"{names} and 1 more. Ask about fewer at a time to see each one.")


@pytest.fixture
def utc_plus_3() -> Iterator[None]:
    """A machine whose local time is not UTC (a POSIX rule: no time zone files needed)."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("TZ", "XYZ-3")
        time.tzset()
        yield
    time.tzset()


@pytest.mark.usefixtures("utc_plus_3")
def test_the_fallback_time_is_utc_whatever_the_machines_zone() -> None:
    last = answer_message([task()], checked_at=0.0).as_payload()["blocks"][-1]
    assert last["elements"][0]["text"].endswith("|1970-01-01 00:00:00 UTC>")


def url_of(length: int, name: str) -> str:
    """A picture URL of exactly `length` characters that Slack would not preview."""
    start = f"https://x/{name}/"
    return start + "p" * (length - len(start) - 4) + ".pdf"


@pytest.mark.parametrize(("spare", "both"), [(0, True), (1, False)])
def test_links_fill_a_single_task_section_to_its_budget(spare: int, both: bool) -> None:
    # "Pictures: " + "<url|1>" + " · " + "<url|2>", with room kept for one more separator
    urls = [url_of(1238, "a"), url_of(2476 - 1238 + spare, "b")]
    message = answer_message([task(FinalPictureUrls=urls)])
    second = f"<{urls[1]}|2>" if both else "+1 more below"
    assert sections(message)[2] == f"Pictures: <{urls[0]}|1> · {second}"
    assert len(message.continuations) == (0 if both else 1)


@pytest.mark.parametrize(("spare", "both"), [(0, True), (1, False)])
def test_links_fill_a_task_line_to_fifty_short_of_a_section(spare: int, both: bool) -> None:
    line = task_lines([task("a-1"), task("b-2")])[0]
    total = 3000 - 50 - len(line) - len("\nPictures: ") - 2 * len(" · ") - 8 + spare
    urls = [url_of(total // 2, "a"), url_of(total - total // 2, "b")]
    [first, _] = task_lines([task("a-1", FinalPictureUrls=urls), task("b-2")])
    second = f"<{urls[1]}|2>" if both else "+1 more below"
    assert first == f"{line}\nPictures: <{urls[0]}|1> · {second}"


def test_one_leftover_link_follows_alone() -> None:
    urls = [url_of(900, str(n)) for n in range(3)]
    message = answer_message([task(FinalPictureUrls=urls)])
    assert sections(message)[2].endswith(" · +1 more below")
    [more] = message.continuations
    assert sections(more) == [f"Pictures of `ok-1`: <{urls[2]}|3>"]


def test_links_too_long_to_share_a_section_each_get_their_own() -> None:
    urls = [url_of(2000, str(n)) for n in range(4)]
    message = answer_message([task(FinalPictureUrls=urls)])
    assert sections(message)[2] == f"Pictures: <{urls[0]}|1> · +3 more below"
    [more] = message.continuations
    assert sections(more) == [
        f"Pictures of `ok-1`: <{urls[1]}|2> · +2 more below",
        f"Pictures of `ok-1`: <{urls[2]}|3> · +1 more below",
        f"Pictures of `ok-1`: <{urls[3]}|4>",
    ]


def test_alt_text_stays_within_slacks_2000() -> None:
    uid = "u" * 2000
    single = answer_message([task(uid, FinalPictureUrls=["https://x/1.png"])]).as_payload()
    alt = f"Picture 1 of task {uid}"[:1999] + "…"
    assert single["blocks"][3]["alt_text"] == alt
    several = answer_message([task(uid, FinalPictureUrls=["https://x/1.png"]), task("b-2")])
    assert several.as_payload()["blocks"][2]["accessory"]["alt_text"] == alt


def test_links_of_tasks_left_out_follow_in_messages_of_at_most_49_sections() -> None:
    results = [task(f"t-{n}", FinalPictureUrls=[f"https://x/{n}.png"]) for n in range(100)]
    message = answer_message(results)
    assert [len(m.blocks) for m in message.continuations] == [49, 14]
    assert sections(message.continuations[1])[-1] == "Pictures of `t-99`: <https://x/99.png|1>"
