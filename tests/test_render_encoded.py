"""`Message.as_json` is the body `json.dumps` made of the payload, byte for byte, for any answer.

The answer's blocks are encoded once (to measure them) and that text is reused for the body
posted to a `response_url`; these tests pin it against `json.dumps` of the reference renderer's
payload, for random answers and for any text at all.
"""

from __future__ import annotations

import json
from typing import Any, Literal

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.render import answer, jsontext
from bot.render.notes import help_message, invalid_uids_message
from bot.taskapi.models import TaskResult
from tests import reference_answer as reference
from tests.test_render_reference import live_kind, pictures, results, user, watch_kind

# Every kind of character JSON treats apart: controls, quotes, backslashes, DEL, beyond
# ASCII, beyond the BMP, lone surrogates.
any_text = st.text(
    alphabet=st.characters(codec=None, categories=None) | st.sampled_from('"\\\x7f\x00\n/'),
    max_size=60,
)
extras = st.sampled_from(
    [
        {},
        {"response_type": "ephemeral"},
        {"response_type": "in_channel", "replace_original": False},
        {"response_type": "ephemeral", "replace_original": True},
        {"replace_original": True, "response_type": 'in "channel" é'},
    ]
)


def bodies(new: answer.Message, old: Any, extra: dict[str, Any]) -> None:
    """The new message's bodies are `json.dumps` of the old one's payloads, continuations too."""
    pairs = list(zip((new, *new.continuations), (old, *old.continuations), strict=True))
    for made, expected in pairs:
        assert made.as_json(**extra) == json.dumps({**expected.as_payload(), **extra}).encode()
        assert made.as_json(**extra) == json.dumps({**made.as_payload(), **extra}).encode()


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(results, st.data(), any_text, st.floats(min_value=0, max_value=4e9), extras)
def test_lookup_bodies_are_the_reference_payloads_encoded(
    found: list[TaskResult],
    data: st.DataObject,
    value: str,
    checked_at: float,
    extra: dict[str, Any],
) -> None:
    no_preview = pictures(found, data)
    new = answer.lookup_message(found, value, checked_at, no_preview)
    bodies(new, reference.lookup_message(found, value, checked_at, no_preview), extra)
    done = answer.completion_message(found, value, no_preview)
    bodies(done, reference.completion_message(found, value, no_preview), extra)


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    results,
    st.data(),
    st.none() | st.tuples(any_text, watch_kind, any_text),
    st.none() | st.tuples(live_kind, any_text, user),
    st.none() | any_text,
    extras,
)
def test_answer_bodies_are_the_reference_payloads_encoded(
    found: list[TaskResult],
    data: st.DataObject,
    buttons: tuple[str, Literal["offer", "live", "none"], str] | None,
    note: tuple[Literal["watching", "retrying", "done", "expired", "stopped"], str, str] | None,
    headline: str | None,
    extra: dict[str, Any],
) -> None:
    no_preview = pictures(found, data)
    kwargs: dict[str, Any] = {"checked_at": 1.8e9, "no_preview": no_preview, "headline": headline}
    new = answer.answer_message(
        found,
        controls=answer.Controls(*buttons) if buttons else None,
        live=answer.LiveNote(*note) if note else None,
        **kwargs,
    )
    old = reference.answer_message(
        found,
        controls=reference.Controls(*buttons) if buttons else None,
        live=reference.LiveNote(*note) if note else None,
        **kwargs,
    )
    bodies(new, old, extra)


documents = st.recursive(
    any_text | st.booleans() | st.none() | st.integers(),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(any_text, inner, max_size=4),
    max_leaves=12,
)


@settings(max_examples=300, deadline=None)
@given(documents)
def test_ascii_json_is_what_ensure_ascii_makes(document: Any) -> None:
    unicode_json = json.JSONEncoder(ensure_ascii=False).encode(document)
    assert jsontext.ascii_json(unicode_json) == json.dumps(document).encode()


def test_messages_made_without_encoded_blocks_are_encoded_whole() -> None:
    extras: list[dict[str, Any]] = [{}, {"response_type": "ephemeral", "replace_original": False}]
    for message in (help_message(), invalid_uids_message(['"é\x7f<>', "x"])):
        for extra in extras:
            assert (
                message.as_json(**extra) == json.dumps({**message.as_payload(), **extra}).encode()
            )


def test_extra_text_or_blocks_replace_the_message_own() -> None:
    message = answer.lookup_message([], '{"u":[]}', 1.8e9)
    assert message.block_jsons is not None
    extras: list[dict[str, Any]] = [
        {"text": "o"},
        {"blocks": []},
        {"response_type": "x", "text": "é"},
    ]
    for extra in extras:
        assert message.as_json(**extra) == json.dumps({**message.as_payload(), **extra}).encode()
