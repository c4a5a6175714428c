"""What this process knows of each completion notice, so Slack is searched only when needed.

Reads of a thread are scarce (about one a minute per workspace for distributed apps outside
the Marketplace), and a notice is posted only after its watch's `notifying` write was made
durable. So a notice can be in Slack without the store saying so only when:

- this process tried to post it and the answer was lost (`unsure`);
- its `notifying` was written elsewhere: by another process, or by this one before a restart;
- the watch was taken over here (or read after a restart) while the store may lose writes
  (no replica acknowledged them): a lost `notifying` and `done` leave an `active` watch
  behind a notice that went out.

Everywhere else the store's word is enough. A notice this process posted is remembered (a
bounded set), so a store rolled back behind it is corrected without a search.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Set

from bot.store.base import Durability
from bot.watch.publisher import NoticePage

POSTED_KEPT = 10_000  # notices remembered; a rollback older than this many is unlikely


class NoticeGuard:
    def __init__(self, kept: int = POSTED_KEPT) -> None:
        self._kept = kept
        self._posted: OrderedDict[str, None] = OrderedDict()
        self._clean: set[str] = set()  # no notice can be in Slack (as far as this process knows)
        self._unsure: set[str] = set()  # a post was made and its answer is unknown
        self._cursor: dict[str, str] = {}  # where a search paused (its budget was spent)
        self.may_lose_writes = True  # until the store acknowledges a durable write

    def finished(self, watch_id: str, durability: Durability, *, taken_over: bool) -> None:
        """The `notifying` write of a watch that finished here went in with `durability`."""
        self.may_lose_writes = durability != "durable"
        if not taken_over or not self.may_lose_writes:
            self._clean.add(watch_id)

    def was_posted(self, watch_id: str) -> bool:
        return watch_id in self._posted

    def must_search(self, watch_id: str) -> bool:
        return watch_id in self._unsure or watch_id not in self._clean

    def cursor(self, watch_id: str) -> str | None:
        return self._cursor.get(watch_id)

    def searched(self, watch_id: str, page: NoticePage) -> None:
        if page.found:
            self.posted(watch_id)
        elif page.cursor is None:  # searched to the end: not there
            self._cursor.pop(watch_id, None)
            self._unsure.discard(watch_id)
            self._clean.add(watch_id)
        else:
            self._cursor[watch_id] = page.cursor

    def posting(self, watch_id: str) -> None:
        self._unsure.add(watch_id)

    def not_sent(self, watch_id: str) -> None:
        """Slack answered that it took nothing (a 429, a refusal)."""
        self._unsure.discard(watch_id)

    def posted(self, watch_id: str) -> None:
        self._unsure.discard(watch_id)
        self._cursor.pop(watch_id, None)
        self._posted[watch_id] = None
        self._posted.move_to_end(watch_id)
        while len(self._posted) > self._kept:
            self._posted.popitem(last=False)

    def forget(self, held: Set[str]) -> None:
        """Watches no longer held here: whoever holds them may post, so nothing is known."""
        self._clean &= held
        self._unsure &= held
        for watch_id in [i for i in self._cursor if i not in held]:
            del self._cursor[watch_id]
