"""Task UIDs from what people type or post. Pure functions, no I/O.

Two readers, because people write two ways:

- **Commands** (`/taskstatus ...`, `@bot UID ...`): every token is meant as a UID, so each
  one is either looked up or named back. Wrappers are removed only when they wrap a token as
  a matching pair (`` `a-1` ``, `*a-1*`, `"a-1"`, `(a-1)`); `_` is never a wrapper here, since
  Slack does not render formatting in commands and UIDs may begin or end with it.
- **Free text** (messages under a shortcut, mentions written as sentences, followed
  channels): only what is clearly a UID is taken: UUIDs, words in `code` spans and code
  blocks, values after a `TaskUid:` / `uid =` / `task:` label however formatted, and links to
  task pages. Ordinary words and prose numbers ("Task 2 of the banner set") are never taken.
  Here the text is mrkdwn, so `_x_` is italic x, as the reader sees it.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal
from urllib.parse import parse_qsl, unquote, urlsplit

from bot.reading.payload_text import message_texts

__all__ = [
    "EXPLICIT_UID",
    "MAX_MESSAGE_TEXT",
    "MAX_TEXT",
    "MAX_UID_LENGTH",
    "Command",
    "find_uids",
    "message_texts",
    "message_uids",
    "parse_command",
    "parse_mention",
    "split_valid",
    "strip_pairs",
]

MAX_UID_LENGTH = 128
# Reading is linear in the text, and the cap bounds it: the time a message can hold the event
# loop. Slack cuts a message's `text` at 40,000 characters (chat.postMessage: "truncated
# after 40,000 characters"), so no one text read here is longer; a longer one (only a forged
# or future payload) is cut at its last space before the cap, so no word is read in part.
MAX_TEXT = 40_000
# All the texts of one message together: its `text` and the rich_text copy of it Slack sends
# in `blocks`; texts beyond (more blocks or attachments) are not read.
MAX_MESSAGE_TEXT = 2 * MAX_TEXT
# Values read after a label's first (`uid: a-1 a-2 ...`): the chain stops there, so 13,000
# `a1 ` after a label cost as little as 2,000. Twice the most any caller uses (500 watched,
# 200 looked up), so a list with each UID written twice is still read far enough.
MAX_CHAIN_VALUES = 2_000
# Letters, digits, `-` and `_`, with at least one letter or digit (a lone `_` is no UID).
EXPLICIT_UID = re.compile(rf"(?=[A-Za-z0-9_-]*[A-Za-z0-9])[A-Za-z0-9_-]{{1,{MAX_UID_LENGTH}}}")
_SEPARATORS = re.compile(r"[\s,;]+")
_CODE_ITEMS = re.compile(r"[,;]")
_MENTION = re.compile(r"<@[A-Z0-9]+(?:\|[^<>]*)?>")  # `[^<>]`: no scan past the next `<`
_LINK_LABEL = re.compile(r"<([^<>|\s]+)\|[^<>]*>")
# What people add around a mention's UIDs, never meant as one: `:pray:`, `:+1::skin-tone-2:`,
# `<#C1>`, `<!here>` (`<@U1>` is gone already).
_DECORATION = re.compile(r"(?::[a-z0-9_+'-]+:)+|<[#!][^<>]*>", re.IGNORECASE)
_SLACK_REFERENCE = re.compile(r"<[@#!][^<>]*>")  # a user, channel, group, date: never a task
_HELP_WORDS = frozenset({"help", "?", "-h", "--help"})
_ONE_WORD_ACTIONS = _HELP_WORDS | {"watch"}
_COMMAND_PAIRS = {
    "`": "`",
    "*": "*",
    "~": "~",
    "'": "'",
    '"': '"',
    "“": "”",
    "‘": "’",
    "(": ")",
    "[": "]",
    "{": "}",
}
_MRKDWN_PAIRS = {**_COMMAND_PAIRS, "_": "_"}
_DIGIT = re.compile(r"[0-9]")
_BARE_ID = re.compile(r"(?=.*[A-Za-z])(?=.*\d)[A-Za-z0-9]+(?:[-_][A-Za-z0-9]+)+")
_WORD = re.compile(r"(?:[^\W\d_]|['’])+[.,!?:;…]*")  # "check", "me?", "thanks!", "I'm", "prüfe"
_LETTER = re.compile(r"[A-Za-z]")
_LETTER_OR_DIGIT = re.compile(r"[A-Za-z0-9]")

_UUID = r"[0-9A-Fa-f]{8}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{12}"
_LABEL = r"task[ _-]?uids?|taskuids?|task[ _-]?ids?|uids?|tasks?"
_STRONG_LABEL = re.compile(r"(?:task[ _-]?)?(?:uid|id)s?", re.IGNORECASE)
_URL_LABEL = re.compile(rf"(?:{_LABEL}|id)", re.IGNORECASE)
# A value, maybe in bold/italic/strike, that is a whole word: not the `v1` of `v1.2.3`, the
# `2024-05-01T10` of a timestamp, the `12` of `12ü` nor the `tsk-1` of `tsk-1.png`.
# It reads every text as `[*_~]*[A-Za-z0-9_-]++[*_~]*(?![.:/@]?\w)` did, in linear time:
# there, the first two runs both took `_`, so `uid: ` + 40,000 `_` + `.a` tried every split
# of the run before failing (quadratic: tens of seconds). Here no two runs that can take the
# same character meet before the lookahead. First branch: the word starts at the first
# letter, digit or `-` after the marks. Second, only when the first fails: marks alone, up
# to the last place the lookahead allows, at least to the end of their first `_` run (a `-`
# right after that run would have been read as part of the word, which failed).
_WORDISH = (
    r"(?:[*_~]*+[A-Za-z0-9-][A-Za-z0-9_-]*+[*_~]*"
    r"|[*~]*+_++(?:[*~][*_~]*|(?!-)))"
    r"(?![.:/@]?\w)"
)
_SCAN = re.compile(
    r"```(?P<block>.*?)```"
    r"|`(?P<code>[^`]+)`"
    r"|<(?P<angle>[^<>]*)>"
    r"|(?P<url>https?://[^\s<>|`]+)"
    # A UUID, with the prefix it may carry (`job_<uuid>`, `tsk-<uuid>`): the whole word is
    # the UID. `_` is only a word's edge when no letter or digit is beside it (`_<uuid>_`).
    rf"|(?<![0-9A-Za-z-])(?<![0-9A-Za-z]_)(?P<uuid>(?:[A-Za-z0-9]+[_-])*{_UUID})"
    r"(?![0-9A-Za-z-])(?!_[0-9A-Za-z])"
    # A label is a word of its own: in `task-7f3a`, `uid_2` or `sub-task 4b`, `task`/`uid` are
    # part of a name (`_` may come before it: `_TaskUid:_` is italic).
    rf"|(?<![A-Za-z0-9-])(?P<label>{_LABEL})(?![A-Za-z0-9_-])"
    # Possessive (`*+`, `?+`): these runs never need to give anything back, and letting
    # them do so made a label followed by 40,000 spaces or stars take minutes.
    r"[*_~]*+[ \t]*+(?:[:=#]|\bis\b)?+(?:[*_~]++(?=\s))?+\s*+"
    rf"(?P<value>{_WORDISH})",
    re.IGNORECASE | re.DOTALL,
)
_MORE = re.compile(rf"[ \t\n,;•·]+(?:(?:and|&amp;)\s+)?({_WORDISH})", re.IGNORECASE)


@dataclass(frozen=True)
class Command:
    """What a slash command or a mention asked for."""

    action: Literal["help", "lookup", "watch"]
    uids: list[str] = field(default_factory=list)
    invalid: list[str] = field(default_factory=list)


def parse_command(text: str) -> Command:
    """`help`, `watch UID...` or `UID...`; UIDs separated by spaces, commas or new lines."""
    text = _capped(text, MAX_TEXT)
    if EXPLICIT_UID.fullmatch(text) and text.lower() not in _ONE_WORD_ACTIONS:
        # The usual command, kept quick: one UID, nothing to split, unwrap or unescape.
        return Command("lookup", [text])
    return _command(text)


def _command(text: str) -> Command:
    """`parse_command`, every step taken (the quick path above must agree with it)."""
    tokens = _command_tokens(text)
    if not tokens or strip_pairs(tokens[0]).lower() in _HELP_WORDS:
        return Command("help")
    action: Literal["lookup", "watch"] = "lookup"
    if strip_pairs(tokens[0]).lower() == "watch":
        action, tokens = "watch", tokens[1:]
    uids, invalid = split_valid(tokens)
    return Command(action, uids, invalid)


def parse_uid_list(text: str) -> tuple[list[str], list[str]]:
    """A list of UIDs and nothing else (a Workflow Builder step's `task_uids`): the explicit
    rules of a command, with no action word; returns (UIDs, tokens that are not UIDs)."""
    return split_valid(_command_tokens(_capped(text, MAX_TEXT)))


def parse_mention(text: str, message: Mapping[str, Any], pattern: str | None = None) -> Command:
    """A mention is a command when no token after `@bot` (and `watch`) is an ordinary word
    (`@bot tsk-1 tsk-2`: each token is looked up or named back); with a word in it, it is a
    sentence, read as free text like a message under the shortcut
    (`@bot can you check `tsk-3b8e70` for me?`), so words are never looked up. A code block
    of UIDs pasted after `@bot` is read the same way. Emoji and channel or `@here`
    references beside the UIDs are neither looked up nor named back.

    `message` is the whole event, so UIDs in its blocks and attachments count too. A sentence
    naming no task comes back as a lookup of nothing.
    """
    text = _capped(text, MAX_TEXT)
    tokens = [t for t in _command_tokens(text) if not _DECORATION.fullmatch(t)]
    if not tokens or strip_pairs(tokens[0]).lower() in _HELP_WORDS:
        return Command("help")
    action: Literal["lookup", "watch"] = "lookup"
    if strip_pairs(tokens[0]).lower() == "watch":
        action, tokens = "watch", tokens[1:]
    tokens = [t for t in tokens if not _is_other_link(t)]
    if tokens and not any(_is_prose_or_code(strip_pairs(t)) for t in tokens):
        uids, invalid = split_valid(tokens)
        return Command(action, uids, invalid)
    found = message_uids(message, pattern)
    if pattern is None:
        found += [t for t in _bare_ids(tokens) if t not in found]
    return Command(action, found)


def _is_other_link(token: str) -> bool:
    """A link beside a mention's UIDs that is no task page (`<https://google.com>`): Slack
    marks up every URL typed or pasted, and a shared log or dashboard is context, never a
    mistyped UID, so it is neither looked up nor named back."""
    bare = strip_pairs(token)
    if bare.startswith("<") and bare.endswith(">"):
        bare = bare[1:-1]
    return bare.lower().startswith(("http://", "https://")) and not _link_uids(bare)


def _bare_ids(tokens: Iterable[str]) -> list[str]:
    """Tokens of a sentence addressed to the bot that only an identifier looks like
    (`@bot check tsk-3b8e70 please`): letters and digits joined by `-` or `_`. A person
    writing to the bot means them; "v2", "2nd" or "Task 2" never qualify."""
    found: dict[str, None] = {}
    for token in tokens:
        bare = strip_pairs(token).rstrip(".,!?:;…")
        if len(bare) <= MAX_UID_LENGTH and _BARE_ID.fullmatch(bare):
            found[bare] = None
    return list(found)


def _is_prose_or_code(token: str) -> bool:
    """An ordinary word, or part of a code span or block around several tokens
    (```` ```a-1\na-2``` ````): either way the mention is read as a message, not a command."""
    return bool(_WORD.fullmatch(token)) or "`" in token


def split_valid(tokens: Iterable[str]) -> tuple[list[str], list[str]]:
    """Valid UIDs (deduplicated, order kept) and the tokens that are not UIDs, as given."""
    uids: dict[str, None] = {}
    invalid: dict[str, None] = {}
    for token in tokens:
        stripped = strip_pairs(token)
        if EXPLICIT_UID.fullmatch(stripped):
            uids[stripped] = None  # pragma: no mutate: an ordered set, the value is never read
        elif found := _link_uids(stripped):
            uids.update(dict.fromkeys(found))
        else:
            invalid[token] = None  # pragma: no mutate: an ordered set, the value is never read
    return list(uids), list(invalid)


def strip_pairs(token: str, pairs: Mapping[str, str] = _COMMAND_PAIRS) -> str:
    """`token` without the wrappers around it: only matching pairs, outermost first."""
    start, end = 0, len(token)  # indices, not slices: 20,000 nested pairs stay linear
    while end - start >= 2 and pairs.get(token[start]) == token[end - 1]:
        start, end = start + 1, end - 1
    return token[start:end]


def _command_tokens(text: str) -> list[str]:
    """Words of a command; a Slack link `<url|text>` is one token, `<url>`.

    Slack sends what was typed as `<`, `>`, `&` escaped (`&lt;`); they are turned back
    before splitting, or the `;` of `&lt;` would part a token (`<a-1>` named back as
    `&lt` and `a-1&gt`).
    """
    text = _LINK_LABEL.sub(r"<\1>", _MENTION.sub(" ", text))
    text = text.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")
    return [t for t in _SEPARATORS.split(text) if t]


def _link_uids(token: str) -> list[str]:
    """The UIDs of a link to a task page given as a command token, bare or as `<url>`."""
    if token.startswith("<") and token.endswith(">"):
        token = token[1:-1]
    return list(_page_uids(token)) if token.lower().startswith(("http://", "https://")) else []


def message_uids(message: Mapping[str, Any], pattern: str | None = None) -> list[str]:
    """The task UIDs a whole Slack message names: its text, blocks and attachments.

    The one entry point for every surface that reads a message (shortcuts, mentions written
    as sentences, followed channels). `pattern` is `TASK_UID_PATTERN`, replacing the rules.
    """
    return find_uids(message_texts(message), pattern)


def find_uids(texts: Iterable[str], pattern: str | None = None) -> list[str]:
    """UIDs named in free text (mrkdwn), deduplicated in order of appearance.

    `pattern` replaces the built-in rules: the first group that matched, else the match.
    """
    found: dict[str, None] = {}
    budget = MAX_MESSAGE_TEXT
    for whole in texts:
        text = _capped(whole, min(MAX_TEXT, budget))
        budget -= len(text)
        for uid in _custom(text, pattern) if pattern else _free_text(text):
            if 0 < len(uid) <= MAX_UID_LENGTH:
                found[uid] = None  # pragma: no mutate: an ordered set, the value is never read
    return list(found)


def _capped(text: str, limit: int) -> str:
    """At most `limit` characters; a word the cut would split is left out whole, so that
    no part of a longer UID (`ab-12` of `ab-1234`, or of `ab-12.5`) is read as one."""
    if len(text) <= limit:
        return text
    head = text[:limit]
    if text[limit].isspace() or head[-1:].isspace():
        return head
    words = head.rsplit(maxsplit=1)  # from the right, in C: no pattern scanning the head
    return words[0] if len(words) == 2 else ""


def _custom(text: str, pattern: str) -> Iterator[str]:
    """Matches of `TASK_UID_PATTERN`, outside Slack's `<@user>`, `<#channel>` and `<!...>`:
    a pattern for IDs such as `[A-Z0-9]{9,}` would otherwise look up the bot's own user ID.

    Each match gives its first group that took part, else the whole match: in
    `TaskUid: (\\S+)|[0-9a-f]{32}` the second branch has no group, and its match counts.
    """
    regex = re.compile(pattern, re.IGNORECASE)
    for match in regex.finditer(_SLACK_REFERENCE.sub(" ", text)):
        uid = next((g for g in match.groups() if g is not None), match.group(0))
        if uid:
            yield uid


def _free_text(text: str) -> Iterator[str]:
    for match in _SCAN.finditer(text):
        kind = match.lastgroup
        if kind in ("block", "code"):
            yield from _code_uids(match.group(kind))
        elif kind == "angle":
            yield from _angle_uids(match.group(kind))
        elif kind == "url":
            yield from _page_uids(match.group(kind).rstrip(".,;:!?)"))
        elif kind == "uuid":
            yield match.group(kind)
        elif kind == "value":
            yield from _labelled_uids(match, text)


def _labelled_uids(match: re.Match[str], text: str) -> Iterator[str]:
    """The value after a label, and more after it while they are UID-shaped (`a-1, a-2`).

    After `uid`/`TaskUid` any value with a digit counts; after the weaker `task` it must also
    hold a letter, so "Task 2 of the banner set" takes nothing.
    """
    strong = bool(_STRONG_LABEL.fullmatch(match.group("label")))
    value = strip_pairs(match.group("value"), _MRKDWN_PAIRS)
    if not (_uid_shaped(value) or (strong and _has_digit_uid(value))):
        return
    yield value
    position = match.end()
    for _ in range(MAX_CHAIN_VALUES):
        if not (more := _MORE.match(text, position)):
            return
        value = strip_pairs(more.group(1), _MRKDWN_PAIRS)
        if not _uid_shaped(value):
            return
        yield value
        position = more.end()


def _code_uids(code: str) -> list[str]:
    """UIDs in a code span or block: a lone word, a list (one a line, or comma-separated),
    or the UID-shaped words of a command or log line (`/taskstatus a-1 a-2`).

    It is a list only when each item is one word: in `could not open file, retrying` the
    comma parts phrases of a log line, whose ordinary words are no UIDs.
    """
    if EXPLICIT_UID.fullmatch(code):  # the usual case, kept quick: one UID in `code`
        return [code]
    if not _LETTER_OR_DIGIT.search(code):  # `*`, `->`: every UID has one; 10,000 such spans
        return []  # fit in a message, so each one must cost little
    items = [i.split() for line in code.splitlines() for i in _CODE_ITEMS.split(line)]
    items = [item for item in items if item]
    if items and strip_pairs(items[0][0]).startswith("/"):
        items[0] = items[0][1:]
    tokens = [strip_pairs(t) for item in items for t in item]
    is_list = all(len(item) <= 1 for item in items)
    pages = [uid for t in tokens for uid in _link_uids(t)]
    if len(tokens) == 1 or is_list:
        return [t for t in tokens if EXPLICIT_UID.fullmatch(t)] + pages
    return [t for t in tokens if _uid_shaped(t)] + pages


def _angle_uids(inner: str) -> Iterator[str]:
    """Slack's `<url|text>`: the task page's UID, then any UID in the text shown."""
    if not inner or inner[0] in "@#!":
        return  # a user, channel or special mention
    url, _, label = inner.partition("|")
    yield from _page_uids(url)
    if label:
        yield from _free_text(label)


def _page_uids(url: str) -> Iterator[str]:
    """`.../tasks/<uid>`, `...?uid=<uid>`, `.../task?id=<uid>`, also in a `#/...` route."""
    try:
        parts = urlsplit(url.replace("&amp;", "&"))
    except ValueError:  # "http://[oops": an unbalanced IPv6 bracket, a link to nothing
        return
    route, _, route_query = parts.fragment.partition("?")
    segments = [unquote(s) for path in (parts.path, route) for s in path.split("/") if s]
    for previous, segment in itertools.pairwise(segments):
        if _URL_LABEL.fullmatch(previous) and previous.lower() != "id" and _has_digit_uid(segment):
            yield segment
    on_task_page = any(_URL_LABEL.fullmatch(s) for s in segments)
    for query in (parts.query, route_query):
        for key, value in parse_qsl(query):
            by_id = key.lower() != "id" or on_task_page
            if _URL_LABEL.fullmatch(key) and by_id and _has_digit_uid(value):
                yield value


def _has_digit_uid(token: str) -> bool:
    return bool(EXPLICIT_UID.fullmatch(token) and _DIGIT.search(token))


def _uid_shaped(token: str) -> bool:
    """Valid, with a letter and a digit: `tsk-1f2e3d`, `ok-1`; not `2`, `v`, nor `2024-05-01`."""
    return _has_digit_uid(token) and bool(_LETTER.search(token))
