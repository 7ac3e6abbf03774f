"""Back-end services the assistant talks to (each one runs as its own process)."""
