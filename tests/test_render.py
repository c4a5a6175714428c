"""Rendering: valid Block Kit within Slack's limits and no unescaped mrkdwn, whatever arrives."""

from __future__ import annotations

import json
import re
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.render.answer import Controls, LiveNote, Message, answer_message, completion_message
from bot.render.text import escape, is_previewable, link
from bot.taskapi.errors import ApiRejected, ApiUnavailable
from bot.taskapi.models import Failed, Found, NotFound, TaskDetail, TaskResult

# What the bot itself may put between < and >: links to http(s), dates, users, channels.
ALLOWED_MARKUP = re.compile(
    r"<(?:https?://[^\s<>|]+\|[^<>|]*|!date\^\d+\^[^<>|]+\|[^<>]+|@[A-Z0-9]+|#[A-Z0-9]+)>"
)
ENTITY = re.compile(r"&(?:amp|lt|gt);")


def task(uid: str = "ok-1", status: str = "Finished", **fields: Any) -> Found:
    data = {"TaskUid": uid, "TaskType": "TaskGeneratePicture", "TaskStatus": status, **fields}
    return Found(uid, TaskDetail.model_validate(data))


def texts(payload: Any) -> list[str]:
    found: list[str] = []
    if isinstance(payload, dict):
        if payload.get("type") == "mrkdwn":
            found.append(payload["text"])
        for value in payload.values():
            found += texts(value)
    elif isinstance(payload, list):
        for item in payload:
            found += texts(item)
    return found


def assert_valid(message: Message) -> None:
    for msg in (message, *message.continuations):
        payload = msg.as_payload()  # slack_sdk validates every field's limit here
        blocks = payload["blocks"]
        assert 1 <= len(blocks) <= 50
        assert len(json.dumps(blocks, ensure_ascii=False)) <= 12_000
        assert len(payload["text"]) <= 3000
        for block in blocks:
            if block["type"] == "image":
                assert block["image_url"].startswith(("http://", "https://"))
                assert len(block["image_url"]) <= 3000
            if block["type"] == "section":
                assert len(block["text"]["text"]) <= 3000
        for text in texts(blocks):
            stripped = ALLOWED_MARKUP.sub("", text)
            assert "<" not in stripped
            assert ">" not in stripped.replace("\n>", "\n").removeprefix(">")
            assert "&" not in ENTITY.sub("", stripped)


def test_single_finished_task_previews_pictures() -> None:
    urls = [f"https://img.example/{n}.png" for n in range(5)]
    message = answer_message([task(FinalPictureUrls=urls)], controls=Controls("v"))
    kinds = [b["type"] for b in message.as_payload()["blocks"]]
    assert kinds.count("image") == 3
    assert "<https://img.example/4.png|5>" in json.dumps(message.as_payload())
    assert message.text == "1 task: 1 Finished"
    assert_valid(message)


def test_error_task_shows_code_and_escaped_message() -> None:
    message = answer_message(
        [task(status="Error", TaskErrorCode=7, TaskErrorMsg="<!channel> see <https://x|y> & go")]
    )
    body = json.dumps(message.as_payload())
    assert "Error 7" in body
    assert "&lt;!channel&gt;" in body
    assert "<!channel>" not in body
    assert "<https://x|y>" not in body
    assert_valid(message)


def test_not_found_and_failures_are_named() -> None:
    failure = ApiUnavailable("timed out after 10s", "req-123")
    results: list[TaskResult] = [NotFound("nope-1"), Failed("ok-2", failure), task()]
    body = json.dumps(answer_message(results).as_payload())
    assert "Not found" in body
    assert "nope-1" in body
    assert "not answering" in body
    assert "req-123" in body
    assert "Refresh" in body


def test_unknown_status_is_shown_as_is() -> None:
    message = answer_message([task(status="Paused<b>")])
    line = message.as_payload()["blocks"][2]["text"]["text"]  # the task's own line
    assert line.startswith(":grey_question: *Paused&lt;b&gt;*  `ok-1`")


def test_non_http_and_webp_pictures_are_linked_not_previewed() -> None:
    urls = ["ftp://x/a.png", "https://x/b.webp", "javascript:alert(1)", "https://x/c.jpg"]
    payload = answer_message([task(FinalPictureUrls=urls)]).as_payload()
    images = [b["image_url"] for b in payload["blocks"] if b["type"] == "image"]
    assert images == ["https://x/c.jpg"]
    body = json.dumps(payload)
    assert "<https://x/b.webp|2>" in body
    assert "<javascript" not in body


def test_twenty_tasks_use_thumbnails() -> None:
    results = [task(f"ok-{n}", FinalPictureUrls=[f"https://x/{n}.png"]) for n in range(20)]
    message = answer_message(results, controls=Controls("v"))
    blocks = message.as_payload()["blocks"]
    assert not [b for b in blocks if b["type"] == "image"]
    assert sum(1 for b in blocks if b.get("accessory", {}).get("type") == "image") == 20
    assert_valid(message)


def test_huge_answers_are_summarised_and_continued() -> None:
    urls = [f"https://cdn.example/{'p' * 900}/{n}.png?sig={'s' * 200}" for n in range(40)]
    results: list[TaskResult] = [
        task(f"t-{n}", FinalPictureUrls=urls, TaskErrorMsg="e" * 3000) for n in range(200)
    ]
    results += [NotFound(f"missing-{n}-{'x' * 100}") for n in range(200)]
    message = answer_message(results, controls=Controls("v"), live=LiveNote("watching"))
    assert_valid(message)
    assert "more tasks are counted above" in json.dumps(message.as_payload())
    assert message.continuations


def test_every_picture_link_survives_in_continuations() -> None:
    urls = [f"https://cdn.example/{'p' * 400}/{n}.png" for n in range(40)]
    message = answer_message([task(FinalPictureUrls=urls)])
    every = json.dumps([m.as_payload() for m in (message, *message.continuations)])
    assert all(u in every for u in urls)
    assert_valid(message)


def test_completion_mentions_the_user() -> None:
    message = completion_message([task()], "U123ABC")
    assert "<@U123ABC>" in json.dumps(message.as_payload())
    assert message.text.startswith("All done")


def test_links() -> None:
    assert link("https://a/b?x=1&y=2", "1") == "<https://a/b?x=1&amp;y=2|1>"
    assert link("https://a/b|c>d", "l") == "<https://a/b%7Cc%3Ed|l>"
    assert link("not a url <!here>", "l") == "not a url &lt;!here&gt;"
    assert escape("a&b<c>") == "a&amp;b&lt;c&gt;"
    assert not is_previewable("https://a/b.webp")
    assert is_previewable("https://a/download?id=3")


nasty_text = st.lists(
    st.sampled_from([*"ab <>&|*_~`!@#:/\né任", "<!channel>", "<https://x|y>", "&amp;"]),
    max_size=120,
).map("".join)
nasty_url = st.one_of(
    st.builds(lambda t: "https://img.example/" + t, nasty_text),
    st.builds(lambda t: "http://h/" + t + ".png", st.text(max_size=3100)),
    nasty_text,
)
detail = st.fixed_dictionaries(
    {
        "TaskUid": st.text(min_size=1, max_size=128),
        "TaskStatus": st.one_of(
            st.sampled_from(["Queuing", "Running", "Finished", "Error"]), nasty_text
        ),
        "TaskType": nasty_text,
        "TaskErrorMsg": st.text(max_size=3000) | nasty_text,
        "TaskErrorCode": st.integers() | nasty_text,
        "FinalPictureUrls": st.lists(nasty_url, max_size=40),
    }
)
result = st.one_of(
    detail.map(lambda d: Found(str(d["TaskUid"]), TaskDetail.model_validate(d))),
    st.text(min_size=1, max_size=128).map(NotFound),
    st.builds(
        lambda uid, msg: Failed(uid, ApiRejected(msg, "r-1", 5)),
        st.text(min_size=1, max_size=128),
        nasty_text,
    ),
)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(result, min_size=1, max_size=200), st.booleans())
def test_any_results_render_within_limits(results: list[TaskResult], live: bool) -> None:
    note = LiveNote("retrying", "<!here> down") if live else None
    message = answer_message(results, controls=Controls("x" * 100), checked_at=1.8e9, live=note)
    assert_valid(message)
    assert_valid(completion_message(results, "U1"))
