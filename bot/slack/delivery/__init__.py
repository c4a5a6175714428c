"""Answering: lookups, posting through response_url or the Web API, live messages, pacing, the
app's dependencies (Deps).
"""
