"""Slack wiring: thin handlers per surface over the render, watch, taskapi and store layers."""
