"""Task pages: `TASK_LINK_URL`'s template, both ways (a UID to its page, a pasted page to its UID).

The template is split once at `{uid}` into a fixed head and tail; a URL matches when it starts
with the head and ends with the tail, and what lies between is one explicit UID (the rule of
`bot.reading.parse`). Plain string comparisons: linear in the URL's length, anchored at both
ends, and no regular expression is ever built from the operator's text.
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import quote, unquote

from bot.reading.parse import EXPLICIT_UID

UID_SLOT = "{uid}"
MAX_URL = 3000  # a longer "link" is no task page; Slack's own button/link limit


@dataclass(frozen=True)
class TaskLinks:
    """`https://console.example.com/tasks/{uid}` as a pair of fixed strings."""

    head: str
    tail: str

    @classmethod
    def of(cls, template: str | None) -> TaskLinks | None:
        """None when no template is set (settings already checked it has `{uid}` once)."""
        if not template or template.count(UID_SLOT) != 1:
            return None
        head, tail = template.split(UID_SLOT)
        return cls(head, tail)

    def url_for(self, uid: str) -> str:
        """The page of `uid`, its UID percent-encoded as a path segment."""
        return f"{self.head}{quote(uid, safe='')}{self.tail}"

    def uid_in(self, url: str) -> str | None:
        """The UID of a pasted task page, or None for any other link.

        The scheme and host compare without case (as browsers do); a query or fragment the
        template does not have is ignored, so `.../tasks/abc?tab=pictures` still names `abc`.
        """
        if len(url) > MAX_URL:
            return None
        url = _without_extras(url, self.head + self.tail)
        head = _folded_authority(self.head)
        if not _folded_authority(url).startswith(head) or not url.endswith(self.tail):
            return None
        middle = url[len(head) : len(url) - len(self.tail)]
        if len(head) + len(self.tail) > len(url) or not middle:
            return None
        uid = unquote(middle)
        return uid if EXPLICIT_UID.fullmatch(uid) else None


def _without_extras(url: str, template: str) -> str:
    """The URL without the fragment, and without the query unless the template has one."""
    if "#" not in template:
        url = url.partition("#")[0]
    if "?" not in template:
        url = url.partition("?")[0]
    return url


def _folded_authority(url: str) -> str:
    """Scheme and host in lower case, the rest as it is (paths are case-sensitive)."""
    scheme, sep, rest = url.partition("://")
    if not sep:
        return url
    host_end = len(rest)
    for mark in "/?#":
        at = rest.find(mark)
        if at != -1:
            host_end = min(host_end, at)
    return f"{scheme.lower()}://{rest[:host_end].lower()}{rest[host_end:]}"
