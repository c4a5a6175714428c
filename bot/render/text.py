"""Escaping and links for mrkdwn: every outside text passes through here before Slack sees it."""

from __future__ import annotations

import re
from urllib.parse import urlsplit

MAX_URL = 3000
MAX_LINK = 2400  # a link must fit a 3,000-character section with room to spare
_PREVIEW_EXTENSIONS = (".png", ".jpg", ".jpeg", ".gif")
_NO_PREVIEW_EXTENSIONS = (".webp", ".svg", ".tif", ".tiff", ".bmp", ".heic", ".avif")
_UNSAFE_URL = re.compile(r"[\s\x00-\x1f\x7f]")


def escape(text: str) -> str:
    """Slack's three control characters; with `verbatim` text objects nothing else is parsed."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def clip(text: str, limit: int) -> str:
    """At most `limit` characters, cut with an ellipsis. Cut before escaping, never after."""
    return text if len(text) <= limit else text[: max(limit - 1, 0)] + "…"


def one_line(text: str) -> str:
    return " ".join(text.split())


def code(text: str) -> str:
    """Inline code for a UID-like token; backticks inside would end the span, so they go."""
    return f"`{escape(text.replace('`', 'ˋ'))}`"


def is_linkable(url: str) -> bool:
    return http_path(url) is not None


# What `urlsplit` makes of the common case, an http(s) URL with a plain ASCII host: the host
# runs to the first "/", "?" or "#", the path on to the first "?" or "#". Anything else (no
# host, brackets, a non-ASCII host) is left to `urlsplit`, which checks it.
_PLAIN_HTTP = re.compile(r"(?i:https?)://([^/?#\[\]]+)(?=[/?#]|\Z)([^?#]*)")


def http_path(url: str) -> str | None:
    """The path of a safe http(s) URL (as `urlsplit` finds it), else None.

    Checked for every picture of every answer; the common case skips `urlsplit`.
    """
    if len(url) > MAX_URL or _UNSAFE_URL.search(url):
        return None
    plain = _PLAIN_HTTP.match(url)
    if plain is not None and plain.group(1).isascii():
        return plain.group(2)
    try:
        parts = urlsplit(url)
    except ValueError:
        return None
    return parts.path if parts.scheme.lower() in {"http", "https"} and parts.netloc else None


def is_previewable(url: str) -> bool:
    """Slack fetches previews itself and refuses the whole message if it cannot: be strict."""
    path = http_path(url)
    if path is None:
        return False
    path = path.lower()
    return not path.endswith(_NO_PREVIEW_EXTENSIONS) and (
        path.endswith(_PREVIEW_EXTENSIONS) or "." not in path.rsplit("/", 1)[-1]
    )


def link(url: str, label: str) -> str:
    """`<url|label>` when safe; otherwise the URL shown as escaped text, never as markup."""
    if not is_linkable(url):
        return escape(clip(url, 200))
    safe_url = url.replace("&", "&amp;").replace("<", "%3C").replace(">", "%3E").replace("|", "%7C")
    if len(safe_url) > MAX_LINK:
        return escape(clip(url, 200))
    return f"<{safe_url}|{escape(label)}>"
