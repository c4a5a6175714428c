"""The busiest workspaces, named in a log line now and then: per-workspace figures without a
per-workspace metric label.

A label with one value per workspace multiplies every series by the number of workspaces
(1,000 workspaces: 1,000 times the series), so `/metrics` carries none. Instead this process
counts the UIDs each workspace looked up since the last report, and every `interval` seconds
logs the `top` workspaces by open watches and by UIDs looked up. Memory is one integer per
workspace that looked something up in the interval, emptied at each report.
"""

from __future__ import annotations

import logging
import time
from collections import Counter
from collections.abc import Callable, Mapping

log = logging.getLogger(__name__)

INTERVAL = 300.0  # seconds between two reports
TOP = 5  # workspaces named per figure


class BusiestWorkspaces:
    """Counts lookups per workspace; `maybe_report` logs the top ones once per interval."""

    def __init__(
        self,
        *,
        interval: float = INTERVAL,
        top: int = TOP,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._interval = interval
        self._top = top
        self._clock = clock
        self._lookups: Counter[str] = Counter()
        self._since = clock()

    def looked_up(self, ws: str, uids: int) -> None:
        self._lookups[ws] += uids

    def maybe_report(self, open_watches: Mapping[str, int]) -> str | None:
        """The report (also logged) when an interval has passed, else None. `open_watches`:
        this process's open watches per workspace (`Watcher.open_by_workspace`)."""
        now = self._clock()
        if now - self._since < self._interval:
            return None
        seconds = now - self._since
        line = report_line(open_watches, self._lookups, self._top, seconds)
        self._lookups = Counter()
        self._since = now
        if line:
            log.info("%s", line)
        return line or None


def report_line(
    open_watches: Mapping[str, int], lookups: Mapping[str, int], top: int, seconds: float
) -> str:
    """The line, e.g. `busiest workspaces (300 s): watches T1=40 T2=3; UIDs looked up T2=120`,
    or "" when nothing happened."""
    parts = []
    for name, counts in (("watches", open_watches), ("UIDs looked up", lookups)):
        busiest = Counter({ws: n for ws, n in counts.items() if n > 0}).most_common(top)
        if busiest:
            parts.append(name + " " + " ".join(f"{ws}={n}" for ws, n in busiest))
    if not parts:
        return ""
    return f"busiest workspaces ({seconds:.0f} s): " + "; ".join(parts)
