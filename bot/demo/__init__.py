"""`python -m bot demo`: the real bot against the bundled fakes, played through a script.

A development command: it needs `bot.testing` (the fake Slack), which the runtime image
leaves out.
"""
