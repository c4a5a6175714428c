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
from redis.asyncio.cluster import RedisCluster
from redis.crc import key_slot

from bot.records.follow import Follow
from bot.records.watch import Watch
from bot.store import Store, open_store
from tests.conftest import STORE_KINDS, empty_redis, fresh_store, store_url


@pytest.fixture(params=STORE_KINDS)
async def brief(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Store]:
    """A store that keeps things for one second."""
    opened = await fresh_store(request, tmp_path, 1.0)
    yield opened
    await opened.close()


@pytest.fixture(params=STORE_KINDS)
async def pair(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[list[Store]]:
    """Two connections to one store, as two processes have."""
    first = await fresh_store(request, tmp_path, 3600.0)
    second = await open_store(store_url(request, tmp_path), 3600.0)
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


async def test_a_released_claim_is_first_come_again_for_every_process(pair: list[Store]) -> None:
    """An unfurl that failed gives its claim back: the next caller, on any process, is first;
    the same key of another workspace is untouched."""
    one, two = pair
    assert await one.claim(WS, "unfurl:C1:abc", ttl=1800)
    assert await one.claim("TB", "unfurl:C1:abc", ttl=1800)
    await one.release_claim(WS, "unfurl:C1:abc")
    assert await two.claim(WS, "unfurl:C1:abc", ttl=1800)
    assert not await one.claim(WS, "unfurl:C1:abc", ttl=1800)
    assert not await two.claim("TB", "unfurl:C1:abc", ttl=1800)
    await two.release_claim(WS, "never-claimed")  # nothing to give back: no fault


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
        await raw.sadd("taskstatus:{T1}:open", "lost1")
        await raw.sadd("taskstatus:{index}:workspaces", "T1")
        store = await open_store(redis_url)
        try:
            assert await store.take_leases("me", ttl=5) == []
            assert await raw.smembers("taskstatus:{T1}:open") == set()
            assert await raw.exists("taskstatus:{T1}:lease:lost1") == 0
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


# -- workspaces: each one's state is its own, and goes whole ------------------------------------


async def fill_workspace(store: Store, ws: str) -> Watch:
    """One of everything a workspace keeps; returns its open watch."""
    assert await store.claim(ws, "event:E1")
    await store.put_uids(ws, ["a", "b"])
    assert await store.reserve(ws, "U1", "w-open", 5)
    live = watch(id=f"{ws}-open", team_id=ws, message_key="C1:1.0")
    assert await store.create_watch(live, 60)
    ended = watch(id=f"{ws}-ended", team_id=ws)
    assert await store.create_watch(ended, 60)
    ended.state = "done"
    assert await store.update_watch(ended)
    assert await store.follow(Follow(team_id=ws, channel_id="C1", user_id="U1", since=1.0))
    await store.add(ws, "follow-count:C1", 60)
    assert await store.spend(ws, "edits", 1, 60.0)
    await store.pause_team(ws, 60.0)
    await store.hold_scope(ws, f"{ws}/channel/C1", 60.0)
    await store.owe_final_form(ws, ended.id, 0.0)
    return live


async def test_one_workspace_sees_nothing_of_another(store: Store) -> None:
    """The same names in two workspaces are two things: a claim, a UID set, a watch, a
    message's one open watch, a person's slots, a budget, a counter, a hold, a follow."""
    key = await store.put_uids("TA", ["a", "b"])
    assert await store.get_uids("TB", key) is None
    assert await store.claim("TA", "event:E1")
    assert await store.claim("TB", "event:E1")  # B's own first delivery
    a = watch(team_id="TA", message_key="C1:1.0")
    assert await store.create_watch(a, 60)
    assert await store.get_watch("TB", a.id) is None
    assert await store.open_watches("TB") == []
    assert await store.create_watch(watch(team_id="TB", message_key="C1:1.0"), 60)
    assert [w.id for w in await store.open_watches("TA")] == [a.id]
    assert await store.reserve("TA", "U1", "t1", limit=1)
    assert await store.reserve("TB", "U1", "t2", limit=1)  # B's U1 has slots of its own
    assert await store.spend("TA", "edits", 1, 60.0)
    assert not await store.spend("TA", "edits", 1, 60.0)
    assert await store.spend("TB", "edits", 1, 60.0)  # A's busy watches spend none of B's
    assert await store.add("TA", "follow-count:C1", 60, 5) == 5
    assert await store.add("TB", "follow-count:C1", 60, 0) == 0
    await store.hold_scope("TA", "method/chat.update", 60.0)
    assert await store.scope_held("TB", "method/chat.update") == 0.0
    await store.pause_team("TA", 60.0)
    assert await store.paused_teams(["TA", "TB"]) == {"TA"}
    assert await store.follow(Follow(team_id="TA", channel_id="C1", user_id="U1", since=1.0))
    assert await store.get_follow("TB", "C1") is None
    assert await store.unfollow("TB", "C1") is None
    assert await store.set_follow_mode("TB", "C1", "errors") is None


async def test_a_watch_read_under_another_workspace_cannot_be_changed_there(store: Store) -> None:
    """A compare-and-set goes to the watch's own workspace, whatever id it names."""
    a = watch(team_id="TA")
    assert await store.create_watch(a, 60)
    forged = a.model_copy(update={"workspace": "TB", "state": "done"})
    assert not await store.update_watch(forged)
    stored = await store.get_watch("TA", a.id)
    assert stored is not None
    assert stored.state == "active"


async def test_deleting_a_workspace_removes_all_of_it_and_nothing_else(store: Store) -> None:
    gone = await fill_workspace(store, "TA")
    kept = await fill_workspace(store, "TB")
    before = await store.size()
    removed = await store.delete_workspace("TA")
    assert removed >= 8
    assert await store.size() <= before - 8
    assert await store.get_watch("TA", gone.id) is None
    assert await store.get_watch("TA", "TA-ended") is None
    assert await store.open_watches("TA") == []
    assert await store.follows("TA") == []
    assert await store.claim("TA", "event:E1")  # its claims went too
    assert await store.add("TA", "follow-count:C1", 60, 0) == 0
    assert await store.scope_held("TA", "TA/channel/C1") == 0.0
    assert await store.paused_teams(["TA", "TB"]) == {"TB"}
    assert await store.spend("TA", "edits", 1, 60.0)
    assert await store.reserve("TA", "U1", "again", limit=1)
    assert {w.id for w in await store.take_leases("me", ttl=5)} == {kept.id}
    assert await store.take_owed_forms(hold=60.0) == [("TB", "TB-ended")]
    # What B keeps is all there.
    assert [f.channel_id for f in await store.follows("TB")] == ["C1"]
    assert not await store.claim("TB", "event:E1")
    assert await store.get_watch("TB", "TB-ended") is not None
    assert await store.delete_workspace("TZ") == 0  # nothing there: nothing goes


async def test_a_deleted_workspaces_watch_cannot_be_written_back(store: Store) -> None:
    """The process that held its lease keeps a copy: its next compare-and-set fails, so a
    deleted workspace's watch never comes back (nor does its message's open watch)."""
    live = await fill_workspace(store, "TA")
    [held] = await store.take_leases("owner", ttl=60)
    await store.delete_workspace("TA")
    held.age = 30.0
    assert not await store.update_watch(held)
    held.state = "done"
    assert not await store.update_watch(held)
    assert await store.get_watch("TA", live.id) is None
    assert await store.take_leases("owner", ttl=60) == []


async def test_leases_cover_every_workspace(pair: list[Store]) -> None:
    one, two = pair
    ids = set()
    for ws in ("TA", "TB", "TC"):
        w = watch(team_id=ws)
        assert await one.create_watch(w, 60)
        ids.add(w.id)
    assert {w.id for w in await one.take_leases("one", ttl=60)} == ids
    assert {w.workspace for w in await one.take_leases("one", ttl=60)} == {"TA", "TB", "TC"}
    assert await two.take_leases("two", ttl=60) == []
    await one.release_leases("one")
    assert {w.id for w in await two.take_leases("two", ttl=60)} == ids


async def test_owed_forms_name_their_workspace(store: Store) -> None:
    await store.owe_final_form("TA", "w1", 0.0)
    await store.owe_final_form("TB", "w1", 0.0)
    assert sorted(await store.take_owed_forms(hold=60.0)) == [("TA", "w1"), ("TB", "w1")]
    await store.settle_final_form("TA", "w1")
    assert await store.take_owed_forms(hold=0.0) == []  # B's is still held
    await store.owe_final_form("TB", "w1", 0.0)
    assert await store.take_owed_forms(hold=0.0) == [("TB", "w1")]


async def test_a_workspace_left_idle_leaves_the_index_and_comes_back(store: Store) -> None:
    """Retention drops a workspace with nothing open from what the fleet iterates; a new
    watch there is found again."""
    w = watch(team_id="TA")
    assert await store.create_watch(w, 60)
    w.state = "done"
    assert await store.update_watch(w)
    await store.purge()
    again = watch(team_id="TA")
    assert await store.create_watch(again, 60)
    assert [x.id for x in await store.take_leases("me", ttl=5)] == [again.id]


@pytest.mark.parametrize("kind", ["redis", "cluster"])
async def test_redis_keys_of_a_workspace_share_its_hash_tag(
    request: pytest.FixtureRequest, kind: str
) -> None:
    """Every key of a workspace is `taskstatus:{ws}:...`, so on a cluster each lives in its
    workspace's one slot; only the index of workspaces is outside."""
    url = str(request.getfixturevalue("redis_url" if kind == "redis" else "redis_cluster_url"))
    await empty_redis(url)
    store = await open_store(url)
    try:
        await fill_workspace(store, "TA")
        await store.update_watch_durably(watch(team_id="TA", id="none"))  # refused, no key
        raw = (
            RedisCluster.from_url(url.replace("+cluster", "", 1))
            if kind == "cluster"
            else aioredis.from_url(url)
        )
        async with raw:
            keys = sorted([k.decode() async for k in raw.scan_iter(count=1000)])
    finally:
        await store.close()
    assert "taskstatus:{index}:workspaces" in keys
    own = [k for k in keys if k != "taskstatus:{index}:workspaces"]
    assert len(own) >= 10
    assert all(k.startswith("taskstatus:{TA}:") for k in own), own
    assert len({key_slot(k.encode()) for k in own}) == 1


# -- a file or a Redis written before workspaces ----------------------------------------------

BEFORE_WORKSPACES = [
    "CREATE TABLE claims (key TEXT PRIMARY KEY, expires_at REAL NOT NULL)",
    "CREATE TABLE uid_sets (key TEXT PRIMARY KEY, uids TEXT NOT NULL, expires_at REAL)",
    "CREATE TABLE watches (id TEXT PRIMARY KEY, state TEXT NOT NULL, data TEXT NOT NULL,"
    " version INTEGER NOT NULL DEFAULT 0, is_open INTEGER, owner TEXT NOT NULL DEFAULT '',"
    " lease_until REAL NOT NULL DEFAULT 0, message_key TEXT NOT NULL DEFAULT '',"
    " updated_at REAL NOT NULL DEFAULT 0)",
    "CREATE TABLE slots (token TEXT PRIMARY KEY, user_id TEXT NOT NULL, expires_at REAL NOT NULL)",
    "CREATE TABLE pauses (team TEXT PRIMARY KEY, until REAL NOT NULL)",
    "CREATE TABLE budgets (name TEXT PRIMARY KEY, used INTEGER NOT NULL, expires_at REAL NOT NULL)",
    "CREATE TABLE follows (team_id TEXT NOT NULL, channel_id TEXT NOT NULL, data TEXT NOT NULL,"
    " PRIMARY KEY (team_id, channel_id))",
    "CREATE TABLE counters (key TEXT PRIMARY KEY, value INTEGER NOT NULL, expires_at REAL NOT NULL)",
    "CREATE TABLE owed_forms (id TEXT PRIMARY KEY, due REAL NOT NULL)",
]
OLD_WATCH = {**LEGACY, "id": "old9", "team_id": "T9", "message_key": "C1:9.0"}
OLD_FOLLOW = Follow(team_id="T9", channel_id="C7", user_id="U1", since=1.0)
OLD_UIDS = ["a", "b"]


async def test_a_sqlite_file_from_before_workspaces_keeps_its_state(tmp_path: Path) -> None:
    import aiosqlite

    from bot.store.base import uid_set_key

    path = tmp_path / "old.sqlite3"
    far = 4_000_000_000.0
    async with aiosqlite.connect(path) as db:
        for statement in BEFORE_WORKSPACES:
            await db.execute(statement)
        await db.execute(
            "INSERT INTO watches (id, state, data, version, is_open, message_key)"
            " VALUES ('old9', 'active', ?, 1, 1, 'C1:9.0')",
            (json.dumps(OLD_WATCH),),
        )
        await db.execute("INSERT INTO slots VALUES ('old9', 'U1', ?)", (far,))
        await db.execute("INSERT INTO owed_forms VALUES ('old9', 0)")
        await db.execute(
            "INSERT INTO follows VALUES ('T9', 'C7', ?)", (OLD_FOLLOW.model_dump_json(),)
        )
        await db.execute("INSERT INTO claims VALUES ('event:E1', ?)", (far,))
        await db.execute(
            "INSERT INTO uid_sets VALUES (?, ?, ?)",
            (uid_set_key(OLD_UIDS), json.dumps(OLD_UIDS), far),
        )
        await db.execute("INSERT INTO counters VALUES ('home-seen:U1', 1, ?)", (far,))
        await db.commit()
    await keeps_the_old_state(f"sqlite:///{path}")


async def test_a_redis_from_before_workspaces_keeps_its_state(redis_url: str) -> None:
    from bot.store.base import uid_set_key

    async with aioredis.from_url(redis_url) as raw:
        await raw.flushdb()
        await raw.hset("taskstatus:watch:old9", mapping={"v": 1, "d": json.dumps(OLD_WATCH)})
        await raw.sadd("taskstatus:watches:open", "old9")
        await raw.set("taskstatus:msg:C1:9.0", "old9")
        await raw.zadd("taskstatus:owed-forms", {"old9": 0})
        await raw.hset("taskstatus:follows:T9", "C7", OLD_FOLLOW.model_dump_json())
        await raw.set("taskstatus:claim:event:E1", "1", ex=600)
        await raw.set(f"taskstatus:uids:{uid_set_key(OLD_UIDS)}", json.dumps(OLD_UIDS), ex=600)
        await raw.set("taskstatus:count:home-seen:U1", 1, ex=600)
        await keeps_the_old_state(redis_url)
        assert [k async for k in raw.scan_iter(match="taskstatus:[^{]*")] == []


async def keeps_the_old_state(url: str) -> None:
    """Watches and follows go to their team's workspace; what named no team (claims, UID
    sets, Home's seen marks) to the one workspace the store knew."""
    from bot.store.base import uid_set_key

    store = await open_store(url)
    try:
        [taken] = await store.take_leases("me", ttl=5)
        assert (taken.id, taken.workspace) == ("old9", "T9")
        assert await store.update_watch(taken)
        assert not await store.create_watch(watch(team_id="T9", message_key="C1:9.0"), 60)
        assert await store.take_owed_forms(hold=60.0) == [("T9", "old9")]
        assert await store.follows("T9") == [OLD_FOLLOW]
        assert await store.get_uids("T9", uid_set_key(OLD_UIDS)) == OLD_UIDS
        assert not await store.claim("T9", "event:E1")
        assert await store.add("T9", "home-seen:U1", 60, 0) == 1
    finally:
        await store.close()


async def test_a_durable_write_is_a_compare_and_set_in_its_workspace(store: Store) -> None:
    """On a cluster the replication check and the write go to the watch's own node."""
    w = watch(team_id="TA", state="notifying")
    assert await store.create_watch(w, 60)
    stale = w.model_copy()
    assert await store.update_watch_durably(w) in ("durable", "unconfirmed")
    assert w.version == 2
    assert await store.update_watch_durably(stale) == "lost"
    stored = await store.get_watch("TA", w.id)
    assert stored is not None
    assert (stored.state, stored.version) == ("notifying", 2)
