"""The process's own machinery: logging, metrics, the event loop, start-up checks."""
