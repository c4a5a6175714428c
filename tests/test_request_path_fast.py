"""The quick paths of a slash command's way through the bot do exactly what the general
ones they stand in for do: same results, same refusals, same messages."""

from __future__ import annotations

import json
from typing import Any, cast
from urllib.parse import parse_qsl, unquote, urlencode

import aiohttp
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.reading.parse import _command, parse_command
from bot.slack.basics.payloads import obj, requester_team, text
from bot.slack.delivery.response_url import _allowed, response_url_allowed
from bot.slack.delivery.response_uses import ResponseUrlUses
from bot.slack.front.request_body import MAX_FORM_FIELDS, Malformed, _form, _unquote
from bot.taskapi.client import ClientConfig, Lane, TaskApiClient
from bot.taskapi.models import ListResponse, read_envelope
from bot.taskapi.signing import sign, sign_list_call


def form_by_parse_qsl(text: str) -> dict[str, str]:
    """How a form body was read before: the standard library's reader, strict."""
    if not text:
        raise Malformed("empty body")
    try:
        pairs = parse_qsl(
            text,
            keep_blank_values=True,
            strict_parsing=True,
            errors="strict",
            max_num_fields=MAX_FORM_FIELDS,
        )
    except UnicodeDecodeError:
        raise Malformed("form field is not UTF-8") from None
    except ValueError:
        raise Malformed("form is not url-encoded fields") from None
    form = dict(pairs)
    if len(form) != len(pairs):
        raise Malformed("form repeats a field")
    return form


def outcome(read: object, text: str) -> object:
    try:
        return read(text)  # type: ignore[operator]
    except Malformed as exc:
        return ("refused", str(exc))


# Pieces that make forms hostile: escapes cut short or not UTF-8, `+`, `=` and `&` anywhere.
PIECES = st.sampled_from(
    ["a", "b", "=", "&", "+", "%", "%2", "%2F", "%2f", "%C3%A9", "%C3", "%FF", "%zz", "%00",
     "é", "\ud800", " ", "%26", "%3D", "%2B", "command", "text", "/taskstatus"]
)  # fmt: skip
hostile = st.lists(PIECES, max_size=40).map("".join)
many_fields = st.integers(0, 2 * MAX_FORM_FIELDS).map(lambda n: "&".join(["a=1"] * n))
slack_like = st.dictionaries(
    st.sampled_from(["command", "text", "team_id", "user_id", "response_url", "token", "x y"]),
    st.text(max_size=20),
).map(urlencode)


@settings(max_examples=2000, deadline=None)
@given(st.one_of(hostile, many_fields, slack_like, st.text(max_size=60)))
def test_form_reader_is_parse_qsl(text: str) -> None:
    assert outcome(_form, text) == outcome(form_by_parse_qsl, text)


def test_form_reader_edges() -> None:
    for body in ["a", "a=1&", "&a=1", "a=1&&b=2", "=", "a=%FF", "a=%C3", "a=1&a=2", "a+b=c+d%2B"]:
        assert outcome(_form, body) == outcome(form_by_parse_qsl, body), body
    limit = "&".join([f"a{n}=1" for n in range(MAX_FORM_FIELDS)])
    assert len(_form(limit)) == MAX_FORM_FIELDS
    assert outcome(_form, limit + "&z=1") == ("refused", "form is not url-encoded fields")


def text_by_obj(body: Any, *path: str) -> str:
    """How a field was read before: through `obj`, then the type check."""
    value = obj(body, *path[:-1]).get(path[-1])
    if isinstance(value, bool) or not isinstance(value, str | int | float):
        return ""
    return str(value)


def requester_team_eager(body: dict[str, Any]) -> str | None:
    candidates = (
        text_by_obj(body, "user", "team_id"),
        text_by_obj(body, "event", "user_team"),
        text_by_obj(body, "event", "source_team"),
        text_by_obj(body, "event", "team"),
        text_by_obj(body, "user_team_id"),
        text_by_obj(body, "team_id"),
        text_by_obj(body, "team", "id"),
    )
    return next((team for team in candidates if team), None)


class Text(str):
    """A string subclass: read as text, as `str()` makes it."""


KEY_NAMES = st.sampled_from(["user", "team_id", "event", "user_team", "source_team", "team", "id"])
LEAVES = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.floats(allow_nan=False),
    st.text(max_size=4),
    st.builds(Text, st.text(max_size=4)),
    st.lists(st.integers(), max_size=2),
)
BODIES = st.recursive(
    LEAVES, lambda inner: st.dictionaries(KEY_NAMES, inner, max_size=5), max_leaves=12
)


@settings(max_examples=500, deadline=None)
@given(BODIES, st.lists(KEY_NAMES, min_size=1, max_size=3))
def test_text_reads_as_through_obj(body: Any, path: list[str]) -> None:
    assert text(body, *path) == text_by_obj(body, *path)
    assert type(text(body, *path)) is type(text_by_obj(body, *path))


@settings(max_examples=500, deadline=None)
@given(st.dictionaries(KEY_NAMES, BODIES, max_size=6))
def test_requester_team_is_the_first_named(body: dict[str, Any]) -> None:
    assert requester_team(body) == requester_team_eager(body)


@settings(max_examples=500, deadline=None)
@given(
    st.text(max_size=8),
    st.text(max_size=8),
    st.lists(st.one_of(st.text(max_size=6), st.integers(), st.none()), max_size=4),
    st.text(max_size=8),
    st.text(max_size=8),
)
def test_call_signature_is_sign_of_the_body(
    action: str, public: str, uids: list[Any], request_uuid: str, private: str
) -> None:
    body = {"Action": action, "PublicKey": public, "TaskUIDs": uids, "request_uuid": request_uuid}
    assert sign_list_call(action, public, uids, request_uuid, private) == sign(body, private)
    # Any sequence of UIDs, also one that can be walked only once.
    one_pass = sign_list_call(action, public, iter(uids), request_uuid, private)
    assert one_pass == sign(body, private)


@pytest.mark.parametrize("body", [None, 1, "s", [], {}])
def test_text_without_a_path_fails_as_before(body: Any) -> None:
    with pytest.raises(IndexError):
        text(body)
    with pytest.raises(IndexError):
        text_by_obj(body)


def envelope_outcome(read: Any, raw: bytes) -> object:
    """What reading an answer gives, comparable (`repr`: NaN equals itself there)."""
    try:
        envelope = read(raw)
    except Exception as exc:  # the same kind of failure: the caller maps it to one message
        return ("failed", isinstance(exc, ValueError | TypeError), type(exc) is RecursionError)
    return repr((envelope.model_dump(), [detail.model_dump() for detail in envelope.details()]))


def envelope_by_json_loads(raw: bytes) -> ListResponse:
    return ListResponse.model_validate(json.loads(raw))


json_values = st.recursive(
    st.one_of(
        st.none(),
        st.booleans(),
        st.integers(),
        st.floats(),
        st.text(max_size=6),
        st.sampled_from(["Finished", "Error", "", "0", "12", "-3", "x"]),
    ),
    lambda inner: st.one_of(
        st.lists(inner, max_size=3),
        st.dictionaries(
            st.sampled_from(
                [
                    "RetCode",
                    "Message",
                    "TaskDetailList",
                    "TaskUid",
                    "TaskStatus",
                    "TaskType",
                    "FinalPictureUrls",
                    "TaskErrorMsg",
                    "TaskErrorCode",
                    "Other",
                ]
            ),
            inner,
            max_size=6,
        ),
    ),
    max_leaves=20,
)
answers = st.builds(
    lambda value, ascii_only, mangle: mangle(json.dumps(value, ensure_ascii=ascii_only)),
    json_values,
    st.booleans(),
    st.sampled_from(
        [
            str.encode,
            lambda text: b"\xef\xbb\xbf" + text.encode(),
            lambda text: text.encode("utf-16"),
            lambda text: text.encode("utf-8", "surrogatepass"),
            lambda text: text.encode()[:-1],
            lambda text: text.encode() + b" x",
            lambda text: text.replace("1", "01").encode(),
            lambda text: text.replace(",", ",,").encode(),
            lambda text: text.replace('"', "'").encode(),
            lambda text: text.replace("0", "1e400").encode(),
            lambda text: text.replace("a", "\\ud800").encode(),
        ]
    ),
)
answer_pieces = st.lists(
    st.sampled_from(
        [
            '{"RetCode":',
            "0",
            "-0",
            "1.5",
            "NaN",
            "-Infinity",
            "Infinity",
            ",",
            '"Message":',
            '"TaskDetailList":',
            "[",
            "]",
            "{",
            "}",
            '"TaskUid":"a"',
            "\\u0000",
            "\x01",
            "\xff",
            "true",
            "null",
            " ",
            "9" * 30,
            ".5",
            "1.",
            "1e",
            "+1",
            '"\\ud83d\\ude00"',
        ]
    ),
    max_size=20,
).map(lambda parts: "".join(parts).encode("utf-8", "surrogatepass"))


@settings(max_examples=800, deadline=None)
@given(st.one_of(answers, answer_pieces))
def test_envelope_read_as_json_loads_reads_it(raw: bytes) -> None:
    assert envelope_outcome(read_envelope, raw) == envelope_outcome(envelope_by_json_loads, raw)


def test_envelope_read_edges() -> None:
    for raw in [
        b'{"RetCode":0,"RetCode":1}',
        b'{"RetCode":0,"Message":"\\ud800"}',
        b'\xef\xbb\xbf{"RetCode":0}',
        '{"RetCode":0}'.encode("utf-16"),
        b'{"RetCode":0,"TaskDetailList":[{"TaskUid":"a","x":' + b"1" * 5000 + b"}]}",
        b'{"RetCode":0,"x":' + b"[" * 3000 + b"]" * 3000 + b"}",
        b'{"RetCode":0,"TaskDetailList":[{"TaskUid":"a","TaskUid":"b","TaskErrorCode":NaN}]}',
    ]:
        assert envelope_outcome(read_envelope, raw) == envelope_outcome(envelope_by_json_loads, raw)


@settings(max_examples=800, deadline=None)
@given(
    st.one_of(
        st.from_regex(r"[A-Za-z0-9_-]{0,130}", fullmatch=True),
        st.sampled_from(["help", "HELP", "-h", "--help", "?", "watch", "Watch", "_", "-", "é"]),
        st.text(alphabet="aZ09_-?hHwatc é<@>&;,`*", max_size=12),
    )
)
def test_command_quick_path_is_the_full_reading(text: str) -> None:
    assert parse_command(text) == _command(text)


@settings(max_examples=800, deadline=None)
@given(st.lists(PIECES, max_size=20).map("".join))
def test_unquote_is_the_standard_one(text: str) -> None:
    def strict(read: Any) -> object:
        try:
            return read(text)
        except UnicodeError as exc:
            return type(exc)

    assert strict(_unquote) == strict(lambda value: unquote(value, errors="strict"))


@settings(max_examples=300, deadline=None)
@given(
    st.lists(
        st.tuples(st.sampled_from(["a", "b", "c"]), st.integers(0, 6), st.floats(0, 1000)),
        max_size=30,
    )
)
def test_taking_a_use_is_checking_then_spending(steps: list[tuple[str, int, float]]) -> None:
    now = [0.0]
    ours = ResponseUrlUses(max_urls=2, clock=lambda: now[0])
    before = ResponseUrlUses(max_urls=2, clock=lambda: now[0])
    for url, keep, later in steps:
        now[0] += later
        could = before.left(url) > keep
        if could:
            before.spend(url)
        assert ours.take(url, keep) == could
        assert [ours.used(u) for u in "abc"] == [before.used(u) for u in "abc"]


def next_lane_by_counting(
    limit: int, busy: list[Lane], people_wait: bool, watcher_waits: bool
) -> Lane | None:
    """How the lane to send next was chosen before (see `TaskApiClient`'s docstring)."""
    if len(busy) >= limit:
        return None
    count = dict.fromkeys(Lane, 0)
    for lane in busy:
        count[lane] += 1
    kept = 1 if limit > 1 else 0
    if people_wait and (
        not watcher_waits or count[Lane.WATCH] >= kept or count[Lane.PERSON] < limit - kept
    ):
        return Lane.PERSON
    if watcher_waits and count[Lane.WATCH] < limit - kept:
        return Lane.WATCH
    return None


@settings(max_examples=500, deadline=None)
@given(
    st.integers(1, 6),
    st.lists(st.sampled_from(list(Lane)), max_size=7),
    st.booleans(),
    st.booleans(),
)
def test_next_lane_is_chosen_as_before(
    limit: int, busy: list[Lane], people_wait: bool, watcher_waits: bool
) -> None:
    client = TaskApiClient(
        cast(aiohttp.ClientSession, None),  # never used: no lookup is made
        ClientConfig("http://127.0.0.1:1/", "pub", "priv", concurrency=limit),
    )
    client._batches = {object(): lane for lane in busy}  # type: ignore[misc]
    if people_wait:
        client._queued[Lane.PERSON]["p-1"] = None
    if watcher_waits:
        client._queued[Lane.WATCH]["w-1"] = None
    expected = next_lane_by_counting(limit, busy, people_wait, watcher_waits)
    assert client._next_lane() == expected


API_BASES = [
    "http://127.0.0.1:9000/api/",
    "http://127.0.0.1:9000",
    "http://user:pw@127.0.0.1:9000/api/",
    "http://127.0.0.1:9000?x/",
    "https://slack.com/api/",
    "HTTP://LOCALHOST:80/api/",
    "http://[::1]:8000/a/",
    "http://127.0.0.1:99999/",
    "not a url/",
    "",
]
URL_STARTS = [
    "https://hooks.slack.com/",
    "https://hooks.slack-gov.com/",
    "https://hooks.slack.com:443/",
    "https://HOOKS.slack.com/",
    "http://hooks.slack.com/",
    "https://hooks.slack.com@evil.example/",
    "https://evil.example/",
    *API_BASES,
]
URL_RESTS = st.text(alphabet="aZ09/_.~-?#@:%\\ \t\n[]é", max_size=12)


@settings(max_examples=1500, deadline=None)
@given(st.sampled_from(URL_STARTS), URL_RESTS, st.sampled_from(API_BASES))
def test_response_url_quick_check_is_the_parsed_one(start: str, rest: str, api_base: str) -> None:
    url = start + rest
    assert response_url_allowed(url, api_base) == _allowed.__wrapped__(url, api_base)


def test_response_url_quick_check_edges() -> None:
    api = "http://127.0.0.1:9000/api/"
    assert response_url_allowed("https://hooks.slack.com/commands/T1/2/abc", api)
    assert response_url_allowed("http://127.0.0.1:9000/answer/k-1", api)
    assert not response_url_allowed("http://127.0.0.1:9001/answer/k-1", api)
    assert not response_url_allowed("https://hooks.slack.com@evil.example/x", api)
    assert not response_url_allowed("https://[]@", api)  # yarl's parser fails on it
    assert not response_url_allowed("http://127.0.0.1:9000/" + "a" * 2000, api)
