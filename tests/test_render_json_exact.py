"""The JSON text of answers and the status words of summaries, exactly.

`jsontext.encode` is made once when the module loads, so these tests make the encoder again
(`_measuring_encoder()`) and check the new one: a mistake in how it is made would otherwise
hide behind the one made first. Likewise `summary_of` remembers its answers, so its tests
start from an empty cache.
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from bot.render.jsontext import _measuring_encoder, ascii_json, json_scalar
from bot.render.status import summary_of


@pytest.mark.parametrize(
    ("document", "expected"),
    [
        ({"b": 1, "a": [1, 2.5, None, True, False]}, '{"b": 1, "a": [1, 2.5, null, true, false]}'),
        ({"é": 'x"\\\n\x7f'}, '{"é": "x\\"\\\\\\n\x7f"}'),
        ([[], {}, ""], '[[], {}, ""]'),
        ("<&>", '"<&>"'),
        ({1: 1, None: 2, False: 3, 2.5: 4}, '{"1": 1, "null": 2, "false": 3, "2.5": 4}'),
        (
            [float("nan"), float("inf"), -0.0, 10**20],
            "[NaN, Infinity, -0.0, 100000000000000000000]",
        ),
        ({"k": (1, 2)}, '{"k": [1, 2]}'),
    ],
)
def test_the_encoder_writes_what_json_dumps_writes(document: Any, expected: str) -> None:
    encode = _measuring_encoder()
    assert encode(document) == expected
    assert encode(document) == json.dumps(document, ensure_ascii=False)


def test_a_long_document_comes_out_whole() -> None:
    """Past 100,000 pieces Python 3.11's C encoder hands its text over in more than one part."""
    document = [0] * 100_001
    assert _measuring_encoder()(document) == "[" + ", ".join(["0"] * 100_001) + "]"


@pytest.mark.parametrize(
    ("document", "message"),
    [
        ({(1, 2): 1}, "keys must be str, int, float, bool or None, not tuple"),
        ([object()], "Object of type object is not JSON serializable"),
    ],
)
def test_what_json_refuses_the_encoder_refuses_alike(document: Any, message: str) -> None:
    with pytest.raises(TypeError, match=f"^{message}$"):
        _measuring_encoder()(document)
    with pytest.raises(TypeError, match=f"^{message}$"):
        json.dumps(document, ensure_ascii=False)


def test_no_check_for_circular_documents_is_made() -> None:
    """Blocks are trees, so the encoder skips `json`'s check (it answers ValueError)."""
    loop: list[Any] = []
    loop.append(loop)
    with pytest.raises(ValueError, match=r"^Circular reference detected$"):
        json.dumps(loop, ensure_ascii=False)
    with pytest.raises(RecursionError):
        _measuring_encoder()(loop)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ('{"a": "b"}', b'{"a": "b"}'),
        ('"\x7f"', b'"\\u007f"'),
        ('"é\x7f😀"', b'"\\u00e9\\u007f\\ud83d\\ude00"'),
    ],
)
def test_ascii_json_is_what_ensure_ascii_makes(text: str, expected: bytes) -> None:
    assert ascii_json(text) == expected
    assert ascii_json(text) == json.dumps(json.loads(text)).encode()


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (True, "true"),
        (False, "false"),
        ("", '""'),
        ('é"<\x7f', '"\\u00e9\\"<\\u007f"'),
    ],
)
def test_json_scalar_is_json_dumps(value: str | bool, expected: str) -> None:
    assert json_scalar(value) == expected
    assert json_scalar(value) == json.dumps(value)


@pytest.mark.parametrize(
    ("counted", "total", "expected"),
    [
        ((("Finished", 1),), 1, "1 task: 1 Finished"),
        ((("Running", 2), ("not found", 1)), 3, "3 tasks: 2 Running, 1 not found"),
        ((("a\n  b\t<&>", 2),), 2, "2 tasks: 2 a b &lt;&amp;&gt;"),
        ((("x" * 40, 1),), 1, "1 task: 1 " + "x" * 40),
        ((("x" * 41, 1),), 1, "1 task: 1 " + "x" * 39 + "…"),
        ((("<" * 41, 1),), 1, "1 task: 1 " + "&lt;" * 39 + "…"),
        ((), 0, "No tasks"),
    ],
)
def test_summary_words_are_one_line_clipped_then_escaped(
    counted: tuple[tuple[str, int], ...], total: int, expected: str
) -> None:
    summary_of.cache_clear()
    assert summary_of(counted, total) == expected
