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

from bot.records.watch import Watch
from bot.slack.basics.ids import Action
from bot.store import Store, open_store
from bot.taskapi.fake import FakeTaskApi
from bot.testing.fake_slack import HOME_TEAM
from bot.watch.publisher import Build, Outcome
from bot.watch.scheduler import WatchConfig, Watcher
from tests.fleet import fleet
from tests.follow_events import eventually
from tests.slack_harness import Harness, start_fakes
from tests.test_watch_clock import RecordingPublisher

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
async def test_a_stop_through_a_5xx_second_still_ends_in_the_stopped_form(
    harness: Harness,
) -> None:
    slack = harness.slack
    live = await live_answer(harness)
    slack.trouble("chat.update", 1.0, status=500, error="internal_error")
    _, key = await harness.click(
        Action.UNWATCH, button(live, Action.UNWATCH)["value"], live, user="U2"
    )
    await slack.wait_for(lambda: Action.UNWATCH not in body(live), timeout=10)
    assert "Stopped updating" in body(live)
    assert "refused" not in str(slack.responses.get(key, []))  # no "Slack refused" for them
    assert "internal_error" in [c.refused for c in slack.calls_to("chat.update")]


class Redrawer(RecordingPublisher):
    """Another replica's Slack side, after Slack's Retry-After: every edit lands."""

    def __init__(self) -> None:
        super().__init__()
        self.shown: list[tuple[str, str]] = []

    async def update(self, watch: Watch, build: Build, *, final: bool) -> Outcome:
        self.shown.append((watch.id, body(build(frozenset()).as_payload())))
        return await super().update(watch, build, final=final)


@pytest.mark.parametrize("harness", [SLOW], indirect=True)
async def test_a_stop_under_a_long_retry_after_is_drawn_by_a_later_tick(
    harness: Harness, caplog: pytest.LogCaptureFixture
) -> None:
    """A Retry-After past the Stop's patience: the stopped form stays owed in the store, and
    the tick of any replica draws it once the wait is over (moved to now here)."""
    slack, store = harness.slack, harness.bot.deps.store
    live = await live_answer(harness)
    await eventually(lambda: _one_open(store))
    [watch] = await store.open_watches(HOME_TEAM)
    slack.trouble("chat.update", 3600.0, retry_after=90.0)
    await harness.click(Action.UNWATCH, button(live, Action.UNWATCH)["value"], live, user="U2")
    await eventually(lambda: _logged(caplog, "Slack still refuses its ended form"))
    assert Action.UNWATCH in body(live)
    redrawer = Redrawer()
    replica = Watcher(store, harness.bot.deps.accounts, redrawer, WatchConfig())
    await replica.tick()
    assert redrawer.shown == []  # owed, but not before the 90 s
    await store.owe_final_form(HOME_TEAM, watch.id, 0.0)  # the 90 s are over
    await replica.tick()
    await eventually(lambda: _drawn(redrawer))
    [(shown_id, shown)] = redrawer.shown
    assert shown_id == watch.id
    assert "Stopped updating" in shown
    assert Action.UNWATCH not in shown
    assert await store.take_owed_forms(hold=0.0) == []  # settled: no one draws it again


async def _drawn(publisher: Redrawer) -> bool:
    return bool(publisher.shown)


@pytest.mark.parametrize("harness", [SLOW], indirect=True)
async def test_a_stop_cut_short_by_shutdown_is_handed_to_the_fleet(harness: Harness) -> None:
    """A drain cancels the Stop's action; its stopped form, still waiting out a rate limit,
    goes back to the store at once for whichever replica ticks next."""
    slack, store = harness.slack, harness.bot.deps.store
    live = await live_answer(harness)
    await eventually(lambda: _one_open(store))
    [watch] = await store.open_watches(HOME_TEAM)
    slack.trouble("chat.update", 3600.0, retry_after=20.0)
    await harness.click(Action.UNWATCH, button(live, Action.UNWATCH)["value"], live, user="U2")
    await slack.wait_for(
        lambda: "ratelimited" in [c.refused for c in slack.calls_to("chat.update")]
    )
    assert await harness.bot.deps.tracker.drain(0.0) >= 0
    await harness.bot.deps.watcher.shutdown(grace=0.6)
    assert await store.take_owed_forms(hold=60.0) == [(HOME_TEAM, watch.id)]


async def _logged(caplog: pytest.LogCaptureFixture, text: str) -> bool:
    return text in caplog.text


async def _nothing_owed(store: Store) -> bool:
    return await store.take_owed_forms(hold=0.0) == []


EXPIRING = {"step": 3600.0, "watch_poll_interval": 0.5, "watch_max_duration": 2.0}


@pytest.mark.parametrize("harness", [EXPIRING], indirect=True)
async def test_an_expiry_through_a_rate_limit_ends_in_the_expired_form(
    harness: Harness, caplog: pytest.LogCaptureFixture
) -> None:
    slack = harness.slack
    live = await live_answer(harness)
    slack.trouble("chat.update", 30.0, retry_after=1.0)  # Slack's bad half-minute
    await slack.wait_for(
        lambda: "stopped watching" in str([c.args for c in slack.calls_to("chat.postMessage")]),
        timeout=15,
    )
    assert Action.UNWATCH in body(live)
    slack.troubles.clear()  # Slack is fine again
    await slack.wait_for(lambda: Action.UNWATCH not in body(live), timeout=8)
    assert "Stopped updating after" in body(live)
    assert [r.getMessage() for r in caplog.records if r.levelname == "ERROR"] == []


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
    [watch] = await store.open_watches(HOME_TEAM)
    edits = len(slack.called("chat.update"))
    held = slack.stall("chat.update")  # the refresh's edit lands, its answer is held
    await harness.click(Action.REFRESH, button(live, Action.REFRESH)["value"], live)
    await slack.wait_for(lambda: len(slack.called("chat.update")) > edits)
    assert Action.UNWATCH in body(live)
    ended = await store.get_watch(HOME_TEAM, watch.id)  # meanwhile another replica ends it: too old
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
    watched = {w.message_ts for w in await store.open_watches(HOME_TEAM)}
    shown_live = [m["ts"] for m in slack.messages["C1"] if Action.UNWATCH in body(m)]
    assert [ts for ts in shown_live if ts not in watched] == []
    assert slack.messages["C1"]  # the answer itself is there, plain


async def _one_open(store: Store) -> bool:
    return len(await store.open_watches(HOME_TEAM)) == 1


@pytest.mark.parametrize("harness", [SLOW], indirect=True)
async def test_a_stop_on_a_watch_already_ended_shows_its_ended_form(harness: Harness) -> None:
    slack, store = harness.slack, harness.bot.deps.store
    live = await live_answer(harness)
    await eventually(lambda: _one_open(store))
    [watch] = await store.open_watches(HOME_TEAM)
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
        watched = {w.message_ts for w in await store.open_watches(HOME_TEAM)}
    finally:
        await store.close()
    shown_live = [m["ts"] for m in slack.messages["C1"] if Action.UNWATCH in body(m)]
    assert [ts for ts in shown_live if ts not in watched] == []
