"""The HTTP layer to the Bot API: honour 429 per request, retry server and network errors.

python-telegram-bot raises ``RetryAfter`` on a ``429`` and gives up on a ``5xx``. Here each
request waits out its own ``retry_after`` (other chats go on meanwhile) and retries server
errors and failed connections with jittered backoff, so a message that matters is not lost
to a passing hiccup. Timeouts are not retried: the message may already have arrived. Failed
tries are reported to an :class:`~handlers.outages.Outage`, which logs an outage when it
begins, then once a minute and when it ends, instead of at every try.

Requests go through aiohttp rather than python-telegram-bot's default httpx client: the bot
has many calls in flight at once (one chat's answer, another's offer, a broadcast), and
httpx's connection pool spends time per request that grows with the requests waiting in it
(in the benchmark, more than half the bot's CPU went there). aiohttp is a dependency already
(the local Bot API server, webhooks).
"""

from __future__ import annotations

import asyncio
import json
import logging
from typing import TYPE_CHECKING

import aiohttp
from telegram.error import NetworkError, TimedOut
from telegram.request import BaseRequest, RequestData

from handlers.outages import Backoff, Outage

if TYPE_CHECKING:
    from telegram._utils.types import ODVInput

__all__ = ["AiohttpRequest", "RetryingRequest"]

log = logging.getLogger(__name__)


_JSON = {"Content-Type": "application/json"}


def _timeout(value: object, default: float | None) -> float | None:
    """A timeout given to one call, or the default when the caller left it out."""
    if value is None or isinstance(value, int | float):
        return value
    return default  # python-telegram-bot's DEFAULT_NONE and friends


class AiohttpRequest(BaseRequest):
    """python-telegram-bot's request interface over one ``aiohttp`` session.

    Same defaults as ``HTTPXRequest``: 5 s to connect, read and write, 1 s to wait for a free
    connection of the pool, 20 s to write a file.
    """

    def __init__(
        self,
        connection_pool_size: int = 1,
        read_timeout: float | None = 5.0,
        write_timeout: float | None = 5.0,
        connect_timeout: float | None = 5.0,
        pool_timeout: float | None = 1.0,
        media_write_timeout: float | None = 20.0,
    ) -> None:
        self.pool_size = connection_pool_size
        self._read = read_timeout
        self._write = write_timeout
        self._connect = connect_timeout
        self._pool = pool_timeout
        self._media_write = media_write_timeout
        self._session: aiohttp.ClientSession | None = None

    @property
    def read_timeout(self) -> float | None:
        """The default read timeout in seconds."""
        return self._read

    async def initialize(self) -> None:
        """Open the session (in the running event loop)."""
        if self._session is None or self._session.closed:
            self._session = aiohttp.ClientSession(
                connector=aiohttp.TCPConnector(limit=self.pool_size),
                headers={"User-Agent": self.USER_AGENT},
            )

    async def shutdown(self) -> None:
        """Close the session and its connections."""
        if self._session is not None and not self._session.closed:
            await self._session.close()

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
        """Send one request; timeouts become ``TimedOut``, other failures ``NetworkError``."""
        if self._session is None or self._session.closed:
            raise RuntimeError("This AiohttpRequest is not initialized!")
        files = request_data.multipart_data if request_data else None
        body: aiohttp.FormData | bytes | None = None
        headers = None
        if files:
            form = aiohttp.FormData()
            for name, value in (request_data.json_parameters if request_data else {}).items():
                form.add_field(name, value)
            for name, part in files.items():
                filename, content, *rest = part
                form.add_field(
                    name, content, filename=filename, content_type=rest[0] if rest else None
                )
            body = form
        elif request_data is not None:
            # One JSON document (encoded in C) rather than a form whose every value is
            # JSON-encoded and then percent-quoted character by character.
            body = json.dumps(request_data.parameters, separators=(",", ":")).encode()
            headers = _JSON
        connect = _timeout(connect_timeout, self._connect)
        pool = _timeout(pool_timeout, self._pool)
        read = _timeout(read_timeout, self._read)
        write = _timeout(write_timeout, self._media_write if files else self._write)
        timeout = aiohttp.ClientTimeout(
            # aiohttp counts the wait for a pooled connection as part of connecting.
            connect=None if connect is None or pool is None else connect + pool,
            sock_read=read,
            # aiohttp has no write timeout of its own: bound the whole call instead.
            total=None
            if read is None or write is None or connect is None
            else (connect + write + read),
        )
        try:
            async with self._session.request(
                method, url, data=body, headers=headers, timeout=timeout
            ) as response:
                return response.status, await response.read()
        except TimeoutError as err:
            raise TimedOut from err
        except aiohttp.ClientError as err:
            # The type only: aiohttp's messages can quote the URL, which holds the bot token.
            raise NetworkError(f"aiohttp.{type(err).__name__}") from err


class RetryingRequest(AiohttpRequest):
    """An ``AiohttpRequest`` that retries what is safe to retry."""

    def __init__(
        self,
        *,
        attempts: int = 5,
        max_wait: float = 60.0,
        backoff: float = 0.5,
        outage: Outage | None = None,
        **kwargs: object,
    ) -> None:
        super().__init__(**kwargs)  # type: ignore[arg-type]
        self.attempts = attempts
        self.max_wait = max_wait
        self.backoff = backoff
        self.outage = outage or Outage("the Bot API cannot be reached", "retrying")

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
        backoff = Backoff(self.backoff, cap=8.0)
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
                self.outage.failed(type(exc).__name__)
                if last:
                    raise
                await asyncio.sleep(backoff.next())
                continue
            if code < 500:
                self.outage.succeeded()
            if code == 429 and not last:
                wait = _retry_after(payload)
                if wait <= self.max_wait:
                    log.warning("flood control: waiting %s s before retrying", wait)
                    await asyncio.sleep(wait)
                    continue
            elif code >= 500:
                self.outage.failed(f"HTTP {code}")
                if not last:
                    await asyncio.sleep(backoff.next())
                    continue
            return code, payload
        raise AssertionError("unreachable")  # pragma: no cover


def _retry_after(payload: bytes) -> float:
    try:
        value = json.loads(payload)["parameters"]["retry_after"]
        return float(value)
    except (ValueError, KeyError, TypeError):
        return 1.0
