"""The App Home tab and the lookup modal, end to end against the fake Slack's views."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import pytest

from bot.testing.fake_slack import HOME_TEAM, WORKSPACE_URL, _check_view
from tests.follow_events import send_event, text_of
from tests.slack_harness import Harness

FAST = {"step": 0.15, "watch_poll_interval": 0.05}
SLOW = {"step": 60.0, "watch_poll_interval": 0.05}


async def open_home(harness: Harness, user: str = "U1") -> None:
    await send_event(
        harness, {"type": "app_home_opened", "user": user, "channel": "D1", "tab": "home"}
    )


def publishes(harness: Harness, user: str = "U1") -> list[dict[str, Any]]:
    return [c for c in harness.slack.called("views.publish") if c.get("user_id") == user]


def home_text(harness: Harness, user: str = "U1") -> str:
    return json.dumps(harness.slack.homes.get(user, {}))


def elements(view: dict[str, Any], action_id: str) -> list[dict[str, Any]]:
    found = []
    for block in view.get("blocks", []):
        candidates = [block.get("accessory") or {}, *block.get("elements", [])]
        found += [e for e in candidates if isinstance(e, dict) and e.get("action_id") == action_id]
    return found


async def block_action(harness: Harness, action_id: str, value: str, user: str = "U1") -> Any:
    payload = {
        "type": "block_actions",
        "user": {"id": user, "team_id": HOME_TEAM},
        "team": {"id": HOME_TEAM},
        "container": {"type": "view", "view_id": "VHOME"},
        "view": {"id": "VHOME", "type": "home"},
        "trigger_id": "trigger-home",
        "actions": [{"action_id": action_id, "value": value, "type": "button", "block_id": "b"}],
    }
    return await harness.interactive(payload)


@pytest.mark.parametrize("harness", [SLOW], indirect=True)
async def test_home_shows_live_watches_follows_and_stops_a_watch(harness: Harness) -> None:
    slack = harness.slack
    await open_home(harness)
    await slack.wait_for(lambda: publishes(harness))
    assert "No live watches" in home_text(harness)
    assert "home_lookup" in home_text(harness)

    await harness.command("follow", channel="C5")
    await harness.command("watch slow-1 slow-2", channel="C1")
    await slack.wait_for(lambda: slack.messages.get("C1"))
    await slack.wait_for(lambda: "task_unwatch" in text_of(slack.messages["C1"][0]))
    live = slack.messages["C1"][0]
    await slack.wait_for(lambda: "slow-2" in home_text(harness))  # published without asking
    home = slack.homes["U1"]
    assert "<#C5>" in home_text(harness)  # the followed channel
    assert f"{WORKSPACE_URL}archives/C1/p{live['ts'].replace('.', '')}" in home_text(harness)
    assert "2 tasks" in home_text(harness)
    [stop] = elements(home, "home_unwatch")

    count = len(publishes(harness))
    await block_action(harness, "home_unwatch", stop["value"])
    await slack.wait_for(lambda: "Stopped updating" in text_of(slack.messages["C1"][0]))
    await slack.wait_for(
        lambda: len(publishes(harness)) > count and "slow-2" not in home_text(harness)
    )
    assert "No live watches" in home_text(harness)
    assert "<@U1>" in text_of(slack.messages["C1"][0])  # "stopped by"


@pytest.mark.parametrize("harness", [FAST], indirect=True)
async def test_home_is_published_again_after_a_watch_ends(harness: Harness) -> None:
    slack = harness.slack
    await open_home(harness, "U4")
    await slack.wait_for(lambda: publishes(harness, "U4"))
    await harness.command("watch ok-5", channel="C1", user="U5")  # U5 never opened the tab
    await harness.command("watch ok-6", channel="C1", user="U4")
    await slack.wait_for(
        lambda: [m for m in slack.messages.get("C1", []) if m.get("metadata")][1:]
    )  # both watches ended; U5's started first, so a refresh of its Home would come first
    await slack.wait_for(lambda: len(publishes(harness, "U4")) > 1, timeout=15)
    assert "No live watches" in home_text(harness, "U4")  # the ended watch is gone
    assert len(publishes(harness, "U4")) == 2  # the burst of changes made one publish
    assert publishes(harness, "U5") == []


async def open_modal(harness: Harness, via_home: bool = False) -> dict[str, Any]:
    if via_home:
        await block_action(harness, "home_lookup", "lookup")
    else:
        payload = {
            "type": "shortcut",
            "callback_id": "task_status_lookup",
            "trigger_id": "trigger-1",
            "user": {"id": "U1", "team_id": HOME_TEAM},
            "team": {"id": HOME_TEAM},
        }
        response = await harness.interactive(payload)
        assert response.status == 200
    await harness.slack.wait_for(lambda: harness.slack.views)
    [view] = harness.slack.views.values()
    return view


async def submit(harness: Harness, view: dict[str, Any], text: str, dm: bool = False) -> Any:
    state = {
        "lookup_uids": {"uids": {"type": "plain_text_input", "value": text}},
        "lookup_dm": {
            "dm": {
                "type": "checkboxes",
                "selected_options": [{"value": "dm"}] if dm else [],
            }
        },
    }
    payload = {
        "type": "view_submission",
        "team": {"id": HOME_TEAM},
        "user": {"id": "U1", "team_id": HOME_TEAM},
        "view": {**view, "state": {"values": state}},
        "trigger_id": "trigger-2",
    }
    return await harness.interactive(payload)


async def test_modal_answers_in_itself_and_refuses_bad_uids_on_the_field(harness: Harness) -> None:
    slack = harness.slack
    view = await open_modal(harness)
    assert view["type"] == "modal"
    assert [b["type"] for b in view["blocks"]] == ["input", "input"]

    response = await submit(harness, view, "ok-1 bad/uid <!channel>")
    ack = await response.json()
    assert ack["response_action"] == "errors"
    assert "bad/uid" in ack["errors"]["lookup_uids"]
    assert harness.api.calls == []
    ack = await (await submit(harness, view, "  ")).json()
    assert "at least one" in ack["errors"]["lookup_uids"]

    response = await submit(harness, view, "ok-1, err-2\nnope-3")
    ack = await response.json()
    assert ack["response_action"] == "update"
    assert "Looking up 3 tasks" in json.dumps(ack["view"])
    assert _check_view(ack["view"], set()) is None  # a view in an ack is checked like any
    [update] = await slack.wait_for(lambda: slack.called("views.update"))
    shown = slack.views[update["view_id"]]
    body = json.dumps(shown)
    assert "ok-1" in body
    assert "err-2" in body
    assert "Not found" in body
    assert (
        shown["blocks"][-1]["block_id"] == "lookup_uids"
        or shown["blocks"][-2]["block_id"] == "lookup_uids"
    )
    assert "task_refresh" not in body  # channel buttons do not belong in a modal
    assert not slack.called("chat.postMessage")


@pytest.mark.parametrize("harness", [FAST], indirect=True)
async def test_modal_can_send_a_live_answer_by_direct_message(harness: Harness) -> None:
    slack = harness.slack
    view = await open_modal(harness, via_home=True)
    ack = await (await submit(harness, view, "ok-7", dm=True)).json()
    assert ack["response_action"] == "update"
    assert "direct message" in json.dumps(ack["view"])
    assert _check_view(ack["view"], set()) is None
    await slack.wait_for(
        lambda: any(
            (m.get("metadata") or {}).get("event_type") for m in slack.messages.get("DU1", [])
        )
    )
    first = slack.messages["DU1"][0]
    assert "ok-7" in text_of(first)
    assert "Every task is done" in text_of(first)  # live, then final
    assert slack.called("views.update") == []


async def test_fake_slack_refuses_views_slack_would_refuse(harness: Harness) -> None:
    client = harness.bot.deps.delivery.client
    from slack_sdk.errors import SlackApiError

    too_many = {"type": "home", "blocks": [{"type": "divider"}] * 101}
    with pytest.raises(SlackApiError):
        await client.views_publish(user_id="U1", view=too_many)
    long_title = {
        "type": "modal",
        "title": {"type": "plain_text", "text": "x" * 25},
        "blocks": [],
    }
    with pytest.raises(SlackApiError):
        await client.views_open(trigger_id="t", view=long_title)
    no_submit = {
        "type": "modal",
        "title": {"type": "plain_text", "text": "ok"},
        "blocks": [
            {
                "type": "input",
                "label": {"type": "plain_text", "text": "a"},
                "element": {"type": "plain_text_input"},
            }
        ],
    }
    with pytest.raises(SlackApiError):
        await client.views_open(trigger_id="t", view=no_submit)


async def test_a_modal_slack_refuses_to_open_still_acks_the_click(harness: Harness) -> None:
    payload = {
        "type": "shortcut",
        "callback_id": "task_status_lookup",
        "trigger_id": "",  # the fake refuses it, as Slack refuses an expired trigger
        "user": {"id": "U1", "team_id": HOME_TEAM},
        "team": {"id": HOME_TEAM},
    }
    response = await harness.interactive(payload)
    assert response.status == 200
    assert harness.slack.views == {}


@pytest.mark.parametrize("harness", [{"lookup_uids_per_minute": 3}], indirect=True)
async def test_the_modal_keeps_the_per_person_lookup_limit(harness: Harness) -> None:
    view = await open_modal(harness)
    ack = await (await submit(harness, view, "ok-1 ok-2 ok-3")).json()
    assert ack["response_action"] == "update"
    ack = await (await submit(harness, view, "ok-4")).json()
    assert ack["response_action"] == "errors"
    assert "at most 3 a minute" in ack["errors"]["lookup_uids"]


async def test_a_broken_picture_in_the_modal_becomes_a_link_and_the_others_stay(
    harness: Harness,
) -> None:
    """Slack names no picture it could not download in a view: the bot finds it by fetching
    each, so the good picture stays a picture."""
    slack = harness.slack
    base = f"{harness.bot.deps.settings.task_api_url}pictures/ok-1/"
    broken, good = base + "0.png", base + "1.png"
    slack.broken_images.add(broken)
    harness.api.faults.broken_pictures.add("ok-1/0.png")
    view = await open_modal(harness)
    await submit(harness, view, "ok-1")
    await slack.wait_for(lambda: len(slack.called("views.update")) == 2)
    await asyncio.wait_for(harness.bot.deps.tracker.idle.wait(), 10)
    shown = slack.views[slack.called("views.update")[-1]["view_id"]]
    images = [b["image_url"] for b in shown["blocks"] if b["type"] == "image"]
    assert images == [good]
    assert broken in json.dumps(shown)
