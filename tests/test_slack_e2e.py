"""The real app end to end: signed Slack requests in, fake Slack Web API records what came out."""

from __future__ import annotations

import asyncio
import json
import time

import pytest

from bot.testing.fake_slack import HOME_TEAM
from tests.slack_harness import Harness, sign


def text_of(payload: dict) -> str:  # type: ignore[type-arg]
    return json.dumps(payload.get("blocks")) + str(payload.get("text"))


async def test_slash_command_answers_through_response_url(harness: Harness) -> None:
    response, key = await harness.command("ok-1, err-2 nope-3")
    assert response.status == 200
    [answer] = await harness.answers(key)
    assert answer["response_type"] == "in_channel"
    body = text_of(answer)
    assert "ok-1" in body
    assert "err-2" in body
    assert "Not found" in body
    assert "nope-3" in body
    actions = [b for b in answer["blocks"] if b["type"] == "actions"][0]["elements"]
    assert [a["action_id"] for a in actions] == ["task_refresh"]  # all done: nothing to watch


async def test_slash_help_and_bad_input_are_answered_in_the_ack(harness: Harness) -> None:
    response, _ = await harness.command("")
    ack = await response.json()
    assert ack["response_type"] == "ephemeral"
    assert "/taskstatus watch" in json.dumps(ack)
    response, _ = await harness.command("<!channel> bad/uid")
    ack = await response.json()
    assert "not task UIDs" in json.dumps(ack)
    assert "&lt;!channel&gt;" in json.dumps(ack)
    assert harness.api.calls == []


async def test_bad_signature_and_stale_timestamp_are_refused(harness: Harness) -> None:
    response = await harness.http.post(
        "/slack/events",
        data=b"command=/taskstatus&text=ok-1",
        headers={
            "Content-Type": "application/x-www-form-urlencoded",
            "X-Slack-Request-Timestamp": str(int(time.time())),
            "X-Slack-Signature": "v0=" + "0" * 64,
        },
    )
    assert response.status == 401
    old = str(int(time.time()) - 600)
    body = "command=/taskstatus&text=ok-1"
    response = await harness.http.post(
        "/slack/events",
        data=body.encode(),
        headers={
            "Content-Type": "application/x-www-form-urlencoded",
            "X-Slack-Request-Timestamp": old,
            "X-Slack-Signature": sign(body, old),
        },
    )
    assert response.status == 401
    assert harness.api.calls == []


async def test_shortcut_answers_in_the_thread(harness: Harness) -> None:
    message = {
        "ts": "100.000001",
        "text": "render done? task: ok-77 and `err-5`",
        "blocks": [
            {
                "type": "rich_text",
                "elements": [
                    {
                        "type": "rich_text_section",
                        "elements": [{"type": "text", "text": "ok-88", "style": {"code": True}}],
                    }
                ],
            }
        ],
        "attachments": [{"fallback": "see 123e4567-e89b-12d3-a456-426614174000"}],
    }
    response, _ = await harness.shortcut("task_status_check", message)
    assert response.status == 200
    [post] = await harness.slack.wait_for(lambda: harness.slack.called("chat.postMessage"))
    assert post["thread_ts"] == "100.000001"
    body = text_of(post)
    for uid in ("ok-77", "err-5", "ok-88", "123e4567-e89b-12d3-a456-426614174000"):
        assert uid in body


async def test_shortcut_without_uids_tells_the_user_privately(harness: Harness) -> None:
    _, key = await harness.shortcut("task_status_check", {"ts": "1.1", "text": "lunch?"})
    [note] = await harness.answers(key)
    assert note["response_type"] == "ephemeral"
    assert "no task UID" in text_of(note)
    assert harness.slack.called("chat.postMessage") == []


async def test_not_in_channel_falls_back_to_response_url(harness: Harness) -> None:
    harness.slack.not_in_channel.add("CPRIV")
    _, key = await harness.shortcut(
        "task_status_check", {"ts": "1.1", "text": "task: ok-1"}, channel="CPRIV"
    )
    invite, answer = await harness.answers(key, 2)
    assert "/invite" in text_of(invite)
    assert "ok-1" in text_of(answer)


async def test_mention_answers_once_in_thread_despite_retries(harness: Harness) -> None:
    await harness.mention("ok-1 ok-2", ts="200.1", thread_ts="199.9", event_id="Ev1")
    await harness.mention(
        "ok-1 ok-2",
        ts="200.1",
        thread_ts="199.9",
        event_id="Ev1",
        **{"X-Slack-Retry-Num": "1", "X-Slack-Retry-Reason": "http_timeout"},
    )
    await harness.mention("ok-1 ok-2", ts="200.1", thread_ts="199.9", event_id="Ev2")
    await harness.slack.wait_for(lambda: harness.slack.called("chat.postMessage"))
    await harness.bot.deps.tracker.drain(5)
    posts = harness.slack.called("chat.postMessage")
    assert len(posts) == 1
    assert posts[0]["thread_ts"] == "199.9"


async def test_mention_help_and_not_found(harness: Harness) -> None:
    await harness.mention("help", ts="300.1")
    await harness.mention("nope-1", ts="300.2")
    await harness.slack.wait_for(lambda: len(harness.slack.called("chat.postMessage")) == 2)
    help_post, answer = sorted(
        harness.slack.called("chat.postMessage"), key=lambda p: p["thread_ts"]
    )
    assert help_post["thread_ts"] == "300.1"
    assert "watch" in text_of(help_post)
    assert "Not found" in text_of(answer)


async def test_refresh_updates_the_message_in_place(harness: Harness) -> None:
    harness.api.step = 60.0
    await harness.mention("ok-1", ts="400.1")
    [post] = await harness.slack.wait_for(lambda: harness.slack.called("chat.postMessage"))
    assert post["blocks"][2]["text"]["text"].startswith(
        ":hourglass_flowing_sand: *Queuing*  `ok-1`"
    )
    harness.api.step = 0.0
    message = harness.slack.messages["C1"][-1]
    value = [b for b in message["blocks"] if b["type"] == "actions"][0]["elements"][0]["value"]
    await harness.click("task_refresh", value, message)
    [update] = await harness.slack.wait_for(lambda: harness.slack.called("chat.update"))
    assert update["ts"] == message["ts"]
    assert update["blocks"][2]["text"]["text"].startswith(":white_check_mark: *Finished*  `ok-1`")


async def test_button_value_stays_small_for_many_uids(harness: Harness) -> None:
    uids = [f"ok-{'x' * 100}-{n}" for n in range(150)]
    _, key = await harness.command(" ".join(uids))
    [answer] = await harness.answers(key)
    buttons = [b for b in answer["blocks"] if b["type"] == "actions"][0]["elements"]
    assert all(len(b["value"]) <= 2000 for b in buttons)
    message = {"ts": "1.2", "blocks": answer["blocks"]}
    _, key2 = await harness.click("task_refresh", buttons[0]["value"], message)
    [refreshed] = await harness.answers(key2)
    assert refreshed["replace_original"] is True
    assert "150 tasks" in text_of(refreshed)


async def test_unreachable_api_says_so_with_reference(harness: Harness) -> None:
    harness.api.faults.http_500 = 10
    _, key = await harness.command("ok-1")
    [answer] = await harness.answers(key)
    body = text_of(answer)
    assert "not answering" in body
    assert "Support reference" in body


async def test_broken_picture_is_sent_again_as_a_link(harness: Harness) -> None:
    # Slack cannot download the first picture; the bot resends with it as a link only.
    await harness.mention("ok-1", ts="500.1")
    await harness.slack.wait_for(lambda: harness.slack.called("chat.postMessage"))
    first_url = [
        b for b in harness.slack.called("chat.postMessage")[0]["blocks"] if b["type"] == "image"
    ][0]["image_url"]
    harness.slack.broken_images.add(first_url)
    await harness.mention("ok-1", ts="500.2")
    await harness.slack.wait_for(lambda: len(harness.slack.messages.get("C1", [])) == 2)
    final = harness.slack.messages["C1"][-1]
    images = [b["image_url"] for b in final["blocks"] if b["type"] == "image"]
    assert first_url not in images
    assert first_url in json.dumps(final["blocks"])


async def test_external_user_is_refused_politely(harness: Harness) -> None:
    response, _ = await harness.command("ok-1", team="T0OTHER")
    assert "only answers people" in json.dumps(await response.json())
    assert harness.api.calls == []


async def test_rate_limited_post_is_waited_out(harness: Harness) -> None:
    harness.slack.fail("chat.postMessage", "ratelimited", status=429, headers={"Retry-After": "0"})
    await harness.mention("ok-1", ts="600.1")
    await harness.slack.wait_for(lambda: len(harness.slack.messages.get("C1", [])) == 1)
    assert len(harness.slack.called("chat.postMessage")) == 2


async def test_healthz_and_metrics(harness: Harness) -> None:
    health = await (await harness.http.get("/healthz")).json()
    assert health["ok"] is True
    await harness.command("ok-1")
    metrics = await (await harness.http.get("/metrics")).text()
    assert "taskstatus_slack_requests_total" in metrics
    assert HOME_TEAM not in metrics


async def test_broken_picture_through_response_url_keeps_the_others(harness: Harness) -> None:
    base = f"{harness.bot.deps.settings.task_api_url}pictures/ok-1/"
    broken, good = base + "0.png", base + "1.png"
    harness.slack.broken_images.add(broken)
    _, key = await harness.command("ok-1")
    refused, answer = await harness.answers(key, 2)
    assert broken in [b.get("image_url") for b in refused["blocks"]]
    images = [b["image_url"] for b in answer["blocks"] if b["type"] == "image"]
    assert images == [good]
    assert broken in text_of(answer)


async def test_pictures_refused_unnamed_are_probed_and_the_good_ones_kept(
    harness: Harness,
) -> None:
    """A response_url refuses with a bare `invalid_blocks`: the bot fetches each picture
    itself, keeps the one that downloads and turns the broken one into a link."""
    base = f"{harness.bot.deps.settings.task_api_url}pictures/ok-1/"
    broken, good = base + "0.png", base + "1.png"
    harness.slack.broken_images.add(broken)
    harness.slack.bare_picture_refusals = True
    harness.api.faults.broken_pictures.add("ok-1/0.png")
    _, key = await harness.command("ok-1")
    refused, answer = await harness.answers(key, 2)
    assert {broken, good} <= {b.get("image_url") for b in refused["blocks"]}
    images = [b["image_url"] for b in answer["blocks"] if b["type"] == "image"]
    assert images == [good]
    assert broken in text_of(answer)


async def test_previews_go_only_when_the_probed_answer_is_refused_too(
    harness: Harness,
) -> None:
    """Each picture downloads for the bot, yet Slack refuses them, unnamed: all links."""
    base = f"{harness.bot.deps.settings.task_api_url}pictures/ok-1/"
    harness.slack.broken_images.add(base + "0.png")
    harness.slack.bare_picture_refusals = True
    _, key = await harness.command("ok-1")
    answers = await harness.answers(key, 2)
    assert not any(b["type"] == "image" for b in answers[-1]["blocks"])
    assert base + "0.png" in text_of(answers[-1])
    assert base + "1.png" in text_of(answers[-1])


async def test_response_url_gives_up_previews_after_three_tries(harness: Harness) -> None:
    base = f"{harness.bot.deps.settings.task_api_url}pictures/ok-1/"
    harness.slack.broken_images.update({base + "0.png", base + "1.png"})
    _, key = await harness.command("ok-1")
    answers = await harness.answers(key, 3)
    await harness.bot.deps.tracker.drain(5)
    assert len(harness.slack.responses[key]) == 3
    assert not any(b["type"] == "image" for b in answers[-1]["blocks"])
    assert base + "1.png" in text_of(answers[-1])


@pytest.mark.parametrize("harness", [{"state_retention": 1.0}], indirect=True)
async def test_a_button_older_than_retention_says_so(harness: Harness) -> None:
    uids = [f"ok-{'x' * 100}-{n}" for n in range(30)]  # too long for the button: kept by key
    _, key = await harness.command(" ".join(uids))
    answer = (await harness.answers(key))[0]  # continuation messages may follow it
    buttons = [b for b in answer["blocks"] if b["type"] == "actions"][0]["elements"]
    message = {"ts": "1.3", "blocks": answer["blocks"]}
    await asyncio.sleep(1.2)  # the retention period passing is what is tested
    for button in buttons:
        if button["action_id"] in ("task_refresh", "task_watch"):
            _, click_key = await harness.click(button["action_id"], button["value"], message)
            notes = await harness.answers(click_key)
            assert "too old" in json.dumps(notes[0])
