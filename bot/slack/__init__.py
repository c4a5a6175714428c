"""Slack wiring, thin over the render, watch, taskapi and store layers, in five packages from
the top down: front (HTTP and Socket Mode), bolt (the app), surfaces (one module per surface),
delivery (answering and posting) and basics (small values). See docs/architecture.md."""
