"""A Stop always ends in the stopped form; a Refresh racing an end repairs to the ended form;
no *Live* message exists without a watch behind it. Signed actions into the real app, the
fake Slack and the fake task API."""

from __future__ import annotations

import json
import signal
from pathlib import Path
from typing import Any

import pytest
from pytest_aiohttp import AiohttpServer

from bot.slack.basics.ids import Action
from bot.store import Store, open_store
from bot.taskapi.fake import FakeTaskApi
from tests.fleet import fleet
from tests.follow_events import eventually
from tests.slack_harness import Harness, start_fakes

SLOW = {"step": 3600.0, "watch_poll_interval": 60.0}  # tasks stay queued; no poll edits


def body(message: dict[str, Any]) -> str:
    return json.dumps(message.get("blocks")) + str(message.get("text"))


def button(message: dict[str, Any], action_id: str) -> dict[str, Any]:
    return next(
        element
        for block in message["blocks"]
        if block["type"] == "actions"
        for element in block["elements"]
        if element["action_id"] == action_id
    )


async def live_answer(harness: Harness, text: str = "watch ok-1") -> dict[str, Any]:
    slack = harness.slack
    await harness.command(text)
    await slack.wait_for(lambda: Action.UNWATCH in body(slack.messages.get("C1", [{}])[0]))
    return slack.messages["C1"][0]


@pytest.mark.parametrize("harness", [SLOW], indirect=True)
async def test_a_stop_through_a_rate_limit_still_ends_in_the_stopped_form(
    harness: Harness,
) -> None:
    slack = harness.slack
    live = await live_answer(harness)
    slack.trouble("chat.update", 1.0, retry_after=1.0)
    await harness.click(Action.UNWATCH, button(live, Action.UNWATCH)["value"], live, user="U2")
    await slack.wait_for(lambda: Action.UNWATCH not in body(live), timeout=10)
    assert "Stopped updating" in body(live)
    assert "<@U2>" in body(live)
    assert [c.refused for c in slack.calls_to("chat.update")][-2:] == ["ratelimited", ""]


@pytest.mark.parametrize("harness", [SLOW], indirect=True)
async def test_a_stop_redraws_through_its_own_response_url_when_the_answers_expired(
    harness: Harness,
) -> None:
    slack = harness.slack
    slack.not_in_channel.add("GPRIV")  # answered through response_url, kept by the watch
    _, key = await harness.command("watch ok-1", channel="GPRIV")
    await slack.wait_for(
        lambda: any(Action.UNWATCH in body(r) for r in slack.responses.get(key, []))
    )
    live = next(r for r in slack.responses[key] if Action.UNWATCH in body(r))
    slack.expired_responses.add(key)  # past its 30 minutes
    message = {"ts": "1.000001", "blocks": live["blocks"], "text": live["text"]}
    value = button(message, Action.UNWATCH)["value"]
    _, fresh = await harness.click(Action.UNWATCH, value, message, channel="GPRIV")
    [stopped] = await harness.answers(fresh)
    assert stopped["replace_original"] is True
    assert "Stopped updating" in body(stopped)
    assert Action.UNWATCH not in body(stopped)


@pytest.mark.parametrize("harness", [SLOW], indirect=True)
async def test_a_refresh_racing_an_expiry_repairs_to_the_expired_form(harness: Harness) -> None:
    slack, store = harness.slack, harness.bot.deps.store
    live = await live_answer(harness)
    await eventually(lambda: _one_open(store))
    [watch] = await store.open_watches()
    edits = len(slack.called("chat.update"))
    held = slack.stall("chat.update")  # the refresh's edit lands, its answer is held
    await harness.click(Action.REFRESH, button(live, Action.REFRESH)["value"], live)
    await slack.wait_for(lambda: len(slack.called("chat.update")) > edits)
    assert Action.UNWATCH in body(live)
    ended = await store.get_watch(watch.id)  # meanwhile another replica ends it: too old
    assert ended is not None
    ended.state, ended.end_reason = "done", "expired"
    assert await store.update_watch(ended)
    held.set()
    await slack.wait_for(lambda: Action.UNWATCH not in body(live))
    assert "Stopped updating after" in body(live)


@pytest.mark.parametrize("harness", [SLOW], indirect=True)
async def test_a_live_answer_cut_off_before_its_watch_is_saved_is_not_live(
    harness: Harness,
) -> None:
    slack, store = harness.slack, harness.bot.deps.store
    held = slack.stall("chat.postMessage")  # the answer reaches the channel, the bot waits
    await harness.command("watch ok-1")
    await slack.wait_for(lambda: slack.messages.get("C1"))
    assert await harness.bot.deps.tracker.drain(0.0) == 1  # shutdown cuts the answer off
    held.set()
    watched = {w.message_ts for w in await store.open_watches()}
    shown_live = [m["ts"] for m in slack.messages["C1"] if Action.UNWATCH in body(m)]
    assert [ts for ts in shown_live if ts not in watched] == []
    assert slack.messages["C1"]  # the answer itself is there, plain


async def _one_open(store: Store) -> bool:
    return len(await store.open_watches()) == 1


@pytest.mark.parametrize("harness", [SLOW], indirect=True)
async def test_a_stop_on_a_watch_already_ended_shows_its_ended_form(harness: Harness) -> None:
    slack, store = harness.slack, harness.bot.deps.store
    live = await live_answer(harness)
    await eventually(lambda: _one_open(store))
    [watch] = await store.open_watches()
    watch.state, watch.end_reason, watch.stopped_by = "done", "stopped", "U3"
    assert await store.update_watch(watch)  # stopped elsewhere; its edit never landed
    await harness.click(Action.UNWATCH, button(live, Action.UNWATCH)["value"], live, user="U2")
    await slack.wait_for(lambda: Action.UNWATCH not in body(live))
    assert "<@U3>" in body(live)  # who stopped it first


async def test_a_live_answer_killed_before_its_watch_is_saved_is_not_live(
    aiohttp_server: AiohttpServer, tmp_path: Path
) -> None:
    slack, api_url = await start_fakes(aiohttp_server, FakeTaskApi(step=3600.0))
    state = f"sqlite:///{tmp_path}/state.sqlite3"
    async with fleet(tmp_path, slack, api_url, state) as start:
        replica = await start()
        held = slack.stall("chat.postMessage")  # the answer reaches the channel...
        await replica.command(slack, "watch ok-1")
        await slack.wait_for(lambda: slack.messages.get("C1"), timeout=30)
        assert await replica.stop(signal.SIGKILL) == -signal.SIGKILL  # ...and its bot dies
        held.set()
    store = await open_store(state)
    try:
        watched = {w.message_ts for w in await store.open_watches()}
    finally:
        await store.close()
    shown_live = [m["ts"] for m in slack.messages["C1"] if Action.UNWATCH in body(m)]
    assert [ts for ts in shown_live if ts not in watched] == []
