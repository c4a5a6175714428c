"""What the *Add to Slack* link asks for, and the paths and times of the install flow.

The scopes are the bot scopes the code uses (`bot.slack.basics.ids.SCOPES`), which
`manifest.yaml` declares too (tests/test_manifest.py holds the two equal).
"""

from __future__ import annotations

from bot.slack.basics.ids import SCOPES

BOT_SCOPES: tuple[str, ...] = tuple(sorted(SCOPES))

INSTALL_PATH = "/slack/install"
REDIRECT_PATH = "/slack/oauth_redirect"
STATE_TTL = 600  # seconds an install link's state is good for (one use)
