"""Quiet follows (`/taskstatus follow errors`) end to end: signed commands, message events and
Home actions into the real app, answered on the fake Slack, tasks on the fake task API."""

from __future__ import annotations

import json
from typing import Any

import pytest

from bot.slack.basics.values import decode_uids
from bot.slack.delivery.live import NOTICE_EVENT
from bot.testing.fake_slack import HOME_TEAM
from tests.follow_events import bot_message, eventually, message, send_event, text_of
from tests.slack_harness import Harness
from tests.test_home_modal_e2e import elements, home_text, open_home, publishes

FAST = {"step": 0.15, "watch_poll_interval": 0.05}
TEAM = "T0HOME"


async def follow_errors(harness: Harness, channel: str = "C1", user: str = "U1") -> None:
    await harness.command("follow errors", channel=channel, user=user)
    await harness.slack.wait_for(
        lambda: any(
            "quiet following" in text_of(m) for m in harness.slack.messages.get(channel, [])
        )
    )


def posts_in(harness: Harness, channel: str = "C1") -> list[dict[str, Any]]:
    return [c for c in harness.slack.called("chat.postMessage") if c.get("channel") == channel]


async def quiet_watches_done(harness: Harness, count: int) -> None:
    """Every quiet watch started and ended: `count` watches, none open any more."""
    store = harness.bot.deps.store

    async def done() -> bool:
        started = harness.bot.deps.metrics.registry.get_sample_value(
            "taskstatus_answers_total", {"surface": "follow", "outcome": "quiet"}
        )
        return (started or 0) >= count and not await store.open_watches(HOME_TEAM)

    await eventually(done)


def buttons(message: dict[str, Any]) -> dict[str, str]:
    return {
        e["action_id"]: e["value"]
        for block in message.get("blocks") or []
        for e in block.get("elements") or []
        if e.get("type") == "button"
    }


@pytest.mark.parametrize("harness", [FAST], indirect=True)
async def test_a_message_whose_tasks_all_succeed_gets_nothing(harness: Harness) -> None:
    await follow_errors(harness)
    await send_event(harness, message("renders: TaskUid: ok-1 and `ok-2`", ts="100.1"))
    await quiet_watches_done(harness, 1)
    assert [p["text"] for p in posts_in(harness)] == [posts_in(harness)[0]["text"]]  # the note
    assert harness.slack.thread("C1", "100.1") == []
    assert not harness.slack.called("chat.update")
    assert {"ok-1", "ok-2"} <= {uid for call in harness.api.calls for uid in call}  # watched


@pytest.mark.parametrize("harness", [FAST], indirect=True)
async def test_a_mixed_message_gets_one_failure_message_pinging_its_author(
    harness: Harness,
) -> None:
    await follow_errors(harness)
    await send_event(harness, message("TaskUid: ok-3, `err-4` and `slow-5`", ts="200.1"))
    slack = harness.slack
    await slack.wait_for(lambda: slack.thread("C1", "200.1"))
    [failure] = slack.thread("C1", "200.1")
    said = text_of(failure)
    assert "<@U2>" in said
    assert "1 of 3 tasks failed" in said
    assert "err-4" in said
    assert "1001" in said
    shown = json.dumps([b for b in failure["blocks"] if b["type"] != "actions"])
    assert "ok-3" not in shown
    assert "slow-5" not in shown
    assert (failure.get("metadata") or {}).get("event_type") == NOTICE_EVENT
    value = buttons(failure)
    assert set(value) == {"task_refresh", "task_watch"}
    assert value["task_refresh"] == value["task_watch"]
    assert await decode_uids(HOME_TEAM, value["task_watch"], harness.bot.deps.store) == [
        "ok-3",
        "err-4",
        "slow-5",
    ]
    await quiet_watches_done(harness, 1)  # it ended at the failure, `slow-5` still running
    assert len(slack.thread("C1", "200.1")) == 1
    assert not slack.called("chat.update")

    # The Watch button on it follows the whole message's tasks, live.
    await harness.click("task_watch", value["task_watch"], failure)
    await slack.wait_for(
        lambda: any(
            "task_unwatch" in text_of(m) and "slow-5" in text_of(m)
            for m in slack.thread("C1", "200.1")
        )
    )


@pytest.mark.parametrize("harness", [FAST], indirect=True)
async def test_a_bots_failing_message_pings_nobody(harness: Harness) -> None:
    await follow_errors(harness)
    await send_event(harness, bot_message("Submitted. TaskUid: err-6 <!channel>", ts="300.1"))
    await harness.slack.wait_for(lambda: harness.slack.thread("C1", "300.1"))
    [failure] = harness.slack.thread("C1", "300.1")
    assert "<@" not in text_of(failure)
    assert "err-6" in text_of(failure)


async def test_the_mode_is_switched_announced_listed_and_shown_on_home(harness: Harness) -> None:
    slack = harness.slack
    await harness.command("follow", channel="C1", user="U1")
    await slack.wait_for(
        lambda: any("turned on following" in text_of(m) for m in posts_in(harness))
    )
    await harness.command("follow errors", channel="C1", user="U3")
    await slack.wait_for(lambda: any("mode `errors`" in text_of(m) for m in posts_in(harness)))
    switch = posts_in(harness)[-1]
    assert "<@U3>" in text_of(switch)  # who switched it
    assert (await harness.bot.deps.store.get_follow(TEAM, "C1")).mode == "errors"  # type: ignore[union-attr]

    _, key = await harness.command("follow errors", channel="C1", user="U3")
    [again] = await harness.answers(key)
    assert "already followed" in text_of(again)
    assert len(posts_in(harness)) == 2  # no second announcement

    await harness.command("follow", channel="C2", user="U1")
    _, key = await harness.command("following", channel="C9")
    [listing] = await harness.answers(key)
    assert "<#C1>, turned on by <@U1>" in text_of(listing)
    assert "mode `errors`" in text_of(listing)
    assert "mode `all`" in text_of(listing)

    await open_home(harness)
    await slack.wait_for(lambda: "home_follow_mode" in home_text(harness))
    menus = {m["initial_option"]["value"] for m in elements(slack.homes["U1"], "home_follow_mode")}
    assert menus == {"errors:C1", "all:C2"}

    count = len(publishes(harness))
    await harness.interactive(
        {
            "type": "block_actions",
            "user": {"id": "U4", "team_id": TEAM},
            "team": {"id": TEAM},
            "container": {"type": "view", "view_id": "VHOME"},
            "view": {"id": "VHOME", "type": "home"},
            "trigger_id": "trigger-home",
            "actions": [
                {
                    "action_id": "home_follow_mode",
                    "type": "static_select",
                    "block_id": "follow-C1",
                    "selected_option": {
                        "value": "all:C1",
                        "text": {"type": "plain_text", "text": "all"},
                    },
                }
            ],
        }
    )
    await slack.wait_for(lambda: any("<@U4>" in text_of(m) for m in posts_in(harness)))
    assert "mode `all`" in text_of(posts_in(harness)[-1])
    assert (await harness.bot.deps.store.get_follow(TEAM, "C1")).mode == "all"  # type: ignore[union-attr]
    await slack.wait_for(lambda: len(publishes(harness, "U4")) > 0)
    assert len(publishes(harness)) >= count


@pytest.mark.parametrize("harness", [{"step": 60.0, "watch_poll_interval": 0.05}], indirect=True)
async def test_quiet_watches_count_toward_the_limit_and_the_metrics_by_mode(
    harness: Harness,
) -> None:
    await follow_errors(harness)
    per_minute = harness.bot.deps.settings.follow_max_per_minute
    for n in range(per_minute + 2):
        await send_event(harness, message(f"TaskUid: slow-{n}", ts=f"400.{n + 1}"))
    store = harness.bot.deps.store
    await eventually(lambda: _open_count(store, per_minute))
    await harness.bot.deps.watcher.wait_ticks(2)
    metrics = await (await harness.http.get("/metrics")).text()
    assert f'taskstatus_watches_open_by_mode{{mode="errors"}} {per_minute}.0' in metrics
    assert 'taskstatus_watches_open_by_mode{mode="all"} 0.0' in metrics
    skipped = 'taskstatus_answers_total{outcome="skipped",surface="follow"} 2.0'
    assert skipped in metrics
    assert json.dumps(harness.slack.thread("C1", "400.1")) == "[]"


async def _open_count(store: Any, expected: int) -> bool:
    return len(await store.open_watches(HOME_TEAM)) == expected
