"""Test doubles that ship with the bot (tests and benchmarks use them; so can you)."""
