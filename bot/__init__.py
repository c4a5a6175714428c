"""Slack app that follows image-generation tasks of the vendor's task API."""
