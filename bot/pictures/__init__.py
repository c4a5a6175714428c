"""Fetching pictures for previews, only from public addresses."""
