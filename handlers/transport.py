"""The HTTP layer to the Bot API: honour 429 per request, retry server and network errors.

python-telegram-bot raises ``RetryAfter`` on a ``429`` and gives up on a ``5xx``. Here each
request waits out its own ``retry_after`` (other chats go on meanwhile) and retries server
errors and failed connections with backoff, so a message that matters is not lost to a
passing hiccup. Timeouts are not retried: the message may already have arrived.
"""

from __future__ import annotations

import asyncio
import json
import logging
from typing import TYPE_CHECKING

from telegram.error import NetworkError, TimedOut
from telegram.request import BaseRequest, HTTPXRequest, RequestData

if TYPE_CHECKING:
    from telegram._utils.types import ODVInput

__all__ = ["RetryingRequest"]

log = logging.getLogger(__name__)


class RetryingRequest(HTTPXRequest):
    """An ``HTTPXRequest`` that retries what is safe to retry."""

    def __init__(
        self, *, attempts: int = 5, max_wait: float = 60.0, backoff: float = 0.5, **kwargs: object
    ) -> None:
        super().__init__(**kwargs)  # type: ignore[arg-type]
        self.attempts = attempts
        self.max_wait = max_wait
        self.backoff = backoff

    async def do_request(
        self,
        url: str,
        method: str,
        request_data: RequestData | None = None,
        read_timeout: ODVInput[float] = BaseRequest.DEFAULT_NONE,
        write_timeout: ODVInput[float] = BaseRequest.DEFAULT_NONE,
        connect_timeout: ODVInput[float] = BaseRequest.DEFAULT_NONE,
        pool_timeout: ODVInput[float] = BaseRequest.DEFAULT_NONE,
    ) -> tuple[int, bytes]:
        """Send the request, waiting and retrying as the Bot API asks."""
        delay = self.backoff
        for attempt in range(1, self.attempts + 1):
            last = attempt == self.attempts
            try:
                code, payload = await super().do_request(
                    url,
                    method,
                    request_data,
                    read_timeout,
                    write_timeout,
                    connect_timeout,
                    pool_timeout,
                )
            except TimedOut:
                raise
            except NetworkError as exc:
                if last:
                    raise
                log.warning(
                    "Bot API unreachable (%s); retrying in %.1f s", type(exc).__name__, delay
                )
                await asyncio.sleep(delay)
                delay *= 2
                continue
            if code == 429 and not last:
                wait = _retry_after(payload)
                if wait <= self.max_wait:
                    log.warning("flood control: waiting %s s before retrying", wait)
                    await asyncio.sleep(wait)
                    continue
            elif code >= 500 and not last:
                log.warning("Bot API answered %d; retrying in %.1f s", code, delay)
                await asyncio.sleep(delay)
                delay *= 2
                continue
            return code, payload
        raise AssertionError("unreachable")  # pragma: no cover


def _retry_after(payload: bytes) -> float:
    try:
        value = json.loads(payload)["parameters"]["retry_after"]
        return float(value)
    except (ValueError, KeyError, TypeError):
        return 1.0
