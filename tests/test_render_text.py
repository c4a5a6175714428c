"""Escaping, clipping and links: the only way outside text reaches mrkdwn, case by case."""

from __future__ import annotations

import pytest

from bot.render.text import MAX_LINK, MAX_URL, clip, code, escape, is_linkable, is_previewable, link


def test_escape_only_slacks_three_characters() -> None:
    assert escape("a&b<c>d *_~`|") == "a&amp;b&lt;c&gt;d *_~`|"
    assert escape("&lt;") == "&amp;lt;"  # escaped once more, never decoded


@pytest.mark.parametrize(
    ("text", "limit", "clipped"),
    [
        ("abc", 3, "abc"),
        ("abcd", 3, "ab…"),
        ("abc", 1, "…"),
        ("", 1, ""),
        ("abcdef", 4, "abc…"),
    ],
)
def test_clip(text: str, limit: int, clipped: str) -> None:
    assert clip(text, limit) == clipped


def test_code_keeps_the_span_closed_and_escaped() -> None:
    assert code("a-1") == "`a-1`"
    assert code("a`b") == "`aˋb`"
    assert code("<@U1>&") == "`&lt;@U1&gt;&amp;`"


@pytest.mark.parametrize(
    "url",
    [
        "https://x/a.png",
        "http://x",
        "HTTPS://X/A",
        "https://x/" + "a" * (MAX_URL - 10),  # exactly the longest
    ],
)
def test_linkable(url: str) -> None:
    assert is_linkable(url)


@pytest.mark.parametrize(
    "url",
    [
        "https://x/" + "a" * (MAX_URL - 9),  # one too long
        "ftp://x/a.png",
        "javascript:alert(1)",
        "https:///a.png",  # no host
        "https://x/a b.png",
        "https://x/a\tb",
        "https://x/a\x00",
        "https://x/a\x7f",
        "https://[::1/a.png",  # urlsplit refuses it
        "",
    ],
)
def test_not_linkable(url: str) -> None:
    assert not is_linkable(url)
    assert not is_previewable(url)
    assert link(url, "1") == escape(clip(url, 200))


@pytest.mark.parametrize(
    ("url", "previewable"),
    [
        ("https://x/a.png", True),
        ("https://x/a.PNG", True),
        ("https://x/a.jpg", True),
        ("https://x/a.jpeg", True),
        ("https://x/a.gif", True),
        ("https://x/download?id=3.pdf", True),  # the query is not the file name
        ("https://x/dir.v2/picture", True),  # no extension on the file itself
        ("https://x?id=3", True),
        ("https://x/a.webp", False),
        ("https://x/a.WEBP", False),
        ("https://x/a.svg", False),
        ("https://x/a.tif", False),
        ("https://x/a.tiff", False),
        ("https://x/a.bmp", False),
        ("https://x/a.heic", False),
        ("https://x/a.avif", False),
        ("https://x/a.pdf", False),  # Slack would refuse the whole message
        ("https://x/a.html", False),
        ("https://x/a.png.html", False),
        ("https://x/a.webp?x=.png", False),
    ],
)
def test_previewable(url: str, previewable: bool) -> None:
    assert is_previewable(url) is previewable


def test_link_escapes_the_url_and_the_label() -> None:
    assert link("https://a/b?x=1&y=2", "1") == "<https://a/b?x=1&amp;y=2|1>"
    assert link("https://a/b|c>d<e", "l") == "<https://a/b%7Cc%3Ed%3Ce|l>"
    assert link("https://a/b", "<&>") == "<https://a/b|&lt;&amp;&gt;>"


def test_an_over_long_link_is_shown_as_text() -> None:
    fits = "https://x/" + "a" * (MAX_LINK - 10)
    assert link(fits, "1") == f"<{fits}|1>"
    too_long = "https://x/" + "a" * (MAX_LINK - 9)
    assert link(too_long, "1") == too_long[:199] + "…"
    grows = "https://x/?" + "&" * (MAX_LINK // 5)  # each & becomes &amp; in the link
    assert len(grows) <= MAX_LINK
    assert link(grows, "1") == escape(grows[:199] + "…")
