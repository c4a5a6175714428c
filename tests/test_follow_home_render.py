"""Pure parts of following, the Home tab and the modal: payload readers and views."""

from __future__ import annotations

import json
from typing import Any

import pytest

from bot.render.home import FollowedChannel, HomeWatch, home_view
from bot.render.modal import answer_blocks, lookup_modal
from bot.slack.surfaces.follow import author, follow_word, is_answerable
from bot.taskapi.models import Found, NotFound, TaskDetail
from bot.testing.fake_slack import _check_view

PERSON = {"type": "message", "channel_type": "channel", "user": "U2", "text": "x", "ts": "1.1"}


@pytest.mark.parametrize(
    ("change", "answered"),
    [
        ({}, True),
        ({"channel_type": "group"}, True),
        ({"subtype": "file_share"}, True),
        ({"subtype": "thread_broadcast"}, True),
        ({"thread_ts": "0.5"}, True),  # a person's reply in a thread
        ({"subtype": "bot_message", "bot_id": "B9", "user": None}, True),
        ({"subtype": "bot_message", "bot_id": "B9", "thread_ts": "0.5"}, False),
        ({"bot_id": "B9", "text": "<@UBOT> task: a-1"}, True),  # bots' mentions: not app_mention
        ({"text": "<@UBOT> ok-1"}, False),  # left to app_mention
        ({"user": "UBOT"}, False),
        ({"app_id": "A1", "user": "U9"}, False),
        ({"bot_profile": {"app_id": "A1"}, "bot_id": "B1", "user": "U9"}, False),
        ({"subtype": "message_changed"}, False),
        ({"subtype": "message_deleted"}, False),
        ({"subtype": "channel_join"}, False),
        ({"channel_type": "im"}, False),
        ({"channel_type": "mpim"}, False),
    ],
)
def test_which_messages_a_follow_answers(change: dict[str, Any], answered: bool) -> None:
    event = {k: v for k, v in {**PERSON, **change}.items() if v is not None}
    assert is_answerable(event, "UBOT", "A1") is answered


def test_author_is_pinged_only_for_people() -> None:
    assert author(PERSON) == "U2"
    assert author({**PERSON, "bot_id": "B1"}) == ""
    assert author({"subtype": "bot_message", "username": "ci"}) == ""


@pytest.mark.parametrize(
    ("text", "word"),
    [
        ("follow", "follow"),
        (" Unfollow ", "unfollow"),
        ("following", "following"),
        ("follow ok-1", None),
        ("ok-1", None),
        ("", None),
        ("watch follow", None),
    ],
)
def test_follow_words(text: str, word: str | None) -> None:
    assert follow_word(text) == word


def found(uid: str, status: str = "Running", pictures: int = 0) -> Found:
    urls = [f"https://img.example/{uid}/{n}.png" for n in range(pictures)]
    return Found(
        uid,
        TaskDetail.model_validate({"TaskUid": uid, "TaskStatus": status, "FinalPictureUrls": urls}),
    )


def test_home_view_stays_within_slack_limits_however_many_watches() -> None:
    watches = [
        HomeWatch(f"w{n}", "C1", [f"uid-{n}-{k}" for k in range(50)], [found(f"uid-{n}-0")], None)
        for n in range(80)
    ]
    followed = [FollowedChannel(f"C{n}", "U1", 1.0) for n in range(300)]
    view = home_view(watches, followed, 1.0)
    assert _check_view(view, set()) is None
    assert len(view["blocks"]) <= 100
    assert "and 40 more live watches" in json.dumps(view)
    listed = json.dumps(view).count("turned on by")
    assert f"and {300 - listed} more" in json.dumps(view)  # channels that do not fit: counted


def test_home_view_escapes_and_links() -> None:
    watch = HomeWatch(
        "w1", "C1", ["<!channel>"], [NotFound("<!channel>")], "https://x/archives/C1/p1"
    )
    text = json.dumps(home_view([watch], [], 1.0))
    assert "<!channel>" not in text
    assert "<https://x/archives/C1/p1|Open the live message>" in text
    assert "No live watches" not in text


def test_modal_answer_fits_a_modal_even_for_200_tasks_with_pictures() -> None:
    results = [found(f"t-{n}", "Finished", pictures=12) for n in range(200)]
    view = lookup_modal("t-1", answer_blocks(results, 1.0))
    assert _check_view(view, set()) is None
    assert len(view["blocks"]) <= 100
    assert view["blocks"][-2]["block_id"] == "lookup_uids"
    assert "task_refresh" not in json.dumps(view)
