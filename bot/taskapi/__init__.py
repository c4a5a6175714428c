"""The vendor's task API: signing, models, the client and a fake server. Knows nothing of Slack."""
