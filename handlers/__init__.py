"""Telegram-facing code: read the update, call one service, render the answer."""

import os

# Opt in to python-telegram-bot's timedelta time periods (its announced default) so that
# reading RetryAfter.retry_after does not raise a deprecation warning.
os.environ.setdefault("PTB_TIMEDELTA", "true")
