"""Many workspaces: Bolt's OAuth flow, installations sealed in the bot's own store, token
rotation once for the fleet, a Slack client per workspace, and uninstalls (docs/distribution.md)."""
