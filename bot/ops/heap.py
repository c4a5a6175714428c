"""The garbage collector, tuned once start-up is over.

An answer allocates a few hundred short-lived containers (request, Bolt context, blocks,
payload). With CPython's defaults (a young collection every 700 allocations, promoted
survivors rescanned in older generations) the collector took a sixth of a busy bot's CPU,
mostly rescanning the tens of thousands of long-lived objects that imports and start-up
made (modules, classes, pydantic and Block Kit schemas) and that never become garbage.

`gc.freeze()` moves everything alive after start-up out of the collector's sight, and a
higher young-generation threshold lets most per-answer objects die by reference counting
before any collection sees them. Cycles are still collected, only less often.
"""

from __future__ import annotations

import gc

YOUNG_THRESHOLD = 20_000  # CPython's default is 700


def settle() -> None:
    """Call once, after start-up and before serving: collect, freeze, raise the threshold."""
    gc.collect()
    gc.freeze()
    _, older, oldest = gc.get_threshold()
    gc.set_threshold(YOUNG_THRESHOLD, older, oldest)
