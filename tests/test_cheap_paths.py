"""The shortcuts taken for cost per answer decide exactly as the slower code they spare."""

from __future__ import annotations

import asyncio
import re
from typing import Any
from urllib.parse import urlsplit

from hypothesis import given
from hypothesis import strategies as st
from pydantic import ValidationError

from bot.ops import event_loop
from bot.render.text import MAX_URL, http_path
from bot.slack.basics.values import UidRef, inline_value
from bot.slack.delivery.response_url import response_url_allowed
from bot.slack.front.request_body import _Command, _plain_command

_FIELDS = [*sorted(_Command.model_fields), "extra", "payload", "token"]
_VALUES = st.one_of(
    st.text(max_size=5),
    st.none(),
    st.integers(),
    st.booleans(),
    st.lists(st.text(max_size=3), max_size=2),
    st.dictionaries(st.sampled_from(["id", "name"]), st.text(max_size=3), max_size=2),
)


def _model_accepts(fields: dict[str, Any]) -> bool:
    try:
        _Command.model_validate(fields)
    except ValidationError:
        return False
    return True


@given(st.dictionaries(st.sampled_from(_FIELDS), _VALUES, max_size=8))
def test_a_plain_command_is_one_the_model_accepts(fields: dict[str, Any]) -> None:
    if _plain_command(fields):
        assert _model_accepts(fields)


@given(st.dictionaries(st.sampled_from(_FIELDS), st.text(max_size=5), max_size=8))
def test_a_form_skips_the_model_exactly_when_the_model_accepts_it(fields: dict[str, str]) -> None:
    assert _plain_command(fields) == _model_accepts(fields)


def test_a_form_with_a_field_that_is_never_text_is_left_to_the_model() -> None:
    for name in ("type", "response_urls", "message", "authorizations"):
        assert not _plain_command({"command": "/taskstatus", name: "x"})


@given(st.lists(st.text(max_size=12), max_size=6))
def test_button_values_are_written_as_the_model_writes_them(uids: list[str]) -> None:
    try:
        expected = UidRef(u=uids).model_dump_json(exclude_none=True)
    except ValueError:  # lone surrogates: pydantic refuses them, and UIDs never hold them
        return
    assert inline_value(uids) == expected


def test_the_response_url_check_answers_the_same_when_asked_again() -> None:
    api = "http://127.0.0.1:8000/api/"
    cases = {
        "http://127.0.0.1:8000/hook/1": True,
        "https://hooks.slack.com/commands/T1/2/x": True,
        "http://127.0.0.1:8001/hook/1": False,
        "https://user:pw@hooks.slack.com/commands/T1/2/x": False,
    }
    for _ in range(2):
        for url, allowed in cases.items():
            assert response_url_allowed(url, api) is allowed
    assert response_url_allowed("https://hooks.slack.com/x", "http://[::1") is False


def _split_path(url: str) -> str | None:
    """What `http_path` answered before it had a shortcut: `urlsplit` every time."""
    if len(url) > MAX_URL or re.search(r"[\s\x00-\x1f\x7f]", url):
        return None
    try:
        parts = urlsplit(url)
    except ValueError:
        return None
    return parts.path if parts.scheme.lower() in {"http", "https"} and parts.netloc else None


_URL_PARTS = st.sampled_from(
    [
        *("http", "HTTPS", "ftp", "https", ":", "//", "/", "?", "#", "[", "]", "@", "é", "."),
        *("a", "1", "example.com", "[::1]", "x.png", "%20", " ", "\t", "host:80", "é.com"),
    ]
)


@given(st.lists(_URL_PARTS, max_size=10).map("".join))
def test_picture_urls_are_read_as_urlsplit_reads_them(url: str) -> None:
    assert http_path(url) == _split_path(url)


@given(st.text(max_size=40))
def test_any_text_is_read_as_urlsplit_reads_it(text: str) -> None:
    for url in (text, "http://" + text, "https://h" + text):
        assert http_path(url) == _split_path(url)


def test_the_bot_runs_on_uvloop_where_it_is_installed() -> None:
    async def loop_module() -> str:
        return type(asyncio.get_running_loop()).__module__

    assert event_loop.run(loop_module()).startswith("uvloop")
