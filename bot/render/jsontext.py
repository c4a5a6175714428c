"""JSON text of blocks: made once to measure them, then sent as it is.

An answer's size budget counts each block's JSON (`ensure_ascii=False`); the body posted to a
`response_url` is `json.dumps` of the payload (`ensure_ascii=True`). Both come from the one
encoding here: `encode` measures, and `ascii_json` turns that text into the body's bytes.
"""

from __future__ import annotations

import codecs
import json
from collections.abc import Callable
from functools import cache
from json.encoder import encode_basestring, encode_basestring_ascii
from typing import Any


def _measuring_encoder() -> Callable[[Any], str]:
    """`json.JSONEncoder(ensure_ascii=False).encode`, its C encoder made once, not per call.

    `JSONEncoder.encode` makes a new C encoder for every document, which cost as much as
    encoding a small answer's blocks. This is the one it makes, with the same arguments, made
    once (without the check for circular documents: blocks are trees). Where Python has no
    C encoder, `encode` itself.
    """
    make = getattr(json.encoder, "c_make_encoder", None)
    if make is None:
        return json.JSONEncoder(ensure_ascii=False).encode  # pragma: no mutate (no C encoder)
    # `ensure_ascii=False` is `encode_basestring` here: the encoder gives only its `default`.
    args = (json.JSONEncoder().default, encode_basestring, None, ": ", ", ", False, False, True)
    iterencode = make(None, *args)  # markers, default, encoder, indent, separators, sort, skip, NaN

    def encode(document: Any) -> str:
        return "".join(iterencode(document, 0))

    return encode


encode = _measuring_encoder()
_ESCAPE_RUN = "bot.render.json_escape"  # a codec error handler: see `ascii_json`


def ascii_json(text: str) -> bytes:
    """JSON made with `ensure_ascii=False`, as `ensure_ascii=True` makes it, encoded.

    Outside its strings JSON is plain ASCII, and inside them `ensure_ascii` escapes DEL and
    each character beyond ASCII as `\\uXXXX`: the ASCII codec does the rest at C speed and
    hands each run beyond ASCII to `_escape_run` (a regular expression scan took six times as
    long as encoding the whole answer again).
    """
    text = text.replace("\x7f", "\\u007f")
    if text.isascii():
        return text.encode()  # UTF-8: for ASCII text the same bytes as the ASCII codec makes
    return text.encode("ascii", _escapes())


@cache
def _escapes() -> str:
    """The name of `_escape_run` as a codec error handler, registered on first use."""
    codecs.register_error(_ESCAPE_RUN, _escape_run)
    return _ESCAPE_RUN


def _escape_run(error: UnicodeError) -> tuple[str, int]:
    if not isinstance(error, UnicodeEncodeError):
        raise error
    return encode_basestring_ascii(error.object[error.start : error.end])[1:-1], error.end


def json_scalar(value: str | bool) -> str:
    """`json.dumps(value)` for a text or a boolean (as `ensure_ascii` escapes texts)."""
    if isinstance(value, str):
        return str(encode_basestring_ascii(value))
    return "true" if value else "false"
