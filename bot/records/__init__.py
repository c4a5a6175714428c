"""The records the store keeps and the watchers change: plain values, no I/O."""
