"""The notes about lookup limits and live answers, exactly (the other notes: test_notes_exact)."""

from __future__ import annotations

import pytest

from bot.render.notes import already_live_message, lookup_limit_message, too_old_message
from tests.test_notes_exact import shown


@pytest.mark.parametrize(("wait", "seconds"), [(0.0, 1), (0.4, 1), (1.6, 2), (2.5, 2), (41.0, 41)])
def test_lookup_limit_says_when_to_try_again(wait: float, seconds: int) -> None:
    text = (
        ":hourglass: You have looked up a lot of tasks in the last minute (at most 30 a minute per"
        f" person, so everyone gets quick answers). Try again in {seconds} s."
    )
    assert shown(lookup_limit_message(30, wait)) == (text, text)


def test_already_live() -> None:
    text = (
        ":eyes: This answer is already live: it updates by itself and says in its thread when every"
        " task is done."
    )
    assert shown(already_live_message()) == (text, text)


def test_too_old() -> None:
    text = (
        ":hourglass: This answer is too old to watch: I no longer keep what it was about. Ask again"
        " with `/taskstatus UID`."
    )
    assert shown(too_old_message("watch")) == (text, text)
