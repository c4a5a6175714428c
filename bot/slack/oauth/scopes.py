"""What the *Add to Slack* link asks for: the bot scopes `manifest.yaml` declares.

Kept here as one constant rather than read from the manifest at start, since the runtime
image ships the code without it; a test holds the two equal.
"""

from __future__ import annotations

BOT_SCOPES: tuple[str, ...] = (
    "app_mentions:read",
    "channels:history",
    "channels:read",
    "chat:write",
    "commands",
    "files:write",
    "groups:history",
    "groups:read",
    "im:history",
    "im:write",
    "mpim:history",
)

INSTALL_PATH = "/slack/install"
REDIRECT_PATH = "/slack/oauth_redirect"
STATE_TTL = 600  # seconds an install link's state is good for (one use)
