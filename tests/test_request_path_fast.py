"""The quick paths of a slash command's way through the bot do exactly what the general
ones they stand in for do: same results, same refusals, same messages."""

from __future__ import annotations

from urllib.parse import parse_qsl, urlencode

from hypothesis import given, settings
from hypothesis import strategies as st

from bot.slack.request_body import MAX_FORM_FIELDS, Malformed, _form


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
    for text in ["a", "a=1&", "&a=1", "a=1&&b=2", "=", "a=%FF", "a=%C3", "a=1&a=2", "a+b=c+d%2B"]:
        assert outcome(_form, text) == outcome(form_by_parse_qsl, text), text
    limit = "&".join([f"a{n}=1" for n in range(MAX_FORM_FIELDS)])
    assert len(_form(limit)) == MAX_FORM_FIELDS
    assert outcome(_form, limit + "&z=1") == ("refused", "form is not url-encoded fields")
