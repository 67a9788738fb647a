"""Domain objects and pure rules; no I/O."""
