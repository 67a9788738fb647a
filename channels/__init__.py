"""The channels: one thin adapter per messenger, and the composition root."""
