"""Task page links both ways, unfurl cards and Work Object entities: pure, no Slack."""

from __future__ import annotations

import json
import time
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.render.answer import answer_message, completion_message
from bot.render.links import TaskLinks
from bot.render.unfurl import (
    ACTION_UNFURL_WATCH,
    MAX_DETAIL_FIELDS,
    TASK_ENTITY,
    entity_details,
    unfurl_entities,
    unfurl_message,
)
from bot.taskapi.errors import ApiUnavailable
from bot.taskapi.models import Failed, NotFound
from tests.test_render import assert_valid, task, texts

LINKS = TaskLinks.of("https://console.example.com/tasks/{uid}")
HOSTILE = "<!channel> <https://evil.example|click> & *bold* `tick` \u202e|>"


def links() -> TaskLinks:
    assert LINKS is not None
    return LINKS


@pytest.mark.parametrize(
    ("url", "uid"),
    [
        ("https://console.example.com/tasks/ok-1", "ok-1"),
        ("HTTPS://Console.Example.COM/tasks/ok-1", "ok-1"),  # scheme and host fold case
        ("https://console.example.com/tasks/ok-1?tab=pictures", "ok-1"),
        ("https://console.example.com/tasks/ok-1#top", "ok-1"),
        ("https://console.example.com/tasks/a%5Fb", "a_b"),
        ("https://console.example.com/tasks/", None),
        ("https://console.example.com/tasks/a/b", None),  # no UID holds a slash
        ("https://console.example.com/TASKS/ok-1", None),  # paths keep their case
        ("https://console.example.com/tasks/ok 1", None),
        ("https://console.example.com/tasks/" + "a" * 129, None),  # UIDs are 128 at most
        ("https://evil.example/https://console.example.com/tasks/ok-1", None),  # anchored
        ("https://console.example.com.evil.example/tasks/ok-1", None),
        ("http://console.example.com/tasks/ok-1", None),
        ("https://other.example/tasks/ok-1", None),
    ],
)
def test_a_pasted_url_names_its_task_only_when_it_is_a_task_page(url: str, uid: str | None) -> None:
    assert links().uid_in(url) == uid


def test_a_template_with_a_tail_and_a_query_matches_both_ends() -> None:
    template = TaskLinks.of("https://c.example.com/t?id={uid}&view=full")
    assert template is not None
    assert template.uid_in("https://c.example.com/t?id=ok-1&view=full") == "ok-1"
    assert template.uid_in("https://c.example.com/t?id=ok-1&view=fullx") is None
    assert template.uid_in("https://c.example.com/t?id=&view=full") is None
    assert template.url_for("a b/c") == "https://c.example.com/t?id=a%20b%2Fc&view=full"


def test_no_template_no_links() -> None:
    assert TaskLinks.of(None) is None
    assert TaskLinks.of("") is None


@given(st.text(alphabet="/ab{}?#%-_.:", max_size=3000))
def test_matching_takes_time_linear_in_the_url(noise: str) -> None:
    """Whatever the URL, one pass of string comparisons: a long hostile one returns at once."""
    url = "https://console.example.com/tasks/" + noise * 10
    started = time.perf_counter()
    links().uid_in(url)
    assert time.perf_counter() - started < 0.05


def test_answers_link_each_uid_to_its_page() -> None:
    results = [task("ok-1"), task("err-2", status="Error", TaskErrorCode=3)]
    message = answer_message(results, links=links())
    body = json.dumps(message.as_payload())
    assert "<https://console.example.com/tasks/ok-1|ok-1>" in body
    assert "<https://console.example.com/tasks/err-2|err-2>" in body
    assert_valid(message)
    notice = completion_message([task("ok-1")], "U1", links=links())
    assert "<https://console.example.com/tasks/ok-1|ok-1>" in json.dumps(notice.as_payload())
    assert "`ok-1`" in json.dumps(answer_message(results).as_payload())  # unset: as before


def test_a_template_with_markup_characters_still_makes_one_safe_link() -> None:
    odd = TaskLinks.of("https://c.example.com/t?a=<b>&c=|d&id={uid}")
    assert odd is not None
    message = answer_message([task("ok-1")], links=odd)
    assert_valid(message)
    (line,) = [t for t in texts(message.as_payload()) if "ok-1" in t][:1]
    assert "<https://c.example.com/t?a=%3Cb%3E&amp;c=%7Cd&amp;id=ok-1|ok-1>" in line


def test_a_finished_card_shows_status_one_picture_and_no_watch() -> None:
    urls = [f"https://img.example/{n}.png" for n in range(4)]
    card = unfurl_message(task("ok-1", FinalPictureUrls=urls), links(), '{"u":["ok-1"]}')
    blocks = card.as_payload()["blocks"]
    assert [b["type"] for b in blocks] == ["section", "image", "context"]
    assert blocks[1]["image_url"] == urls[0]
    assert ":white_check_mark: *Finished*" in blocks[0]["text"]["text"]
    assert "<https://console.example.com/tasks/ok-1|ok-1>" in blocks[0]["text"]["text"]
    assert ACTION_UNFURL_WATCH not in json.dumps(blocks)
    assert_valid(card)


def test_a_running_card_offers_watch() -> None:
    card = unfurl_message(task("slow-1", status="Running"), links(), '{"u":["slow-1"]}')
    blocks = card.as_payload()["blocks"]
    assert blocks[-1]["elements"][0]["action_id"] == ACTION_UNFURL_WATCH
    assert blocks[-1]["elements"][0]["value"] == '{"u":["slow-1"]}'
    assert "image" not in [b["type"] for b in blocks]
    assert_valid(card)


def test_hostile_api_text_is_escaped_in_the_card() -> None:
    result = task(
        "err-1",
        status=HOSTILE * 3,
        TaskType=HOSTILE,
        TaskErrorCode=HOSTILE,
        TaskErrorMsg=HOSTILE * 100,
        FinalPictureUrls=["javascript:alert(1)", "https://img.example/a.webp"],
    )
    card = unfurl_message(result, links(), '{"u":["err-1"]}')
    assert_valid(card)  # every < > & in mrkdwn is escaped or the bot's own link
    body = json.dumps(card.as_payload())
    assert "<!channel>" not in body
    assert "<https://evil.example|click>" not in body
    assert "image" not in [b["type"] for b in card.as_payload()["blocks"]]


def test_not_found_and_failed_cards_say_so() -> None:
    missing = unfurl_message(NotFound("nope-1"), links(), "v")
    assert "*Not found:* `nope-1`" in json.dumps(missing.as_payload())
    failed = unfurl_message(Failed("ok-1", ApiUnavailable("down", "r-1")), links(), "v")
    assert "Could not look up `ok-1`" in json.dumps(failed.as_payload())
    assert_valid(missing)
    assert_valid(failed)


def test_entities_carry_the_task_and_skip_failed_lookups() -> None:
    shared = "https://console.example.com/tasks/ok-1?tab=x"
    metadata = unfurl_entities(
        {
            shared: task("ok-1", CreateTime=1_700_000_000, UpdateTime="2024-01-02T03:04:05Z"),
            "https://console.example.com/tasks/nope": NotFound("nope"),
            "https://console.example.com/tasks/x": Failed("x", ApiUnavailable("down", "r-1")),
        },
        links(),
        1_800_000_000.0,
    )
    assert metadata is not None
    first, second = metadata.to_dict()["entities"]
    assert first["entity_type"] == TASK_ENTITY
    assert first["external_ref"] == {"id": "ok-1", "type": "task"}
    assert first["url"] == "https://console.example.com/tasks/ok-1"
    assert first["app_unfurl_url"] == shared
    payload = first["entity_payload"]
    assert payload["attributes"]["title"]["text"] == "Task ok-1"
    assert payload["fields"]["status"]["value"] == "Finished"
    assert payload["fields"]["date_created"]["value"] == 1_700_000_000
    assert payload["fields"]["date_updated"]["value"] == 1_704_164_645
    assert second["external_ref"]["id"] == "nope"
    assert second["entity_payload"]["fields"]["status"]["value"] == "not found"


def test_details_list_every_vendor_field_and_picture_link() -> None:
    urls = ["https://img.example/1.png", "https://img.example/2.png"]
    result = task(
        "err-1",
        status="Error",
        TaskErrorCode=7,
        TaskErrorMsg=HOSTILE,
        FinalPictureUrls=urls,
        Seed=42,
        Extra={"k": [1, 2]},
    )
    entity = entity_details(result, links(), "https://console.example.com/tasks/err-1", 1.0)
    payload = entity.to_dict()["entity_payload"]
    custom = {f["label"]: f for f in payload["custom_fields"]}
    assert set(custom) >= {"TaskUid", "TaskType", "TaskStatus", "TaskErrorMsg", "TaskErrorCode"}
    assert custom["Seed"]["value"] == "42"
    assert custom["Extra"]["value"] == '{"k": [1, 2]}'
    assert custom["TaskErrorMsg"]["value"] == HOSTILE  # plain text there: shown as it came
    assert [custom["Picture 1"]["link"], custom["Picture 2"]["link"]] == urls
    assert payload["fields"]["description"]["value"] == f"Error 7: {HOSTILE}"
    assert payload["display_order"][:2] == ["status", "description"]
    assert set(payload["display_order"]) >= {f["key"] for f in payload["custom_fields"]}


def test_an_entity_under_way_carries_the_watch_action() -> None:
    running = "https://console.example.com/tasks/slow-1"
    done = "https://console.example.com/tasks/ok-1"
    metadata = unfurl_entities(
        {running: task("slow-1", status="Running"), done: task("ok-1")},
        links(),
        1.0,
        {running: "v-slow", done: "v-ok"},
    )
    assert metadata is not None
    live, finished = metadata.to_dict()["entities"]
    (button,) = live["entity_payload"]["actions"]["primary_actions"]
    assert (button["action_id"], button["value"], button["text"]) == (
        ACTION_UNFURL_WATCH,
        "v-slow",
        "Watch",
    )
    assert "actions" not in finished["entity_payload"]  # nothing to watch any more


@pytest.mark.parametrize(
    "huge",
    [10**400, float("inf"), 1e300, "9999999-01-01", -5],
    ids=["huge-int", "inf", "1e300", "far-year", "negative"],
)
def test_a_date_no_clock_can_hold_is_left_out_not_fatal(huge: object) -> None:
    url = "https://console.example.com/tasks/ok-1"
    result = task("ok-1", CreateTime=huge, UpdateTime=huge)
    metadata = unfurl_entities({url: result}, links(), 1.0)
    assert metadata is not None
    (entity,) = metadata.to_dict()["entities"]
    assert "date_created" not in entity["entity_payload"]["fields"]
    assert entity_details(result, links(), url, 1.0).to_dict()["entity_payload"]["custom_fields"]


def test_vendor_fields_named_alike_get_distinct_keys() -> None:
    result = task("ok-1", **{"Task-Type": "a", "Task_Type": "b", "Task Type": "c"})
    payload = entity_details(result, links(), "u", 1.0).to_dict()["entity_payload"]
    keys = [f["key"] for f in payload["custom_fields"]]
    assert len(keys) == len(set(keys))
    assert len(payload["display_order"]) == len(set(payload["display_order"]))


def test_many_vendor_fields_never_push_out_the_picture_links() -> None:
    urls = [f"https://img.example/{n}.png" for n in range(4)]
    extras: dict[str, Any] = {f"Extra{n}": n for n in range(60)}
    result = task("ok-1", FinalPictureUrls=urls, **extras)
    payload = entity_details(result, links(), "u", 1.0).to_dict()["entity_payload"]
    fields = payload["custom_fields"]
    assert len(fields) == MAX_DETAIL_FIELDS
    assert [f["link"] for f in fields if f["key"].startswith("picture_")] == urls
    (more,) = [f for f in fields if f["label"] == "More fields"]
    shown = len(fields) - len(urls) - 1
    assert more["value"] == f"{len(result.task.raw()) - 1 - shown} more on its page"
