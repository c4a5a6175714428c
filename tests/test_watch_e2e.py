"""Live watches end to end: fake task API on a short clock, fake Slack, the real scheduler."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

import pytest
from pytest_aiohttp import AiohttpServer

from bot.records.watch import Watch
from bot.slack.delivery.live import NOTICE_EVENT
from bot.slack.front.server import running_bot
from bot.store import open_store
from bot.taskapi.fake import FakeTaskApi
from bot.testing.fake_slack import DROPPED, HOME_TEAM, FakeSlack
from bot.watch import machine
from bot.watch.machine import MAX_NOTICE_ATTEMPTS, MISSING_POLLS
from tests.slack_harness import Harness, bot_settings, start_fakes

FAST = {"step": 0.15, "watch_poll_interval": 0.05}


def body(message: dict[str, Any]) -> str:
    return json.dumps(message.get("blocks")) + str(message.get("text"))


def notices(slack: FakeSlack, channel: str) -> list[dict[str, Any]]:
    return [
        m
        for m in slack.messages.get(channel, [])
        if (m.get("metadata") or {}).get("event_type") == NOTICE_EVENT
    ]


def live_message(slack: FakeSlack, channel: str = "C1") -> dict[str, Any]:
    return slack.messages[channel][0]


def button(message: dict[str, Any], action_id: str) -> dict[str, Any]:
    return next(
        element
        for block in message["blocks"]
        if block["type"] == "actions"
        for element in block["elements"]
        if element["action_id"] == action_id
    )


@pytest.mark.parametrize("harness", [FAST], indirect=True)
async def test_watch_updates_then_finishes_with_one_notice(harness: Harness) -> None:
    response, _ = await harness.command("watch ok-1 err-2")
    assert response.status == 200
    slack = harness.slack
    # Posted plain, saved with its watch, then turned live.
    await slack.wait_for(lambda: "Live" in body(slack.messages.get("C1", [{}])[0]))
    first = live_message(slack)
    assert "task_unwatch" in body(first)
    await slack.wait_for(lambda: notices(slack, "C1"))
    final = live_message(slack)
    assert "Every task is done" in body(final)
    assert "task_unwatch" not in body(final)
    [notice] = notices(slack, "C1")
    assert notice["thread_ts"] == first["ts"]
    assert "<@U1>" in body(notice)
    lines = [b["text"]["text"] for b in notice["blocks"] if b["type"] == "section"]
    assert any(line.startswith(":white_check_mark: *Finished*  `ok-1`") for line in lines)
    assert any(line.startswith(":x: *Error*  `err-2`") for line in lines)
    updates = slack.called("chat.update")
    assert 1 <= len(updates) <= 4  # Queuing -> Running -> final; only on change
    calls = len(harness.api.calls)
    await _ticks(harness, 3)
    assert len(harness.api.calls) == calls  # polling stopped
    assert len(notices(slack, "C1")) == 1


async def _ticks(harness: Harness, count: int) -> None:
    await asyncio.wait_for(harness.bot.deps.watcher.wait_ticks(count), 10)


async def _until_closed(harness: Harness, ticks: int = 200) -> None:
    """Every watch closed in the store, looked at after each tick."""
    for _ in range(ticks):
        if await harness.bot.deps.store.open_watches(HOME_TEAM) == []:
            return
        await _ticks(harness, 1)
    raise AssertionError("watches still open")


@pytest.mark.parametrize("harness", [FAST], indirect=True)
async def test_mention_watch_lives_in_the_thread(harness: Harness) -> None:
    await harness.mention("watch ok-5", ts="700.1", thread_ts="699.0")
    slack = harness.slack
    await slack.wait_for(lambda: notices(slack, "C1"))
    live = live_message(slack)
    assert live["thread_ts"] == "699.0"
    assert notices(slack, "C1")[0]["thread_ts"] == "699.0"


@pytest.mark.parametrize("harness", [FAST], indirect=True)
async def test_shortcut_watch_answers_in_the_messages_thread(harness: Harness) -> None:
    await harness.shortcut("task_status_watch", {"ts": "800.1", "text": "task: ok-9"})
    slack = harness.slack
    await slack.wait_for(lambda: notices(slack, "C1"))
    assert live_message(slack)["thread_ts"] == "800.1"
    assert notices(slack, "C1")[0]["thread_ts"] == "800.1"


@pytest.mark.parametrize("harness", [{"step": 30.0, "watch_poll_interval": 0.05}], indirect=True)
async def test_watch_and_unwatch_buttons(harness: Harness) -> None:
    await harness.mention("slow-1", ts="900.1")
    slack = harness.slack
    await slack.wait_for(lambda: slack.messages.get("C1"))
    answer = live_message(slack)
    watch_button = button(answer, "task_watch")
    await harness.click("task_watch", watch_button["value"], answer)
    await slack.wait_for(lambda: "task_unwatch" in body(live_message(slack)))
    live = live_message(slack)
    stop = button(live, "task_unwatch")
    await harness.click("task_unwatch", stop["value"], live, user="U2")
    await slack.wait_for(lambda: "Stopped updating" in body(live_message(slack)))
    assert "<@U2>" in body(live_message(slack))
    store = harness.bot.deps.store
    assert await store.open_watches(HOME_TEAM) == []
    assert notices(slack, "C1") == []


@pytest.mark.parametrize(
    "harness", [{**FAST, "watch_max_uids": 2, "watch_max_per_user": 1}], indirect=True
)
async def test_limits_get_a_clear_message(harness: Harness) -> None:
    response, _ = await harness.command("watch ok-1 ok-2 ok-3")
    assert "at most 2" in json.dumps(await response.json())
    harness.api.step = 30.0
    await harness.command("watch slow-1")
    await harness.slack.wait_for(lambda: harness.slack.messages.get("C1"))
    await asyncio.wait_for(harness.bot.deps.tracker.idle.wait(), 10)
    _, key = await harness.command("watch slow-2")
    [note] = await harness.answers(key)
    assert "already have 1 live watch" in json.dumps(note)


@pytest.mark.parametrize("harness", [FAST], indirect=True)
async def test_api_outage_says_retrying_then_recovers(harness: Harness) -> None:
    harness.api.step = 0.3
    await harness.command("watch ok-1")
    slack = harness.slack
    await slack.wait_for(lambda: slack.messages.get("C1"))
    harness.api.faults.http_500 = 10_000
    await slack.wait_for(lambda: "still trying" in body(live_message(slack)))
    assert "ok-1" in body(live_message(slack))  # the last known state stays visible
    harness.api.faults.http_500 = 0
    await slack.wait_for(lambda: notices(slack, "C1"))
    assert "still trying" not in body(live_message(slack))


@pytest.mark.parametrize("harness", [FAST], indirect=True)
async def test_rate_limited_update_sends_latest_state_once_allowed(harness: Harness) -> None:
    harness.slack.fail(
        "chat.update", "ratelimited", times=2, status=429, headers={"Retry-After": "0"}
    )
    await harness.command("watch ok-1")
    slack = harness.slack
    await slack.wait_for(lambda: notices(slack, "C1"))
    assert "Every task is done" in body(live_message(slack))
    assert len(notices(slack, "C1")) == 1


@pytest.mark.parametrize("harness", [{"step": 30.0, "watch_poll_interval": 0.05}], indirect=True)
async def test_deleted_message_ends_the_watch_quietly(harness: Harness) -> None:
    await harness.command("watch slow-1")
    slack = harness.slack
    await slack.wait_for(lambda: slack.messages.get("C1"))
    slack.messages["C1"].clear()
    harness.api.step = 0.0  # a change, so the bot tries to update the deleted message
    store = harness.bot.deps.store
    await slack.wait_for(lambda: slack.called("chat.update"))
    await _ticks(harness, 2)
    assert await store.open_watches(HOME_TEAM) == []
    assert slack.called("chat.postMessage")[1:] == []


@pytest.mark.parametrize(
    "harness",
    [{"step": 30.0, "watch_poll_interval": 0.05, "watch_max_duration": 0.3}],
    indirect=True,
)
async def test_watch_expires_with_a_note(harness: Harness) -> None:
    await harness.command("watch slow-1")
    slack = harness.slack
    await slack.wait_for(lambda: len(slack.messages.get("C1", [])) == 2)
    note = slack.messages["C1"][1]
    assert "stopped watching" in body(note)
    assert "Stopped updating" in body(live_message(slack))
    assert notices(slack, "C1") == []


@pytest.mark.parametrize("harness", [FAST], indirect=True)
async def test_private_channel_watch_uses_response_url_and_a_dm(harness: Harness) -> None:
    harness.slack.not_in_channel.add("GPRIV")
    _, key = await harness.command("watch ok-1", channel="GPRIV")
    slack = harness.slack
    await slack.wait_for(lambda: notices(slack, "DU1"))
    answers = slack.responses[key]
    assert "/invite" in json.dumps(answers[0])
    assert len(answers) <= 5
    assert any("Every task is done" in json.dumps(a) for a in answers[1:])
    edits = answers[2:]  # after the invite note and the first live answer
    assert edits
    assert all(a.get("replace_original") for a in edits)


@pytest.mark.parametrize("harness", [{**FAST, "watch_upload_pictures": True}], indirect=True)
async def test_finished_pictures_are_uploaded_into_the_thread(harness: Harness) -> None:
    await harness.command("watch ok3-1")
    slack = harness.slack
    await slack.wait_for(lambda: slack.called("files.completeUploadExternal"))
    [complete] = slack.called("files.completeUploadExternal")
    assert complete["thread_ts"] == live_message(slack)["ts"]
    assert len(slack.uploads) == 3
    assert all(data.startswith(b"\x89PNG") for data in slack.uploads.values())


@pytest.mark.parametrize("harness", [{**FAST, "watch_upload_pictures": True}], indirect=True)
async def test_failed_upload_keeps_the_links(harness: Harness) -> None:
    harness.slack.fail("files.getUploadURLExternal", "not_allowed_token_type", times=5)
    await harness.command("watch ok-1")
    slack = harness.slack
    await slack.wait_for(lambda: slack.called("files.getUploadURLExternal"))
    [notice] = notices(slack, "C1")
    assert "/pictures/ok-1/" in body(notice)


async def test_restart_resumes_and_notifies_once(
    aiohttp_server: AiohttpServer, tmp_path: Path
) -> None:
    api = FakeTaskApi(step=3600.0)
    slack, api_url = await start_fakes(aiohttp_server, api)
    settings = bot_settings(tmp_path, slack, api_url, watch_poll_interval=0.05)
    async with running_bot(settings) as bot:
        from aiohttp.test_utils import TestClient, TestServer

        from bot.slack.front.server import http_app
        from tests.slack_harness import Harness as H

        async with TestClient(TestServer(http_app(bot))) as http:
            await H(bot, slack, api, http).command("watch ok-1 ok-2")
            await slack.wait_for(lambda: slack.messages.get("C1"))
            await asyncio.wait_for(bot.deps.tracker.idle.wait(), 10)
    assert notices(slack, "C1") == []
    api.step = 0.0  # the tasks finish while the bot is down
    async with running_bot(settings) as bot:
        await slack.wait_for(lambda: notices(slack, "C1"))
        await asyncio.wait_for(bot.deps.watcher.wait_ticks(2), 10)
    assert len(notices(slack, "C1")) == 1
    assert "Every task is done" in body(live_message(slack))


@pytest.mark.parametrize(("already_sent", "replies"), [(True, 0), (False, 0), (True, 450)])
async def test_crash_between_notice_and_close_never_double_notifies(
    aiohttp_server: AiohttpServer, tmp_path: Path, already_sent: bool, replies: int
) -> None:
    api = FakeTaskApi(step=0.0)
    slack, api_url = await start_fakes(aiohttp_server, api)
    settings = bot_settings(
        tmp_path, slack, api_url, watch_poll_interval=0.05, watch_thread_reads_per_minute=10
    )
    live = slack.add_message("C1", text="live", blocks=[], bot_id="BBOT")
    watch = Watch(
        user_id="U1",
        channel_id="C1",
        uids=["ok-1"],
        message_ts=live["ts"],
        thread_ts=live["ts"],
        state="notifying",
        created_at=0,
        expires_at=10**10,
        snapshot={"ok-1": {"TaskUid": "ok-1", "TaskStatus": "Finished"}},
    )
    store = await open_store(settings.state_url)
    assert await store.create_watch(watch, 60)
    await store.close()
    for n in range(replies):  # a busy thread: the notice is far past the first page
        slack.add_message("C1", thread_ts=live["ts"], text=f"chatter {n}")
    if already_sent:  # the notice went out, then the process died before closing the watch
        slack.add_message(
            "C1",
            thread_ts=live["ts"],
            text="All done",
            metadata={"event_type": NOTICE_EVENT, "event_payload": {"watch_id": watch.id}},
        )
    async with running_bot(settings) as bot:
        await asyncio.wait_for(bot.deps.watcher.wait_ticks(2), 10)
        assert await bot.deps.store.open_watches(HOME_TEAM) == []
    assert len(notices(slack, "C1")) == 1


@pytest.mark.parametrize("harness", [FAST], indirect=True)
async def test_a_failing_slack_call_does_not_kill_the_loop(harness: Harness) -> None:
    harness.slack.fail("chat.update", "internal_error", times=3, status=500)
    await harness.command("watch ok-1 ok-2")
    slack = harness.slack
    await slack.wait_for(lambda: notices(slack, "C1"))
    assert "Every task is done" in body(live_message(slack))
    await _ticks(harness, 2)
    assert len(notices(slack, "C1")) == 1


@pytest.mark.parametrize("harness", [{"step": 0.3, "watch_poll_interval": 0.05}], indirect=True)
async def test_watch_button_where_the_bot_is_not_a_member(harness: Harness) -> None:
    slack = harness.slack
    slack.not_in_channel.add("GPRIV")
    _, key = await harness.command("ok-7", channel="GPRIV")
    [answer] = await harness.answers(key)
    message = {"ts": "42.1", "bot_id": "BBOT", "blocks": answer["blocks"]}
    _, click_key = await harness.click(
        "task_watch", button(message, "task_watch")["value"], message, channel="GPRIV"
    )
    await slack.wait_for(lambda: notices(slack, "DU1"))
    updates = slack.responses[click_key]
    assert "Live" in json.dumps(updates[0])
    assert all(u["replace_original"] for u in updates)
    assert "Every task is done" in json.dumps(updates[-1])


@pytest.mark.parametrize(
    ("error", "tries"),
    [("is_archived", 1), ("channel_not_found", 1), ("invalid_arguments", MAX_NOTICE_ATTEMPTS)],
)
@pytest.mark.parametrize("harness", [{"step": 30.0, "watch_poll_interval": 0.05}], indirect=True)
async def test_a_notice_slack_refuses_for_good_is_given_up(
    harness: Harness, error: str, tries: int
) -> None:
    """A refusal that can never change ends at once; an unknown one (the bot's own fault, as
    far as it can tell) after a few tries."""
    await harness.command("watch ok-1")
    slack = harness.slack
    await slack.wait_for(lambda: slack.messages.get("C1"))
    slack.fail("chat.postMessage", error, times=50)
    harness.api.step = 0.0
    await slack.wait_for(lambda: len(slack.called("chat.postMessage")) >= 1 + tries)
    await _until_closed(harness)
    await _ticks(harness, 2)
    assert len(slack.called("chat.postMessage")) == 1 + tries  # the live answer, then the tries


@pytest.mark.parametrize("harness", [{"step": 3600.0, "watch_poll_interval": 0.05}], indirect=True)
async def test_a_task_left_out_of_a_few_answers_is_not_done(harness: Harness) -> None:
    await harness.command("watch ok-1")
    slack, api = harness.slack, harness.api
    await slack.wait_for(lambda: slack.messages.get("C1"))
    api.faults.omit = MISSING_POLLS - 1  # left out, but fewer times than it takes to give up
    await _ticks(harness, MISSING_POLLS + 2)
    assert api.faults.omit == 0
    assert notices(slack, "C1") == []
    assert "ok-1" in body(live_message(slack))
    assert "not found" not in body(live_message(slack)).lower()
    [open_watch] = await harness.bot.deps.store.open_watches(HOME_TEAM)
    assert open_watch.missing == {}  # seen again: the count starts over
    api.step = 0.0
    await slack.wait_for(lambda: notices(slack, "C1"))
    assert "Finished" in body(notices(slack, "C1")[0])


@pytest.mark.parametrize("harness", [{"step": 3600.0, "watch_poll_interval": 0.05}], indirect=True)
async def test_a_task_missing_for_good_ends_as_not_found(harness: Harness) -> None:
    await harness.command("watch ok-1")
    slack, api = harness.slack, harness.api
    await slack.wait_for(lambda: slack.messages.get("C1"))
    api.faults.omit = 10_000
    await slack.wait_for(lambda: notices(slack, "C1"))
    assert api.faults.omit <= 10_000 - MISSING_POLLS
    assert "not found" in body(notices(slack, "C1")[0]).lower()


@pytest.mark.parametrize(
    "harness",
    [{"step": 0.2, "watch_poll_interval": 0.05, "watch_upload_pictures": True}],
    indirect=True,
)
async def test_a_slow_completion_never_holds_other_watches(harness: Harness) -> None:
    slack, api = harness.slack, harness.api
    api.faults.picture_latency = 3.0  # each picture download of the finishing watch is slow
    await harness.command("watch ok-1")
    await slack.wait_for(lambda: notices(slack, "C1"), 10)
    started = asyncio.get_running_loop().time()
    await harness.command("watch slow-2")  # Queuing now, Running 0.2 s later
    await slack.wait_for(lambda: len(slack.messages["C1"]) >= 3)
    second = next(m for m in slack.messages["C1"] if "slow-2" in body(m))
    await slack.wait_for(lambda: "Running" in body(second), 5)
    assert asyncio.get_running_loop().time() - started < 2.5
    assert slack.called("files.completeUploadExternal") == []  # still downloading pictures


@pytest.mark.parametrize("harness", [{"step": 3600.0, "watch_poll_interval": 0.05}], indirect=True)
async def test_a_notice_whose_answer_was_lost_is_not_sent_again(harness: Harness) -> None:
    await harness.command("watch ok-1")
    slack = harness.slack
    await slack.wait_for(lambda: slack.messages.get("C1"))
    slack.fail("chat.postMessage", DROPPED)  # Slack posts it, the connection drops
    harness.api.step = 0.0
    await slack.wait_for(lambda: notices(slack, "C1"))
    await _ticks(harness, 3)
    assert await harness.bot.deps.store.open_watches(HOME_TEAM) == []
    assert len(notices(slack, "C1")) == 1
    assert len(slack.called("chat.postMessage")) == 2  # the live answer and one notice
    assert slack.called("conversations.replies")  # looked for it before trying again


@pytest.mark.parametrize(
    "harness",
    [{"step": 3600.0, "watch_poll_interval": 0.05, "watch_max_per_user": 1}],
    indirect=True,
)
async def test_a_live_answer_whose_watch_cannot_be_saved_stops_saying_live(
    harness: Harness,
) -> None:
    import aiosqlite

    path = harness.bot.deps.settings.state_url.removeprefix("sqlite:///")
    async with aiosqlite.connect(path) as db:  # the store refuses new watches from now on
        await db.execute(
            "CREATE TRIGGER refuse BEFORE INSERT ON watches BEGIN SELECT RAISE(ABORT, 'full'); END"
        )
        await db.commit()
    slack = harness.slack
    await harness.command("watch slow-1")
    await slack.wait_for(lambda: slack.messages.get("C1"))
    await harness.bot.deps.tracker.idle.wait()
    assert "task_unwatch" not in body(live_message(slack))  # the answer stays, not "Live"
    assert await harness.bot.deps.store.open_watches(HOME_TEAM) == []
    async with aiosqlite.connect(path) as db:
        await db.execute("DROP TRIGGER refuse")
        await db.commit()
    await harness.command("watch slow-2")  # the slot was given back: the limit of 1 allows it
    await slack.wait_for(
        lambda: len(slack.messages["C1"]) == 2 and "task_unwatch" in body(slack.messages["C1"][1])
    )


@pytest.mark.parametrize("harness", [{"step": 30.0, "watch_poll_interval": 60.0}], indirect=True)
async def test_a_watch_button_whose_live_edit_fails_leaves_no_watch_behind(
    harness: Harness,
) -> None:
    await harness.mention("slow-1", ts="950.1")
    slack = harness.slack
    await slack.wait_for(lambda: slack.messages.get("C1"))
    answer = live_message(slack)
    slack.fail("chat.update", "invalid_blocks")  # Slack refuses to make the answer live
    _, key = await harness.click("task_watch", button(answer, "task_watch")["value"], answer)
    await slack.wait_for(lambda: "Something went wrong" in json.dumps(slack.responses.get(key)))
    # The person was told it failed: no watch may go on behind their back, holding their slot.
    assert await harness.bot.deps.store.open_watches(HOME_TEAM) == []


@pytest.mark.parametrize("harness", [{"step": 30.0, "watch_poll_interval": 60.0}], indirect=True)
async def test_a_refresh_racing_a_stop_leaves_the_answer_stopped(harness: Harness) -> None:
    live = await refresh_held_up(harness, "slow-1", "960.1")
    slack = harness.slack
    edits = len(slack.called("chat.update"))
    await harness.click("task_unwatch", button(live, "task_unwatch")["value"], live)  # ...Stop
    await slack.wait_for(lambda: len(slack.called("chat.update")) >= edits + 2)  # both edits
    await slack.wait_for(lambda: "Stopped updating" in body(live_message(slack)), timeout=3.0)
    assert "task_unwatch" not in body(live_message(slack))  # no live form with a dead Stop


@pytest.mark.parametrize("harness", [{"step": 30.0, "watch_poll_interval": 60.0}], indirect=True)
async def test_a_refresh_racing_the_finish_leaves_the_answer_done(harness: Harness) -> None:
    await refresh_held_up(harness, "slow-2", "970.1")
    slack, store = harness.slack, harness.bot.deps.store
    [watch] = await store.open_watches(HOME_TEAM)  # ...and meanwhile the watch finishes elsewhere
    watch.state = "notifying"
    finished = machine.noticed(watch)
    assert finished is not None
    assert await store.update_watch(finished)
    edits = len(slack.called("chat.update"))
    await slack.wait_for(lambda: len(slack.called("chat.update")) >= edits + 2)  # live, repair
    assert "task_unwatch" not in body(live_message(slack))  # no live form with no watch behind
    assert "Every task is done" in body(live_message(slack))


async def refresh_held_up(harness: Harness, uid: str, ts: str) -> dict[str, Any]:
    """A live watch whose Refresh was pressed and is still waiting on a slow lookup: the
    moment another change (a Stop, the finish) can slip in before the refresh's edit."""
    slack, api = harness.slack, harness.api
    await harness.mention(uid, ts=ts)
    await slack.wait_for(lambda: slack.messages.get("C1"))
    answer = live_message(slack)
    await harness.click("task_watch", button(answer, "task_watch")["value"], answer)
    await slack.wait_for(lambda: "task_unwatch" in body(live_message(slack)))
    live = live_message(slack)
    api.faults.latency = 0.5
    asked = api.received
    await harness.click("task_refresh", button(live, "task_refresh")["value"], live)
    await api.wait_until(lambda: api.received > asked)
    api.faults.latency = 0.0
    return live


@pytest.mark.parametrize("harness", [{"step": 3600.0, "watch_poll_interval": 0.05}], indirect=True)
async def test_a_deleted_workspaces_watch_stops_without_a_word(harness: Harness) -> None:
    """Uninstalled: the workspace's state is deleted while its watch is live and leased. The
    watcher never brings it back: its tasks finishing draws no edit and no notice."""
    slack, store = harness.slack, harness.bot.deps.store
    await harness.command("watch ok-1")
    await slack.wait_for(lambda: "Live" in body(slack.messages.get("C1", [{}])[0]))
    await _ticks(harness, 2)  # leased and polled by this process
    assert len(await store.open_watches(HOME_TEAM)) == 1
    assert await store.delete_workspace(HOME_TEAM) >= 1
    calls = len(slack.calls)
    harness.api.step = 0.0  # every task finishes at its next poll
    await _ticks(harness, 4)
    assert slack.calls[calls:] == []  # no edit, no notice, no search for one
    assert await store.open_watches(HOME_TEAM) == []
    assert await store.take_owed_forms(hold=0.0) == []
