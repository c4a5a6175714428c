"""When a completion notice must be looked for before it is sent, and how Slack's refusals
are sorted for the state machine: pure rules, no servers."""

from __future__ import annotations

import pytest
from slack_sdk.errors import SlackApiError
from slack_sdk.web.slack_response import SlackResponse

from bot.slack.delivery.live import trouble
from bot.watch.notice_guard import NoticeGuard
from bot.watch.publisher import NoticePage


def test_a_watch_finished_here_needs_no_search() -> None:
    guard = NoticeGuard()
    guard.finished("w", "unconfirmed", taken_over=False)
    assert not guard.must_search("w")
    assert guard.may_lose_writes


def test_a_takeover_searches_unless_the_store_keeps_its_writes() -> None:
    guard = NoticeGuard()
    guard.finished("w1", "unconfirmed", taken_over=True)
    assert guard.must_search("w1")
    guard.finished("w2", "durable", taken_over=True)
    assert not guard.must_search("w2")
    assert not guard.may_lose_writes


def test_a_notifying_watch_from_elsewhere_is_searched() -> None:
    assert NoticeGuard().must_search("w")


def test_a_post_whose_answer_was_lost_is_searched_for() -> None:
    guard = NoticeGuard()
    guard.finished("w", "durable", taken_over=False)
    guard.posting("w")
    assert guard.must_search("w")
    guard.not_sent("w")  # Slack answered: it took nothing
    assert not guard.must_search("w")


def test_a_search_goes_on_where_it_paused_and_ends_clean() -> None:
    guard = NoticeGuard()
    guard.searched("w", NoticePage(found=False, cursor="200"))
    assert (guard.cursor("w"), guard.must_search("w")) == ("200", True)
    guard.searched("w", NoticePage(found=False))
    assert (guard.cursor("w"), guard.must_search("w")) == (None, False)


def test_a_notice_found_or_posted_is_remembered_within_bounds() -> None:
    guard = NoticeGuard(kept=2)
    guard.searched("a", NoticePage(found=True))
    guard.posted("b")
    guard.posted("c")
    assert [guard.was_posted(i) for i in "abc"] == [False, True, True]


def test_watches_no_longer_held_are_forgotten_but_their_notices_are_not() -> None:
    guard = NoticeGuard()
    guard.finished("kept", "durable", taken_over=False)
    guard.finished("gone", "durable", taken_over=False)
    guard.searched("paused", NoticePage(found=False, cursor="1"))
    guard.posted("sent")
    guard.forget({"kept"})
    assert not guard.must_search("kept")
    assert guard.must_search("gone")
    assert guard.cursor("paused") is None
    assert guard.was_posted("sent")


def _error(error: str, status: int = 200, **headers: str) -> SlackApiError:
    response = SlackResponse(
        client=None,
        http_verb="POST",
        api_url="https://slack.com/api/chat.postMessage",
        req_args={},
        data={"ok": False, "error": error},
        headers=headers,
        status_code=status,
    )
    return SlackApiError("refused", response)  # type: ignore[no-untyped-call]


@pytest.mark.parametrize(
    ("exc", "kind", "maybe_sent", "retry_after"),
    [
        (_error("ratelimited", 429, **{"Retry-After": "7"}), "wait", False, 7.0),
        (_error("rate_limited", 200), "wait", False, 0.0),
        (_error("internal_error", 500), "wait", True, 0.0),
        (_error("fatal_error", 200), "wait", False, 0.0),
        (_error("service_unavailable", 503), "wait", True, 0.0),
        (_error("anything", 502), "wait", True, 0.0),
        (_error("channel_not_found"), "never", False, 0.0),
        (_error("is_archived"), "never", False, 0.0),
        (_error("not_in_channel"), "never", False, 0.0),
        (_error("invalid_arguments"), "fault", False, 0.0),
        (ConnectionResetError(), "wait", True, 0.0),
        (TimeoutError(), "wait", True, 0.0),
    ],
)
def test_slack_refusals_are_sorted(
    exc: BaseException, kind: str, maybe_sent: bool, retry_after: float
) -> None:
    sorted_ = trouble(exc)
    assert (sorted_.kind, sorted_.maybe_sent, sorted_.retry_after) == (
        kind,
        maybe_sent,
        retry_after,
    )


def test_a_bad_retry_after_is_no_wait_at_all() -> None:
    assert trouble(_error("ratelimited", 429, **{"Retry-After": "soon"})).retry_after == 0.0
