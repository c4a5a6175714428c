"""Pasted task links through the real server: signed `link_shared` and
`entity_details_requested` events in, `chat.unfurl` and `entity.presentDetails` out (fake Slack)."""

from __future__ import annotations

import asyncio
import json
import time
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import aiosqlite
import pytest

from bot.render.answer import Message
from bot.render.unfurl import ACTION_UNFURL_WATCH, TASK_ENTITY
from bot.slack.surfaces.unfurl import repeat_key
from bot.store.sqlite import SqliteStore
from bot.taskapi.fake import FakeTask
from bot.testing.fake_slack import HOME_TEAM
from tests.slack_harness import Harness, envelope
from tests.test_render import assert_valid
from tests.test_unfurl_render import HOSTILE

TEMPLATE = "https://console.example.com/tasks/{uid}"
LINKED = {"task_link_url": TEMPLATE}
WORK_OBJECTS = {"task_link_url": TEMPLATE, "unfurl_work_objects": True}


def page(uid: str) -> str:
    return TEMPLATE.replace("{uid}", uid)


def link_shared(
    urls: list[str],
    *,
    source: str = "conversations_history",
    channel: str = "C1",
    ts: str | None = None,
    **fields: Any,
) -> dict[str, Any]:
    """A `link_shared` event as Slack sends it; in the composer there is no channel or ts yet."""
    ts = ts or f"{time.time():.6f}"
    composer = source == "composer"
    return {
        "type": "link_shared",
        "channel": "COMPOSER" if composer else channel,
        "is_bot_user_member": True,
        "user": "U1",
        "message_ts": uuid.uuid4().hex if composer else ts,
        "unfurl_id": f"{channel}.{ts}.{uuid.uuid4().hex}",
        "source": source,
        "links": [{"url": url, "domain": url.split("/")[2]} for url in urls],
        "event_ts": ts,
        **fields,
    }


async def share(h: Harness, event: dict[str, Any]) -> None:
    response = await h.send(json.dumps(envelope(event)), "application/json")
    assert response.status == 200


async def unfurled(h: Harness, count: int = 1) -> list[dict[str, Any]]:
    """The first `count` chat.unfurl calls, once made (accepted or not)."""
    await h.slack.wait_for(lambda: len(h.slack.called("chat.unfurl")) >= count)
    return h.slack.called("chat.unfurl")[:count]


async def settled(h: Harness) -> None:
    """Every piece of work the bot took on is over (nothing more will be called)."""
    await asyncio.wait_for(h.bot.deps.tracker.idle.wait(), 10)


def cards(call: dict[str, Any]) -> dict[str, list[dict[str, Any]]]:
    unfurls = call["unfurls"]
    return {url: unfurl["blocks"] for url, unfurl in unfurls.items()}


def assert_valid_cards(call: dict[str, Any]) -> None:
    for blocks in cards(call).values():
        assert_valid(Message("t", [], block_dicts=tuple(blocks)))


@pytest.mark.parametrize("harness", [LINKED], indirect=True)
async def test_a_posted_link_is_unfurled_once_and_other_links_are_left_alone(
    harness: Harness,
) -> None:
    h = harness
    event = link_shared([page("ok-1"), "https://elsewhere.example/tasks/ok-2", page("err-3")])
    await share(h, event)
    (call,) = await unfurled(h)
    assert call["unfurl_id"] == event["unfurl_id"]
    assert call["source"] == "conversations_history"
    assert (call["channel"], call["ts"]) == ("C1", event["message_ts"])
    assert list(cards(call)) == [page("ok-1"), page("err-3")]
    ok, err = cards(call).values()
    assert ":white_check_mark: *Finished*" in ok[0]["text"]["text"]
    assert [b["type"] for b in ok][:2] == ["section", "image"]  # one picture, finished
    assert ":x: *Error*" in err[0]["text"]["text"]
    assert "*Error 1001:*" in err[0]["text"]["text"]
    assert "metadata" not in call  # Work Objects off
    assert_valid_cards(call)
    assert h.slack.unfurls
    assert "warning" not in json.dumps(h.slack.unfurls)
    await settled(h)
    assert len(h.slack.called("chat.unfurl")) == 1


@pytest.mark.parametrize("harness", [LINKED], indirect=True)
async def test_a_link_in_the_composer_is_unfurled_by_unfurl_id_and_source(
    harness: Harness,
) -> None:
    h = harness
    event = link_shared([page("slow-1")], source="composer")
    await share(h, event)
    (call,) = await unfurled(h)
    assert call["unfurl_id"] == event["unfurl_id"]
    assert call["source"] == "composer"
    assert "channel" not in call
    assert "ts" not in call
    (blocks,) = cards(call).values()
    assert blocks[-1]["elements"][0]["action_id"] == ACTION_UNFURL_WATCH
    assert_valid_cards(call)
    await share(h, link_shared([page("slow-1")], source="composer"))  # drafts always show
    await unfurled(h, 2)


@pytest.mark.parametrize("harness", [LINKED], indirect=True)
async def test_at_most_five_links_of_a_message_are_unfurled(harness: Harness) -> None:
    h = harness
    urls = [page(f"ok-{n}") for n in range(8)]
    await share(h, link_shared([urls[0], *urls]))  # a repeat counts once
    (call,) = await unfurled(h)
    assert list(cards(call)) == urls[:5]
    assert_valid_cards(call)
    assert h.api.calls == [[f"ok-{n}" for n in range(5)]]  # one batched lookup


@pytest.mark.parametrize("harness", [LINKED], indirect=True)
async def test_an_unknown_uid_unfurls_as_not_found(harness: Harness) -> None:
    h = harness
    await share(h, link_shared([page("nope-1")]))
    (call,) = await unfurled(h)
    (blocks,) = cards(call).values()
    assert "*Not found:* `nope-1`" in blocks[0]["text"]["text"]
    assert_valid_cards(call)


@pytest.mark.parametrize("harness", [LINKED], indirect=True)
async def test_the_same_url_in_the_same_channel_is_not_unfurled_again(harness: Harness) -> None:
    h = harness
    await share(h, link_shared([page("ok-1")]))
    await unfurled(h)
    await share(h, link_shared([page("ok-1"), page("ok-2")]))  # a new message, same channel
    _, second = await unfurled(h, 2)
    assert list(cards(second)) == [page("ok-2")]
    await share(h, link_shared([page("ok-1")], channel="C2"))  # another channel: shown there
    *_, third = await unfurled(h, 3)
    assert list(cards(third)) == [page("ok-1")]
    await share(h, link_shared([page("ok-1"), page("ok-2")]))  # every link seen: no call
    await settled(h)
    assert len(h.slack.called("chat.unfurl")) == 3


@pytest.mark.parametrize("harness", [LINKED], indirect=True)
async def test_a_retried_event_is_unfurled_once(harness: Harness) -> None:
    h = harness
    body = json.dumps(envelope(link_shared([page("ok-1")], source="composer")))
    for retry in ("", "1"):
        headers = {"X-Slack-Retry-Num": retry} if retry else {}
        assert (await h.send(body, "application/json", **headers)).status == 200
    await unfurled(h)
    await settled(h)
    assert len(h.slack.called("chat.unfurl")) == 1


@pytest.mark.parametrize("harness", [LINKED], indirect=True)
async def test_links_of_no_task_are_left_alone(harness: Harness) -> None:
    h = harness
    await share(h, link_shared(["https://console.example.com/other/ok-1", page("a/b")]))
    await settled(h)
    assert h.slack.called("chat.unfurl") == []
    assert h.api.calls == []


async def share_in_connect(h: Harness, event: dict[str, Any]) -> None:
    """As Slack sends it in a channel shared with another organisation: the event names the
    person alone (no `user_team`), the envelope says the channel is shared."""
    body = envelope(event)
    body["is_ext_shared_channel"] = True
    assert (await h.send(json.dumps(body), "application/json")).status == 200


@pytest.mark.parametrize("harness", [LINKED], indirect=True)
async def test_a_person_of_another_organisation_gets_no_unfurl(harness: Harness) -> None:
    h = harness
    h.slack.users["WEXT1"] = {"team_id": "T0OTHER"}  # what users.info says of them
    for _ in range(2):  # the second is answered from the cache
        await share_in_connect(h, link_shared([page("ok-1")], user="WEXT1"))
        await settled(h)
    assert h.slack.called("chat.unfurl") == []
    assert h.api.calls == []
    assert [c["user"] for c in h.slack.called("users.info")] == ["WEXT1"]
    await share_in_connect(h, link_shared([page("ok-1")]))  # U1, of the home team
    (call,) = await unfurled(h)
    assert list(cards(call)) == [page("ok-1")]


@pytest.mark.parametrize("harness", [LINKED], indirect=True)
async def test_a_person_whose_organisation_slack_does_not_tell_gets_no_unfurl(
    harness: Harness,
) -> None:
    h = harness
    h.slack.fail("users.info", "user_not_found")
    await share_in_connect(h, link_shared([page("ok-1")], user="WEXT1"))
    await settled(h)
    assert h.slack.called("chat.unfurl") == []


@pytest.mark.parametrize(
    "harness", [{**LINKED, "allowed_external_teams": ["T0FRIEND"]}], indirect=True
)
async def test_a_person_of_an_allowed_organisation_gets_the_unfurl(harness: Harness) -> None:
    h = harness
    h.slack.users["WFRIEND"] = {"team_id": "T0FRIEND"}
    await share_in_connect(h, link_shared([page("ok-1")], user="WFRIEND"))
    (call,) = await unfurled(h)
    assert list(cards(call)) == [page("ok-1")]


@pytest.mark.parametrize("harness", [WORK_OBJECTS], indirect=True)
async def test_a_person_of_another_organisation_gets_no_flexpane(harness: Harness) -> None:
    h = harness
    h.slack.users["WEXT1"] = {"team_id": "T0OTHER"}
    event = flexpane_event("ok-1", user="WEXT1")
    await share_in_connect(h, event)
    await settled(h)
    assert h.slack.called("entity.presentDetails") == []
    await share_in_connect(h, flexpane_event("ok-1"))  # U1: shown
    await h.slack.wait_for(lambda: h.slack.called("entity.presentDetails"))


def flexpane_event(uid: str, *, user: str = "U1") -> dict[str, Any]:
    """An `entity_details_requested` event as Slack sends it: the person, not their team."""
    shared = page(uid)
    return {
        "type": "entity_details_requested",
        "user": user,
        "external_ref": {"id": uid, "type": "task"},
        "entity_url": shared,
        "link": {"url": shared, "domain": "console.example.com"},
        "app_unfurl_url": shared,
        "event_ts": f"{time.time():.6f}",
        "trigger_id": f"1234.5678.{uuid.uuid4().hex}",
        "user_locale": "en-US",
        "channel": "C1",
        "message_ts": f"{time.time():.6f}",
    }


async def test_without_a_template_nothing_is_unfurled(harness: Harness) -> None:
    h = harness
    await share(h, link_shared([page("ok-1")]))
    await settled(h)
    assert h.slack.called("chat.unfurl") == []


@pytest.mark.parametrize("harness", [LINKED], indirect=True)
async def test_hostile_api_text_is_escaped_in_the_unfurl(harness: Harness) -> None:
    h = harness
    h.api.tasks["err-x"] = FakeTask("err-x", "Error", pictures=0, error_msg=HOSTILE * 50)
    h.api.tasks["err-x"].task_type = HOSTILE
    await share(h, link_shared([page("err-x")]))
    (call,) = await unfurled(h)
    assert_valid_cards(call)
    body = json.dumps(call["unfurls"])
    assert "<!channel>" not in body
    assert "<https://evil.example|click>" not in body
    assert "&lt;!channel&gt;" in body


@pytest.mark.parametrize("harness", [WORK_OBJECTS], indirect=True)
async def test_work_objects_carry_a_task_entity_per_link(harness: Harness) -> None:
    h = harness
    shared = page("ok-1") + "?tab=pictures"
    await share(h, link_shared([shared, page("nope-2")]))
    (call,) = await unfurled(h)
    assert list(cards(call)) == [shared, page("nope-2")]  # the cards stay, for old clients
    assert_valid_cards(call)
    ok, missing = call["metadata"]["entities"]
    assert ok["entity_type"] == TASK_ENTITY
    assert ok["external_ref"]["id"] == "ok-1"
    assert ok["url"] == page("ok-1")
    assert ok["app_unfurl_url"] == shared
    assert ok["entity_payload"]["attributes"]["title"]["text"] == "Task ok-1"
    assert ok["entity_payload"]["fields"]["status"]["value"] == "Finished"
    assert missing["entity_payload"]["fields"]["status"]["value"] == "not found"
    assert "warning" not in json.dumps(h.slack.unfurls)  # Slack found the entities well formed


@pytest.mark.parametrize("harness", [WORK_OBJECTS], indirect=True)
async def test_the_flexpane_gets_every_vendor_field_and_picture_link(harness: Harness) -> None:
    h = harness
    shared = page("ok-1")
    event = {
        "type": "entity_details_requested",
        "user": "U1",
        "external_ref": {"id": "ok-1", "type": "task"},
        "entity_url": shared,
        "link": {"url": shared, "domain": "console.example.com"},
        "app_unfurl_url": shared,
        "event_ts": f"{time.time():.6f}",
        "trigger_id": "1234.5678.abcdef",
        "user_locale": "en-US",
        "channel": "C1",
        "message_ts": f"{time.time():.6f}",
    }
    await share(h, event)
    await h.slack.wait_for(lambda: h.slack.called("entity.presentDetails"))
    await settled(h)
    (call,) = h.slack.called("entity.presentDetails")
    assert call["trigger_id"] == "1234.5678.abcdef"
    entity = call["metadata"]
    assert entity["entity_type"] == TASK_ENTITY
    assert entity["external_ref"]["id"] == "ok-1"
    fields = {f["label"]: f for f in entity["entity_payload"]["custom_fields"]}
    assert fields["TaskStatus"]["value"] == "Finished"
    assert fields["TaskType"]["value"] == "TaskGeneratePicture"
    pictures = [fields[f"Picture {n}"]["link"] for n in (1, 2)]
    assert all(url.endswith(f"/pictures/ok-1/{n}.png") for n, url in enumerate(pictures))


@pytest.mark.parametrize("harness", [LINKED], indirect=True)
async def test_without_work_objects_the_flexpane_event_is_left_alone(harness: Harness) -> None:
    h = harness
    event = {"type": "entity_details_requested", "trigger_id": "t", "app_unfurl_url": page("x")}
    await share(h, event)
    await settled(h)
    assert h.slack.called("entity.presentDetails") == []


@pytest.mark.parametrize("harness", [LINKED], indirect=True)
async def test_watch_on_an_unfurl_starts_a_live_answer_in_the_message_thread(
    harness: Harness,
) -> None:
    h = harness
    message = h.slack.add_message("C1", text=f"look: <{page('slow-1')}>", user="U1")
    await share(h, link_shared([page("slow-1")], ts=message["ts"]))
    (call,) = await unfurled(h)
    (blocks,) = cards(call).values()
    (button,) = blocks[-1]["elements"]
    payload = {
        "type": "block_actions",
        "user": {"id": "U1", "team_id": "T0HOME"},
        "team": {"id": "T0HOME"},
        "channel": {"id": "C1"},
        "container": {
            "type": "message_attachment",
            "message_ts": message["ts"],
            "channel_id": "C1",
            "is_app_unfurl": True,
            "app_unfurl_url": page("slow-1"),
        },
        "message": message,
        "response_url": h.slack.response_url("unfurl-watch"),
        "trigger_id": "t",
        "actions": [{"action_id": button["action_id"], "value": button["value"], "type": "button"}],
    }
    assert (await h.interactive(payload)).status == 200

    def live() -> list[dict[str, Any]]:
        return [m for m in h.slack.thread("C1", message["ts"]) if "task_unwatch" in json.dumps(m)]

    await h.slack.wait_for(live)
    (answer,) = live()
    assert f"<{page('slow-1')}|slow-1>" in json.dumps(answer["blocks"])  # UIDs link to pages
    watches = await h.bot.deps.store.open_watches("T0HOME")
    assert [(w.uids, w.thread_ts) for w in watches] == [(["slow-1"], message["ts"])]


@pytest.mark.parametrize("harness", [LINKED], indirect=True)
async def test_a_command_answer_links_each_uid_to_its_page(harness: Harness) -> None:
    h = harness
    _, key = await h.command("ok-1 nope-2")
    (answer,) = await h.answers(key)
    body = json.dumps(answer["blocks"])
    assert f"<{page('ok-1')}|ok-1>" in body
    assert "`nope-2`" in body  # an unknown UID has no page to link to


@pytest.mark.parametrize("harness", [LINKED], indirect=True)
async def test_a_picture_slack_cannot_download_costs_the_picture_not_the_unfurl(
    harness: Harness,
) -> None:
    h = harness
    api_url = str(h.bot.deps.settings.task_api_url)
    h.slack.broken_images.add(f"{api_url}pictures/ok-1/0.png")
    await share(h, link_shared([page("ok-1")]))
    await h.slack.wait_for(lambda: h.slack.unfurls)
    await settled(h)
    refused, accepted = h.slack.called("chat.unfurl")
    assert "image" in json.dumps(refused["unfurls"])
    (blocks,) = cards(accepted).values()
    assert [b["type"] for b in blocks] == ["section", "context"]
    assert "2 pictures on the task's page" in json.dumps(blocks)


@pytest.mark.parametrize("harness", [LINKED], indirect=True)
async def test_a_failed_lookup_does_not_cost_the_next_paste_its_unfurl(harness: Harness) -> None:
    """The task API is down for the first paste: its card says so, and the link's claim is
    given back, so the next paste in the channel shows the task (not 30 minutes later)."""
    h = harness
    h.api.faults.http_500 = 100  # every try of the first lookup fails
    await share(h, link_shared([page("ok-1"), page("ok-2")]))
    (first,) = await unfurled(h)
    await settled(h)
    assert all("Could not look up" in json.dumps(c) for c in cards(first).values())
    h.api.faults.http_500 = 0
    await share(h, link_shared([page("ok-1")]))
    _, second = await unfurled(h, 2)
    (blocks,) = cards(second).values()
    assert ":white_check_mark: *Finished*" in blocks[0]["text"]["text"]
    await settled(h)
    await share(h, link_shared([page("ok-1")]))  # now shown: the window holds it
    await settled(h)
    assert len(h.slack.called("chat.unfurl")) == 2


@pytest.mark.parametrize("harness", [LINKED], indirect=True)
async def test_a_refused_unfurl_does_not_cost_the_next_paste_its_unfurl(harness: Harness) -> None:
    h = harness
    h.slack.fail("chat.unfurl", "cannot_unfurl_url")
    await share(h, link_shared([page("ok-1")]))
    await unfurled(h)
    await settled(h)
    assert h.slack.unfurls == []  # refused
    await share(h, link_shared([page("ok-1")]))
    await unfurled(h, 2)
    await settled(h)
    assert [list(u["unfurls"]) for u in h.slack.unfurls] == [[page("ok-1")]]


@pytest.mark.parametrize("harness", [LINKED], indirect=True)
async def test_only_the_failed_link_of_a_message_is_given_back(harness: Harness) -> None:
    """In one message, ok-1 is answered from the cache of finished tasks while the task API
    fails ok-3: the next paste of both in that channel unfurls ok-3 alone."""
    h = harness
    await share(h, link_shared([page("ok-1")], channel="C2"))  # ok-1 is now cached
    await unfurled(h)
    h.api.faults.http_500 = 100
    await share(h, link_shared([page("ok-1"), page("ok-3")]))
    _, mixed = await unfurled(h, 2)
    await settled(h)
    ok, failed = cards(mixed).values()
    assert ":white_check_mark: *Finished*" in ok[0]["text"]["text"]
    assert "Could not look up" in failed[0]["text"]["text"]
    h.api.faults.http_500 = 0
    await share(h, link_shared([page("ok-1"), page("ok-3")]))
    *_, last = await unfurled(h, 3)
    assert list(cards(last)) == [page("ok-3")]


@pytest.mark.parametrize("harness", [WORK_OBJECTS], indirect=True)
async def test_watch_on_a_work_object_starts_a_live_answer_in_the_message_thread(
    harness: Harness,
) -> None:
    """A client that shows the entity shows no blocks: its *Watch* is an entity action.
    The press is assumed to arrive as a `block_actions` like a card's, from the unfurl's
    container, without the message (Slack's docs do not show this payload)."""
    h = harness
    message = h.slack.add_message("C1", text=f"look: <{page('slow-1')}>", user="U1")
    await share(h, link_shared([page("slow-1")], ts=message["ts"]))
    (call,) = await unfurled(h)
    (entity,) = call["metadata"]["entities"]
    (action,) = entity["entity_payload"]["actions"]["primary_actions"]
    assert action["action_id"] == ACTION_UNFURL_WATCH
    payload = {
        "type": "block_actions",
        "user": {"id": "U1", "team_id": "T0HOME"},
        "team": {"id": "T0HOME"},
        "container": {
            "type": "message_attachment",
            "message_ts": message["ts"],
            "channel_id": "C1",
            "is_app_unfurl": True,
            "app_unfurl_url": page("slow-1"),
        },
        "trigger_id": "t",
        "actions": [{"action_id": action["action_id"], "value": action["value"], "type": "button"}],
    }
    assert (await h.interactive(payload)).status == 200

    def live() -> list[dict[str, Any]]:
        return [m for m in h.slack.thread("C1", message["ts"]) if "task_unwatch" in json.dumps(m)]

    await h.slack.wait_for(live)
    watches = await h.bot.deps.store.open_watches("T0HOME")
    assert [(w.uids, w.thread_ts) for w in watches] == [(["slow-1"], message["ts"])]


@asynccontextmanager
async def store_at(h: Harness, ahead: float) -> AsyncIterator[SqliteStore]:
    """The harness's store file, seen by a process whose clock is `ahead` seconds on."""
    path = str(h.bot.deps.settings.state_url).removeprefix("sqlite:///")
    db = await aiosqlite.connect(path, timeout=10.0, isolation_level=None)
    try:
        yield SqliteStore(db, clock=lambda: time.time() + ahead)
    finally:
        await db.close()


async def held(h: Harness, event: dict[str, Any], url: str, ahead: float) -> bool:
    """Whether the link's repeat claim still holds `ahead` seconds from now (a claim taken
    then would fail). Claiming is the only probe: one that finds the claim expired removes
    it, so a test probes its later moment last."""
    async with store_at(h, ahead) as later:
        taken = await later.claim(HOME_TEAM, repeat_key(event, url), ttl=1.0)
        if taken:
            await later.release_claim(HOME_TEAM, repeat_key(event, url))
        return not taken


@pytest.mark.parametrize("harness", [LINKED], indirect=True)
async def test_a_shown_link_is_held_thirty_minutes_and_no_longer(harness: Harness) -> None:
    h = harness
    event = link_shared([page("ok-1")])
    await share(h, event)
    await unfurled(h)
    await settled(h)
    assert await held(h, event, page("ok-1"), 29 * 60)
    assert not await held(h, event, page("ok-1"), 31 * 60)


@pytest.mark.parametrize("harness", [LINKED], indirect=True)
async def test_a_link_being_unfurled_is_held_a_minute_not_the_window(harness: Harness) -> None:
    """A process that dies while Slack has not answered `chat.unfurl` yet holds the link
    only for the short in-flight claim."""
    h = harness
    answer = h.slack.stall("chat.unfurl")
    event = link_shared([page("ok-1")])
    await share(h, event)
    await h.slack.wait_for(lambda: h.slack.called("chat.unfurl"))
    assert await held(h, event, page("ok-1"), 30)
    assert not await held(h, event, page("ok-1"), 90)
    answer.set()
    await settled(h)
    assert await held(h, event, page("ok-1"), 90)  # shown: now held for the window


@pytest.mark.parametrize("harness", [LINKED], indirect=True)
async def test_an_event_without_unfurl_id_is_unfurled_by_channel_and_ts(
    harness: Harness,
) -> None:
    h = harness
    event = link_shared([page("ok-1")])
    del event["unfurl_id"], event["source"]
    await share(h, event)
    (call,) = await unfurled(h)
    assert (call["channel"], call["ts"]) == ("C1", event["message_ts"])
    assert "unfurl_id" not in call
    assert "source" not in call
    assert list(cards(call)) == [page("ok-1")]
