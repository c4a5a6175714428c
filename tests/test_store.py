"""The store contract, against SQLite, a real redis-server and a real Redis Cluster of three
nodes: claims, UID sets, watches, compare-and-set, leases, slots, pauses, retention, and each
workspace's isolation and deletion."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
import redis.asyncio as aioredis

from bot.records.follow import Follow
from bot.records.watch import Watch
from bot.store import Store, open_store
from tests.conftest import empty_redis

KINDS = ["sqlite", "redis", "cluster"]


def _url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path}/nested/state.sqlite3"
    return str(
        request.getfixturevalue("redis_url" if request.param == "redis" else "redis_cluster_url")
    )


async def _open(request: pytest.FixtureRequest, tmp_path: Path, retention: float) -> Store:
    url = _url(request, tmp_path)
    if request.param != "sqlite":
        await empty_redis(url)
    return await open_store(url, retention)


@pytest.fixture(params=KINDS)
async def store(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Store]:
    opened = await _open(request, tmp_path, 3600.0)
    yield opened
    await opened.close()


@pytest.fixture(params=KINDS)
async def brief(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Store]:
    """A store that keeps things for one second."""
    opened = await _open(request, tmp_path, 1.0)
    yield opened
    await opened.close()


@pytest.fixture(params=KINDS)
async def pair(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[list[Store]]:
    """Two connections to one store, as two processes have."""
    first = await _open(request, tmp_path, 3600.0)
    second = await open_store(_url(request, tmp_path), 3600.0)
    yield [first, second]
    await first.close()
    await second.close()


WS = "T1"  # the workspace most tests work in


def watch(**fields: object) -> Watch:
    return Watch.model_validate(
        {
            "team_id": WS,
            "user_id": "U1",
            "channel_id": "C1",
            "uids": ["a"],
            "created_at": 1,
            "expires_at": 2,
        }
        | fields
    )


async def test_claim_is_first_come_only(store: Store) -> None:
    assert await store.claim(WS, "event:1")
    assert not await store.claim(WS, "event:1")
    assert await store.claim(WS, "event:2")


async def test_concurrent_claims_have_one_winner(pair: list[Store]) -> None:
    results = await asyncio.gather(*(pair[n % 2].claim(WS, "event:x") for n in range(20)))
    assert results.count(True) == 1


async def test_uid_sets_round_trip(store: Store) -> None:
    uids = [f"uid-{n}" for n in range(300)]
    key = await store.put_uids(WS, uids)
    assert await store.put_uids(WS, uids) == key
    assert await store.get_uids(WS, key) == uids
    assert await store.get_uids(WS, "missing") is None


async def test_watches_round_trip_and_close(store: Store) -> None:
    first, second = watch(), watch(user_id="U2", state="notifying")
    assert await store.create_watch(first, 60)
    assert await store.create_watch(second, 60)
    assert first.version == 1
    assert sorted(w.id for w in await store.open_watches(WS)) == sorted([first.id, second.id])
    first.state = "done"
    first.snapshot = {"a": {"TaskUid": "a", "TaskStatus": "Finished"}}
    assert await store.update_watch(first)
    assert first.version == 2
    assert [w.id for w in await store.open_watches(WS)] == [second.id]
    loaded = await store.get_watch(WS, first.id)
    assert loaded is not None
    assert (loaded.state, loaded.version) == ("done", 2)
    assert loaded.last_known()[0].uid == "a"
    assert await store.get_watch(WS, "nope") is None


async def test_a_stale_copy_never_overwrites_a_newer_state(pair: list[Store]) -> None:
    original = watch()
    await pair[0].create_watch(original, 60)
    mine = await pair[0].get_watch(WS, original.id)
    theirs = await pair[1].get_watch(WS, original.id)
    assert mine is not None
    assert theirs is not None
    theirs.state, theirs.end_reason = "done", "stopped"
    assert await pair[1].update_watch(theirs)
    mine.age = 99.0  # a tick's older copy, still "active"
    assert not await pair[0].update_watch(mine)
    stored = await pair[0].get_watch(WS, original.id)
    assert stored is not None
    assert (stored.state, stored.end_reason, stored.age) == ("done", "stopped", 0.0)


async def test_concurrent_writers_of_one_version_have_one_winner(pair: list[Store]) -> None:
    original = watch()
    await pair[0].create_watch(original, 60)
    copies = [await pair[n % 2].get_watch(WS, original.id) for n in range(10)]
    results = await asyncio.gather(
        *(pair[n % 2].update_watch(c) for n, c in enumerate(copies) if c is not None)
    )
    assert results.count(True) == 1


async def test_one_open_watch_per_message(pair: list[Store]) -> None:
    first, second = watch(message_key="C1:1.0"), watch(message_key="C1:1.0")
    results = await asyncio.gather(
        pair[0].create_watch(first, 60), pair[1].create_watch(second, 60)
    )
    assert sorted(results) == [False, True]
    winner = first if results[0] else second
    assert [w.id for w in await pair[0].open_watches(WS)] == [winner.id]
    winner.state = "done"
    assert await pair[0].update_watch(winner)
    assert await pair[1].create_watch(watch(message_key="C1:1.0"), 60)  # free once it ended


async def test_leases_have_one_holder_until_released_or_expired(pair: list[Store]) -> None:
    a, b = pair
    ids = set()
    for _ in range(5):
        w = watch()
        await a.create_watch(w, 60)
        ids.add(w.id)
    mine = await a.take_leases("owner-a", ttl=0.5)
    assert {w.id for w in mine} == ids
    assert await b.take_leases("owner-b", ttl=0.5) == []
    assert {w.id for w in await a.take_leases("owner-a", ttl=0.5)} == ids  # renewed
    await a.release_leases("owner-a")
    assert {w.id for w in await b.take_leases("owner-b", ttl=0.3)} == ids  # at once
    assert await a.take_leases("owner-a", ttl=0.3) == []
    await asyncio.sleep(0.5)  # let the lease's own TTL run out: the thing under test
    assert {w.id for w in await a.take_leases("owner-a", ttl=5)} == ids


async def test_leases_skip_finished_watches(store: Store) -> None:
    w = watch()
    await store.create_watch(w, 60)
    assert len(await store.take_leases("me", ttl=5)) == 1
    w.state = "done"
    assert await store.update_watch(w)
    assert await store.take_leases("me", ttl=5) == []


async def test_slots_hold_the_limit_under_races(pair: list[Store]) -> None:
    results = await asyncio.gather(
        *(pair[n % 2].reserve(WS, "U1", f"t{n}", limit=3) for n in range(12))
    )
    assert results.count(True) == 3
    assert await pair[0].reserve(WS, "U2", "other", limit=3)  # per person
    winner = f"t{results.index(True)}"
    await pair[1].release(WS, "U1", winner)
    assert await pair[0].reserve(WS, "U1", "again", limit=3)
    assert not await pair[0].reserve(WS, "U1", "more", limit=3)


async def test_a_finished_watch_gives_its_slot_back(store: Store) -> None:
    assert await store.reserve(WS, "U1", "w1", limit=1)
    first = watch(id="w1")
    assert await store.create_watch(first, 60)
    assert not await store.reserve(WS, "U1", "w2", limit=1)
    first.state = "done"
    assert await store.update_watch(first)
    assert await store.reserve(WS, "U1", "w2", limit=1)


async def test_team_pauses_are_shared_and_end(pair: list[Store]) -> None:
    await pair[0].pause_team("T1", 0.3)
    assert await pair[1].paused_teams(["T1", "T2"]) == {"T1"}
    await asyncio.sleep(0.4)  # the pause's own expiry is what is tested
    assert await pair[1].paused_teams(["T1"]) == set()


async def test_a_shorter_pause_never_cuts_a_longer_one(pair: list[Store]) -> None:
    await pair[0].pause_team("T1", 60.0)  # one process told to wait a minute...
    await pair[1].pause_team("T1", 0.01)  # ...another, a moment later, told much less
    await asyncio.sleep(0.05)  # past the short one: the longer Retry-After must still hold
    assert await pair[0].paused_teams(["T1"]) == {"T1"}


async def test_retention_expires_everything_after_use(brief: Store) -> None:
    await brief.claim(WS, "event:1")
    key = await brief.put_uids(WS, ["a", "b"])
    ended = watch()
    await brief.create_watch(ended, 60)
    ended.state = "done"
    await brief.update_watch(ended)
    assert await brief.size() > 0
    await asyncio.sleep(1.2)  # one retention period passes
    assert await brief.get_uids(WS, key) is None  # a read never returns an expired item
    assert await brief.get_watch(WS, ended.id) is None
    assert await brief.claim(WS, "event:1")  # expired, so claimable again
    await brief.purge()
    assert await brief.size() <= 1  # that fresh claim at most


async def test_open_watches_use_an_index(tmp_path: Path) -> None:
    import aiosqlite

    path = tmp_path / "s.sqlite3"
    store = await open_store(f"sqlite:///{path}")
    await store.close()
    async with (
        aiosqlite.connect(path) as db,
        db.execute("EXPLAIN QUERY PLAN SELECT version, data FROM watches WHERE is_open = 1") as cur,
    ):
        plan = " ".join(str(row[-1]) for row in await cur.fetchall())
    assert "USING INDEX watches_open" in plan


async def test_a_budget_is_shared_by_every_process(pair: list[Store]) -> None:
    results = await asyncio.gather(*(pair[n % 2].spend(WS, "edits", 3, 60.0) for n in range(10)))
    assert results.count(True) == 3


LEGACY = {
    "id": "old1",
    "user_id": "U1",
    "channel_id": "C1",
    "uids": ["a"],
    "state": "active",
    "created_at": 1,
    "expires_at": 2,
    "next_poll_at": 5,
    "last_shown_at": 3,
    "snapshot": {"a": {"TaskUid": "a", "TaskStatus": "Running", "VendorExtra": 1}},
}


async def test_an_older_sqlite_file_is_migrated(tmp_path: Path) -> None:
    import aiosqlite

    path = tmp_path / "old.sqlite3"
    async with aiosqlite.connect(path) as db:
        await db.execute("CREATE TABLE watches (id TEXT PRIMARY KEY, state TEXT, data TEXT)")
        await db.execute(
            "INSERT INTO watches VALUES (?, ?, ?)", ("old1", "active", json.dumps(LEGACY))
        )
        await db.commit()
    await takes_over_the_old_watch(f"sqlite:///{path}")


async def test_an_older_redis_record_is_migrated(redis_url: str) -> None:
    async with aioredis.from_url(redis_url) as raw:
        await raw.flushdb()
        await raw.set("taskstatus:watch:old1", json.dumps(LEGACY))
        await raw.sadd("taskstatus:watches:open", "old1")
    await takes_over_the_old_watch(redis_url)


async def test_an_open_redis_id_without_its_record_is_dropped(redis_url: str) -> None:
    async with aioredis.from_url(redis_url) as raw:
        await raw.flushdb()
        await raw.sadd("taskstatus:watches:open", "lost1")
        store = await open_store(redis_url)
        try:
            assert await store.take_leases("me", ttl=5) == []
            assert await raw.smembers("taskstatus:watches:open") == set()
            assert await raw.exists("taskstatus:lease:lost1") == 0
        finally:
            await store.close()


async def test_follows_are_per_workspace_and_toggle_once(store: Store) -> None:
    first = Follow(team_id="T1", channel_id="C1", user_id="U1", since=1.0)
    assert await store.follow(first)
    assert not await store.follow(first.model_copy(update={"user_id": "U2"}))
    assert await store.follow(Follow(team_id="T1", channel_id="C2", user_id="U2", since=2.0))
    assert await store.follow(Follow(team_id="T2", channel_id="C9", user_id="U9", since=3.0))
    assert [f.channel_id for f in await store.follows("T1")] == ["C1", "C2"]
    assert await store.get_follow("T1", "C1") == first
    assert await store.get_follow("T2", "C1") is None
    results = await asyncio.gather(*(store.unfollow("T1", "C1") for _ in range(5)))
    assert [r for r in results if r is not None] == [first]
    assert [f.channel_id for f in await store.follows("T1")] == ["C2"]


async def test_a_follows_mode_changes_once_per_workspace(store: Store) -> None:
    """Quiet follows: concurrent switches to the same mode see the old mode once (one
    announcement); who turned following on and since when are kept; other workspaces keep
    theirs."""
    first = Follow(team_id="T1", channel_id="C1", user_id="U1", since=1.0)
    assert await store.follow(first)
    assert await store.follow(first.model_copy(update={"team_id": "T2", "workspace": "T2"}))
    assert await store.set_follow_mode("T1", "C9", "errors") is None  # not followed
    befores = await asyncio.gather(*(store.set_follow_mode("T1", "C1", "errors") for _ in range(5)))
    assert sorted(b.mode for b in befores if b is not None) == ["all"] + ["errors"] * 4
    assert await store.get_follow("T1", "C1") == first.model_copy(update={"mode": "errors"})
    assert (await store.get_follow("T2", "C1")) == first.model_copy(
        update={"team_id": "T2", "workspace": "T2"}
    )
    assert [f.mode for f in await store.follows("T1")] == ["errors"]
    assert await store.set_follow_mode("T1", "C1", "all") == first.model_copy(
        update={"mode": "errors"}
    )


async def test_counters_add_atomically_and_expire(store: Store) -> None:
    values = await asyncio.gather(*(store.add(WS, "burst:C1", 60) for _ in range(30)))
    assert sorted(values) == list(range(1, 31))
    assert await store.add(WS, "burst:C1", 60, 0) == 30
    assert await store.add(WS, "burst:C2", 60, 5) == 5
    assert await store.add(WS, "short", 0.05) == 1
    await asyncio.sleep(0.1)  # the counter's own expiry is what is tested
    assert await store.add(WS, "short", 0.05) == 1


async def takes_over_the_old_watch(url: str) -> None:
    """The record written by the previous release is leased and updated like a new one."""
    store = await open_store(url)
    try:
        [taken] = await store.take_leases("me", ttl=5)
        assert taken.id == "old1"
        assert await store.update_watch(taken)
    finally:
        await store.close()


# -- Slack Retry-After holds (bot.slack.delivery.pacing) ----------------------------------------------


async def test_scope_holds_are_shared_lengthen_only_and_end(pair: list[Store]) -> None:
    assert await pair[1].scope_held(WS, "T1/channel/C1") == 0.0
    await pair[0].hold_scope(WS, "T1/channel/C1", 0.3)
    await pair[1].hold_scope(WS, "T1/channel/C1", 0.01)  # a shorter Retry-After never cuts it
    left = await pair[1].scope_held(WS, "T1/channel/C1")
    assert 0.1 < left <= 0.3
    assert await pair[1].scope_held(WS, "T1/channel/C2") == 0.0
    await asyncio.sleep(left + 0.05)  # the hold's own expiry is what is tested
    assert await pair[0].scope_held(WS, "T1/channel/C1") == 0.0


# -- ended forms owed to their messages ---------------------------------------------------------


async def test_an_owed_final_form_goes_to_one_process_at_a_time_until_settled(
    pair: list[Store],
) -> None:
    one, two = pair
    await one.owe_final_form(WS, "w1", 0.0)
    await one.owe_final_form(WS, "w2", 3600.0)  # a try is under way elsewhere: not yet anyone's
    assert await one.take_owed_forms(hold=3600.0) == [(WS, "w1")]
    assert await two.take_owed_forms(hold=3600.0) == []  # held by the first taker
    await two.owe_final_form(WS, "w1", 0.0)  # Slack said wait no longer: anyone may take it now
    assert await two.take_owed_forms(hold=0.0) == [(WS, "w1")]
    assert await one.take_owed_forms(hold=3600.0) == [(WS, "w1")]  # a hold of 0 ends at once
    await one.settle_final_form(WS, "w1")
    await one.owe_final_form(WS, "w2", 0.0)
    assert await two.take_owed_forms(hold=3600.0) == [(WS, "w2")]
    await two.settle_final_form(WS, "w2")
    await one.owe_final_form(WS, "w3", 0.0)
    await one.settle_final_form(WS, "w3")
    assert await one.take_owed_forms(hold=0.0) == []
    assert await two.take_owed_forms(hold=0.0) == []
