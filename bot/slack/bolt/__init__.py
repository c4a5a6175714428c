"""Bolt's wiring: the app, its error handling and its observation."""
