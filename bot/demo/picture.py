"""`python -m bot.demo.picture FILE.svg`: a picture of a real answer, for the README.

The answer is the bot's own, made on the demo's stage (`/taskstatus ok-1 err-2 slow-3
nope-4`, the first three already moved on); the picture draws its blocks roughly as Slack
lays them out. Emoji become drawn badges, so any SVG renderer shows the same picture
(`convert docs/answer.svg docs/answer.png` makes the PNG the README shows).
"""

from __future__ import annotations

import asyncio
import hashlib
import re
import sys
import textwrap
from typing import Any
from xml.sax.saxutils import escape

from bot.demo.stage import stage
from bot.demo.transcript import plain
from bot.taskapi.fake import FakeTask

WIDTH, LEFT, LINE, WRAP = 720, 76, 22, 74
SANS = "DejaVu Sans, Helvetica, Arial, sans-serif"
MONO = "DejaVu Sans Mono, Menlo, monospace"
# Slack's emoji as badges: colour and a glyph every font has.
BADGES = {
    ":white_check_mark:": ("#2eb67d", "\u2713"),
    ":x:": ("#e01e5a", "\u2715"),
    ":arrows_counterclockwise:": ("#1d9bd1", "\u21bb"),
    ":hourglass_flowing_sand:": ("#ecb22e", "\u2026"),
    ":mag:": ("#868686", "?"),
}
# Each emoji stands for one character while lines are wrapped: a private-use one per badge.
_MARKS = {code: chr(0xE000 + n) for n, code in enumerate(BADGES)}
_BADGE_OF = {mark: BADGES[code] for code, mark in _MARKS.items()}
_INLINE = re.compile("(\\*[^*\\n]+\\*|`[^`\\n]+`|[" + "".join(_MARKS.values()) + "])")


async def answer_blocks() -> list[dict[str, Any]]:
    async with stage() as s:
        s.finished_long_ago("ok-1")
        s.finished_long_ago("err-2", "Error")
        s.api.tasks["slow-3"] = FakeTask("slow-3", "Running", pictures=0, first_seen=-1e9)
        key, _ = await s.command("ok-1 err-2 slow-3 nope-4", user="UADA", channel="CBUILDS")
        await s.wait_for(lambda: s.slack.responses.get(key))
        return list(s.slack.responses[key][0]["blocks"])


def svg(blocks: list[dict[str, Any]]) -> str:
    body: list[str] = []
    y = 40
    body.append(f'<rect x="16" y="{y - 16}" width="44" height="44" rx="8" fill="#4a154b"/>')
    body.append(_text(28, y + 12, "TS", fill="#fff", weight="bold"))
    body.append(_text(LEFT, y, "Task Status", weight="bold"))
    body.append(f'<rect x="{LEFT + 100}" y="{y - 12}" width="34" height="16" rx="3" fill="#ddd"/>')
    body.append(_text(LEFT + 104, y, "APP", size=11, fill="#555"))
    y += LINE + 4
    for block in blocks:
        y = _block(block, y, body)
    height = y + 16
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{WIDTH}" height="{height}" '
        f'viewBox="0 0 {WIDTH} {height}">\n'
        f'<rect width="{WIDTH}" height="{height}" fill="#fff"/>\n' + "\n".join(body) + "\n</svg>\n"
    )


def _block(block: dict[str, Any], y: int, body: list[str]) -> int:
    kind = block.get("type")
    if kind == "divider":
        body.append(
            f'<line x1="{LEFT}" y1="{y - 6}" x2="{WIDTH - 24}" y2="{y - 6}" stroke="#ddd"/>'
        )
        return y + 10
    if kind == "actions":
        x = LEFT
        for element in block.get("elements") or []:
            label = str((element.get("text") or {}).get("text", ""))
            width = 16 + 8 * len(label)
            body.append(
                f'<rect x="{x}" y="{y - 14}" width="{width}" height="26" rx="4" fill="#fff" '
                'stroke="#bbb"/>'
            )
            body.append(_text(x + 8, y + 4, label, weight="bold", size=13))
            x += width + 8
        return y + LINE + 10
    if kind == "context":
        words = " ".join(
            plain(str(e.get("text", ""))) for e in block.get("elements") or [] if "text" in e
        )
        return _mrkdwn(words, y, body, size=12, fill="#616061")
    if kind == "section":
        top = y
        y = _mrkdwn(str((block.get("text") or {}).get("text", "")), y, body)
        accessory = block.get("accessory") or {}
        if accessory.get("type") == "image":
            colour = _picture_colour(str(accessory.get("image_url", "")))
            body.append(
                f'<rect x="{WIDTH - 96}" y="{top - 14}" width="72" height="72" rx="6" '
                f'fill="{colour}"/>'
            )
            y = max(y, top + 66)
        return y + 4
    return y


def _mrkdwn(text: str, y: int, body: list[str], size: int = 14, fill: str = "#1d1c1d") -> int:
    for code, mark in _MARKS.items():
        text = text.replace(code, mark)
    for raw in plain(text).splitlines():
        quoted = raw.startswith(">")
        raw = raw.lstrip(">")
        for line in textwrap.wrap(raw, WRAP - (2 if quoted else 0)) or [""]:
            x = LEFT + (12 if quoted else 0)
            if quoted:
                body.append(f'<rect x="{LEFT}" y="{y - 14}" width="4" height="20" fill="#ddd"/>')
            body.append(_inline(x, y, line, size, fill))
            y += LINE
    return y


def _inline(x: int, y: int, line: str, size: int, fill: str) -> str:
    """One line of mrkdwn: *bold*, `code` and emoji, each as its own run of text."""
    spans: list[str] = []
    for part in _INLINE.split(line):
        if not part:
            continue
        if part in _BADGE_OF:
            colour, glyph = _BADGE_OF[part]
            spans.append(f'<tspan fill="{colour}" font-weight="bold">{glyph}</tspan>')
        elif part.startswith("*") and part.endswith("*") and len(part) > 2:
            spans.append(f'<tspan font-weight="bold">{escape(part[1:-1])}</tspan>')
        elif part.startswith("`") and part.endswith("`") and len(part) > 2:
            spans.append(f'<tspan font-family="{MONO}" fill="#e01e5a">{escape(part[1:-1])}</tspan>')
        else:
            spans.append(f"<tspan>{escape(part)}</tspan>")
    return (
        f'<text x="{x}" y="{y}" font-family="{SANS}" font-size="{size}" fill="{fill}" '
        f'xml:space="preserve">{"".join(spans)}</text>'
    )


def _text(x: int, y: int, text: str, **style: Any) -> str:
    size, fill, weight = style.get("size", 14), style.get("fill", "#1d1c1d"), style.get("weight")
    bold = f' font-weight="{weight}"' if weight else ""
    return (
        f'<text x="{x}" y="{y}" font-family="{SANS}" font-size="{size}" fill="{fill}"{bold}>'
        f"{escape(text)}</text>"
    )


def _picture_colour(url: str) -> str:
    """The fake's pictures are one colour, chosen from the task's UID (`fake.solid_png`)."""
    match = re.search(r"/pictures/([^/]+)/", url)
    seed = hashlib.sha256((match.group(1) if match else url).encode()).digest()
    return f"#{seed[0]:02x}{seed[1]:02x}{seed[2]:02x}"


if __name__ == "__main__":
    with open(sys.argv[1], "w", encoding="utf-8") as out:
        out.write(svg(asyncio.run(answer_blocks())))
