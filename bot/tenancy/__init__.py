"""Tenancy: which task API account (and so which client) serves each workspace.

Between the store (where accounts are kept, sealed) and everything that looks tasks up: the
surfaces and the watcher ask `Accounts.client_for(ws)` and never build a client themselves.
"""
