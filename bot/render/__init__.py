"""Block Kit from task results: pure functions that take data already fetched, no I/O."""
