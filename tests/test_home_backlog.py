"""Home tab refreshes under load: at most one pending per person, coalesced, so a backlog
neither grows nor lags behind the newest state.

Five people whose Home tabs are open each start a new live watch every second, through
signed slash commands into the real app; the fake Slack records when each `views.publish`
arrives. Each person's Home shows each new watch within 5 s of the command, and nobody gets
two publishes within 2 s.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import time

import pytest

from bot.testing.fake_slack import HOME_TEAM
from tests.follow_events import send_event
from tests.slack_harness import Harness

PEOPLE = [f"U{n}" for n in range(1, 6)]
SECONDS = 8  # one new watch per person per second, for this long
NEWEST_WITHIN = 5.0
MIN_GAP = 2.0


async def one_person(harness: Harness, user: str, started: dict[str, float]) -> None:
    begin = time.monotonic()
    for k in range(SECONDS):
        uid = f"slow-{user.lower()}-{k}"
        started[uid] = time.monotonic()
        response, _ = await harness.command(f"watch {uid}", channel=f"C{user}", user=user)
        assert response.status == 200
        # The load is a rate: the time passing is what is tested.
        await asyncio.sleep(max(0.0, begin + k + 1 - time.monotonic()))


@pytest.mark.parametrize(
    "harness", [{"step": 60.0, "watch_poll_interval": 0.5, "watch_max_per_user": 20}], indirect=True
)
async def test_busy_homes_stay_current_without_a_backlog(harness: Harness) -> None:
    slack = harness.slack
    for user in PEOPLE:
        await send_event(
            harness, {"type": "app_home_opened", "user": user, "channel": "D1", "tab": "home"}
        )
    await slack.wait_for(lambda: len(slack.called("views.publish")) >= len(PEOPLE))
    started: dict[str, float] = {}
    await asyncio.gather(*(one_person(harness, user, started) for user in PEOPLE))
    pending = [t for t in asyncio.all_tasks() if t.get_name() == "home" and not t.done()]
    assert len(pending) <= len(PEOPLE)  # one pending refresh per person at most
    last = [f"slow-{user.lower()}-{SECONDS - 1}" for user in PEOPLE]
    await slack.wait_for(
        lambda: all(
            uid in json.dumps(slack.homes.get(u, {})) for u, uid in zip(PEOPLE, last, strict=True)
        ),
        timeout=NEWEST_WITHIN + 5,
    )

    for user in PEOPLE:
        shown = [
            (c.at, json.dumps(c.args))
            for c in slack.calls
            if c.method == "views.publish" and c.args.get("user_id") == user
        ]
        gaps = [b[0] - a[0] for a, b in itertools.pairwise(shown)]
        assert min(gaps) >= MIN_GAP, (user, gaps)
        for k in range(SECONDS):
            uid = f"slow-{user.lower()}-{k}"
            first = next(at for at, text in shown if uid in text)
            assert first - started[uid] <= NEWEST_WITHIN, (uid, first - started[uid])


async def test_opening_the_tab_twice_keeps_the_person_gap_and_shows_the_newest_state(
    harness: Harness,
) -> None:
    """Slack sends `app_home_opened` at every switch to the tab: the second publish waits
    out the person's gap, and still goes, with what changed meanwhile."""
    slack = harness.slack
    home = harness.bot.deps.home
    assert home is not None
    await home.opened(HOME_TEAM, "U1")
    await harness.command("watch slow-newest", user="U1")
    await home.opened(HOME_TEAM, "U1")
    await slack.wait_for(lambda: len(slack.calls_to("views.publish")) == 2, timeout=10)
    first, second = slack.calls_to("views.publish")
    assert second.at - first.at >= MIN_GAP
    assert "slow-newest" in json.dumps(second.args)
