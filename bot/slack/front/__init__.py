"""The front: HTTP server, signature checks, Socket Mode, health, metrics."""
