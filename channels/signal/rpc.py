"""A small async client of signal-cli's JSON-RPC daemon over HTTP (``daemon --http``).

signal-cli serves three endpoints (``man 5 signal-cli-jsonrpc``): ``POST /api/v1/rpc`` takes
JSON-RPC 2.0 requests whose method is a signal-cli command and whose params are its options in
camelCase; ``GET /api/v1/events`` is a stream of Server-Sent Events, one ``event:receive``
with ``data:{"account": …, "envelope": {…}}`` per received message (and ``:`` keep-alives
every 15 s); ``GET /api/v1/check`` answers 200 while the daemon runs.

The shapes follow signal-cli's own classes (AsamK/signal-cli, checked at commit c26e0632):
``http/HttpServerHandler`` and ``http/ServerSentEventSender`` (the endpoints, 201 for a
notification, the event lines); ``json/JsonReceiveMessageHandler`` (``account``,
``envelope`` and ``exception`` of an event); ``json/JsonMessageEnvelope``,
``JsonDataMessage``, ``JsonEditMessage``, ``JsonQuote``, ``JsonAttachment``,
``JsonReaction`` (what arrives); ``json/JsonSendMessageResult`` (``recipientAddress``,
``type``, ``token``, ``retryAfterSeconds`` of each recipient of a send);
``jsonrpc/SignalJsonRpcCommandHandler`` (error codes: -1 user error, -3 I/O error, -4
untrusted key, -5 rate limit, -6 captcha rejected, the JSON-RPC -326xx, and the send's
results in ``error.data.response``); ``util/SendMessageResultUtils`` (which failure becomes
which code); ``commands/SendCommand`` and the others for the params.

Errors are typed by what signal-cli reports, never by what it says: the message of an error
may name a number, so no exception here carries it.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import itertools
import json
import logging
from collections.abc import AsyncGenerator, AsyncIterator, Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import aiohttp

from handlers.outages import Backoff, Outage

__all__ = [
    "Event",
    "NotRegistered",
    "RateLimited",
    "SignalError",
    "SignalRPC",
    "UntrustedIdentity",
    "data_uri",
    "submit_captcha",
]

JSON = dict[str, Any]

log = logging.getLogger(__name__)

#: signal-cli's own error codes (``SignalJsonRpcCommandHandler``).
USER_ERROR = -1
IO_ERROR = -3
UNTRUSTED_KEY_ERROR = -4
RATELIMIT_ERROR = -5
CAPTCHA_REJECTED_ERROR = -6
#: JSON-RPC's: a request that cannot work however often it is sent.
_MALFORMED = frozenset({-32700, -32600, -32601, -32602})


class SignalError(Exception):
    """signal-cli did not do what was asked; ``retryable`` unless the request itself is wrong.

    ``code`` is the JSON-RPC error code, or None when the daemon was not reached or answered
    something other than JSON-RPC.
    """

    def __init__(self, code: int | None, *, retryable: bool = True) -> None:
        super().__init__(
            f"signal-cli error {code}" if code is not None else "signal-cli unreachable"
        )
        self.code = code
        self.retryable = retryable


class NotRegistered(SignalError):
    """The recipient is not on Signal (never was, or left it)."""

    def __init__(self, code: int | None = USER_ERROR) -> None:
        super().__init__(code, retryable=False)


class UntrustedIdentity(SignalError):
    """The recipient's safety number changed (e.g. Signal reinstalled); not sent until the new
    identity is trusted (:meth:`SignalRPC.trust`)."""

    def __init__(self, code: int | None = UNTRUSTED_KEY_ERROR) -> None:
        super().__init__(code, retryable=False)


class RateLimited(SignalError):
    """Signal's rate limit: wait ``retry_after`` seconds (None: Signal did not say), or have a
    person solve the captcha for ``challenge`` (:meth:`SignalRPC.submit_rate_limit_challenge`)."""

    def __init__(
        self, retry_after: float | None, challenge: str | None, code: int | None = RATELIMIT_ERROR
    ) -> None:
        super().__init__(code, retryable=True)
        self.retry_after = retry_after
        self.challenge = challenge

    def __str__(self) -> str:
        wait = f", retry after {self.retry_after:.0f} s" if self.retry_after is not None else ""
        proof = ", proof required" if self.challenge else ""
        return f"signal-cli rate limit{wait}{proof}"


@dataclass(frozen=True, slots=True)
class Event:
    """One ``receive`` event of the stream: the envelope, and the type (only) of the exception
    signal-cli reports with it, e.g. ``UntrustedIdentityException`` or a decryption failure."""

    envelope: JSON
    account: str | None = None
    exception: str | None = None


def data_uri(data: bytes, mime: str, filename: str | None = None) -> str:
    """An attachment for :meth:`SignalRPC.send` as RFC 2397 data with signal-cli's file name."""
    name = f";filename={filename}" if filename else ""
    return f"data:{mime}{name};base64,{base64.b64encode(data).decode()}"


def error_from(error: JSON) -> SignalError:
    """The typed error for a JSON-RPC ``error`` object of signal-cli."""
    code = error.get("code")
    code = code if isinstance(code, int) else None
    message = str(error.get("message") or "")
    data = error.get("data")
    response = data.get("response") if isinstance(data, dict) else None
    results = response.get("results") if isinstance(response, dict) else None
    failures = [r for r in results or () if isinstance(r, dict) and r.get("type") != "SUCCESS"]
    types = {r.get("type") for r in failures}
    if "RATE_LIMIT_FAILURE" in types or code == RATELIMIT_ERROR:
        limited = [r for r in failures if r.get("type") == "RATE_LIMIT_FAILURE"]
        waits = [r["retryAfterSeconds"] for r in limited if r.get("retryAfterSeconds") is not None]
        tokens = [r["token"] for r in limited if r.get("token")]
        return RateLimited(
            float(max(waits)) if waits else None, tokens[0] if tokens else None, code
        )
    if "UNREGISTERED_FAILURE" in types or (
        code == USER_ERROR and not failures and "is not registered" in message
    ):
        return NotRegistered(code)
    if "IDENTITY_FAILURE" in types or code == UNTRUSTED_KEY_ERROR:
        return UntrustedIdentity(code)
    if code in _MALFORMED or code == CAPTCHA_REJECTED_ERROR:
        return SignalError(code, retryable=False)
    if code == USER_ERROR and not failures:
        # A user error without results is about the request (a bad option, no such
        # attachment), not about Signal: sending it again does not help.
        return SignalError(code, retryable=False)
    return SignalError(code)


class SignalRPC:
    """The client. ``url`` is the daemon's base (``http://127.0.0.1:7583``); ``account`` the
    bot's number, sent along so a multi-account daemon knows which one is meant."""

    def __init__(
        self,
        url: str,
        account: str | None = None,
        *,
        timeout: float = 60.0,
        stream_idle: float = 60.0,
        backoff: tuple[float, float] = (0.5, 30.0),
        patience: float = 0.0,
        outage: Outage | None = None,
    ) -> None:
        self.url = url.rstrip("/")
        self.account = account
        self.timeout = timeout
        #: Seconds without a byte (signal-cli sends a keep-alive every 15 s) before the event
        #: stream counts as dropped.
        self.stream_idle = stream_idle
        self.backoff = backoff
        #: How long a call waits for a daemon that refuses connections (restarting), trying
        #: again with backoff; 0: it fails at once.
        self.patience = patience
        #: The daemon unreachable: logged when it begins, once a minute, and when it ends.
        self.outage = outage or Outage("signal-cli's daemon cannot be reached", "retrying")
        self._giving_up = asyncio.Event()
        #: How often the event stream was (re)opened; for tests and the logs.
        self.connects = 0
        self._session: aiohttp.ClientSession | None = None
        self._ids = itertools.count(1)

    async def __aenter__(self) -> SignalRPC:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    def _http(self) -> aiohttp.ClientSession:
        if self._session is None or self._session.closed:
            # Envelopes come as one line each; leave room for long texts and many attachments.
            self._session = aiohttp.ClientSession(read_bufsize=2**20)
        return self._session

    def give_up(self) -> None:
        """Calls waiting for the daemon fail now, and later ones at once (the bot stops)."""
        self._giving_up.set()

    async def close(self) -> None:
        """Close the HTTP connections (an open event stream ends)."""
        if self._session is not None:
            await self._session.close()
            self._session = None

    # ------------------------------------------------------------------ JSON-RPC

    async def call(self, method: str, params: JSON | None = None) -> Any:
        """Call ``method`` with ``params`` (``None`` values left out) and return its result.

        While the daemon refuses connections (it restarts, or is down) the call is made again
        with jittered backoff, for up to :attr:`patience` seconds: the request never reached
        it, so a message is not sent twice. A call that reached it and failed is not retried
        here.
        """
        backoff = Backoff(self.backoff[0], cap=self.backoff[1])
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self.patience
        while True:
            try:
                result = await self._call(method, params)
            except _Refused as refused:
                self.outage.failed(refused.reason)
                wait = min(backoff.next(), deadline - loop.time())
                if wait <= 0 or self._giving_up.is_set():
                    raise SignalError(None) from refused.__cause__
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._giving_up.wait(), timeout=wait)
                continue
            self.outage.succeeded()
            return result

    async def _call(self, method: str, params: JSON | None) -> Any:
        body: JSON = {"jsonrpc": "2.0", "id": next(self._ids), "method": method}
        given = {k: v for k, v in (params or {}).items() if v is not None}
        if self.account is not None:
            given.setdefault("account", self.account)
        if given:
            body["params"] = given
        try:
            async with self._http().post(
                f"{self.url}/api/v1/rpc",
                json=body,
                timeout=aiohttp.ClientTimeout(total=self.timeout),
            ) as response:
                if response.status != 200:
                    raise SignalError(None)
                answer = await response.json(content_type=None)
        except aiohttp.ClientConnectorError as error:
            raise _Refused(type(error).__name__) from error
        except (aiohttp.ClientError, TimeoutError, ValueError) as error:
            raise SignalError(None) from error
        if not isinstance(answer, dict):
            raise SignalError(None)
        if "error" in answer and isinstance(answer["error"], dict):
            raise error_from(answer["error"])
        return answer.get("result")

    async def send(
        self,
        recipient: str,
        message: str = "",
        *,
        text_styles: Sequence[str] = (),
        attachments: Sequence[str] = (),
        quote_timestamp: int | None = None,
        quote_author: str | None = None,
        edit_timestamp: int | None = None,
        voice_note: bool = False,
    ) -> int:
        """Send a message and return its timestamp (Signal's id of it).

        ``text_styles`` as signal-cli takes them, ``start:length:STYLE`` in UTF-16 code units;
        ``attachments`` as file paths or :func:`data_uri`; a quote names the quoted message by
        its timestamp and author; ``edit_timestamp`` replaces the text of an earlier message.
        """
        result = await self.call(
            "send",
            {
                "recipient": [recipient],
                "message": message,
                "textStyle": list(text_styles) or None,
                "attachments": list(attachments) or None,
                "quoteTimestamp": quote_timestamp,
                "quoteAuthor": quote_author,
                "editTimestamp": edit_timestamp,
                "voiceNote": voice_note or None,
            },
        )
        return _timestamp(result)

    async def send_reaction(
        self,
        recipient: str,
        emoji: str,
        target_author: str,
        target_timestamp: int,
        *,
        remove: bool = False,
    ) -> int:
        """React to a message (the person's or the bot's) with ``emoji``, or take it back."""
        result = await self.call(
            "sendReaction",
            {
                "recipient": [recipient],
                "emoji": emoji,
                "targetAuthor": target_author,
                "targetTimestamp": target_timestamp,
                "remove": remove or None,
            },
        )
        return _timestamp(result)

    async def remote_delete(self, recipient: str, target_timestamp: int) -> int:
        """Delete one of the bot's messages for the recipient too."""
        result = await self.call(
            "remoteDelete", {"recipient": [recipient], "targetTimestamp": target_timestamp}
        )
        return _timestamp(result)

    async def send_receipt(
        self, recipient: str, timestamps: Iterable[int], *, kind: str = "read"
    ) -> None:
        """Tell the sender that their messages were read (``kind`` ``read`` or ``viewed``)."""
        await self.call(
            "sendReceipt",
            {"recipient": recipient, "targetTimestamp": list(timestamps), "type": kind},
        )

    async def update_profile(
        self, given_name: str, family_name: str | None = None, about: str | None = None
    ) -> None:
        """Set the bot's profile name (and status text) people see."""
        await self.call(
            "updateProfile", {"givenName": given_name, "familyName": family_name, "about": about}
        )

    async def get_attachment(self, attachment_id: str) -> bytes:
        """The bytes of a received attachment, as signal-cli keeps it (by its id)."""
        result = await self.call("getAttachment", {"id": attachment_id})
        if not isinstance(result, dict) or not isinstance(result.get("data"), str):
            raise SignalError(None)
        try:
            return base64.b64decode(result["data"], validate=True)
        except ValueError as error:
            raise SignalError(None) from error

    async def trust(self, recipient: str) -> None:
        """Trust every known identity of ``recipient`` (``trust --trust-all-known-keys``)."""
        await self.call("trust", {"recipient": recipient, "trustAllKnownKeys": True})

    async def submit_rate_limit_challenge(self, challenge: str, captcha: str) -> None:
        """Lift a rate limit with the captcha a person solved for ``challenge``."""
        await self.call("submitRateLimitChallenge", {"challenge": challenge, "captcha": captcha})

    async def check(self) -> bool:
        """Whether the daemon runs (``GET /api/v1/check``)."""
        try:
            async with self._http().get(
                f"{self.url}/api/v1/check", timeout=aiohttp.ClientTimeout(total=self.timeout)
            ) as response:
                return response.status == 200
        except (aiohttp.ClientError, TimeoutError):
            return False

    # ------------------------------------------------------------------ events

    async def events(self) -> AsyncGenerator[Event, None]:
        """Every received message, as long as the caller iterates.

        A dropped stream (the daemon restarted, the connection broke, no keep-alive in
        :attr:`stream_idle` seconds) is opened again after a jittered pause that doubles from
        ``backoff[0]`` up to ``backoff[1]`` seconds and starts over once a stream has stayed
        open a while (or brought an event): a daemon that accepts and at once drops the
        stream is not asked again and again. Failed tries are told to :attr:`outage` (a
        line when it begins, once a minute, and when it ends). With
        ``--receive-mode=on-connection`` signal-cli receives only while a stream is open, so
        what arrives meanwhile waits on Signal's servers.
        """
        backoff = Backoff(self.backoff[0], cap=self.backoff[1])
        loop = asyncio.get_running_loop()
        query = {"account": self.account} if self.account else None
        while True:
            try:
                async with self._http().get(
                    f"{self.url}/api/v1/events",
                    params=query,
                    timeout=aiohttp.ClientTimeout(total=None, sock_read=self.stream_idle),
                ) as response:
                    if response.status != 200:
                        raise _Refused(f"HTTP {response.status}")
                    self.connects += 1
                    self.outage.succeeded()
                    opened = loop.time()
                    async for event in _read_events(response):
                        backoff.reset()
                        yield event
                    if loop.time() - opened >= _STEADY:
                        backoff.reset()
                log.info("Signal event stream ended; opening it again")
            except aiohttp.ClientConnectorError as error:
                self.outage.failed(type(error).__name__)  # the daemon is not there (yet)
            except _Refused as refused:
                self.outage.failed(refused.reason)
            except (aiohttp.ClientError, TimeoutError, ValueError, SignalError) as error:
                # ValueError: a line beyond the read buffer, or not UTF-8.
                log.warning("Signal event stream dropped (%s)", type(error).__name__)
            await asyncio.sleep(backoff.next())


#: Seconds an event stream stays open before a drop counts as new rather than as the last
#: try failing again.
_STEADY = 10.0


class _Refused(Exception):
    """The daemon could not be connected to: the request did not reach it."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


async def _read_events(response: aiohttp.ClientResponse) -> AsyncIterator[Event]:
    """The ``receive`` events of a Server-Sent Events stream (WHATWG's line format)."""
    name = ""
    data: list[str] = []
    async for raw in response.content:
        line = raw.decode("utf-8").rstrip("\r\n")
        if not line:
            if data and name in ("", "receive"):
                event = _event("\n".join(data))
                if event is not None:
                    yield event
            name, data = "", []
            continue
        if line.startswith(":"):
            continue  # a keep-alive
        field, _, value = line.partition(":")
        value = value.removeprefix(" ")
        if field == "event":
            name = value
        elif field == "data":
            data.append(value)


def _event(data: str) -> Event | None:
    try:
        payload = json.loads(data)
    except ValueError:
        log.warning("Signal event that is not JSON, skipped")
        return None
    if not isinstance(payload, dict):
        return None
    exception = payload.get("exception")
    kind = exception.get("type") if isinstance(exception, dict) else None
    envelope = payload.get("envelope")
    if not isinstance(envelope, dict):
        if kind:
            log.warning("Signal event without envelope: %s", kind)
        return None
    account = payload.get("account")
    return Event(envelope, account if isinstance(account, str) else None, kind)


def _timestamp(result: Any) -> int:
    if isinstance(result, dict) and isinstance(result.get("timestamp"), int):
        return int(result["timestamp"])
    raise SignalError(None)


async def submit_captcha(url: str, account: str, challenge: str, captcha: str) -> None:
    """Lift a rate limit through the daemon at ``url`` (for the command line)."""
    client = SignalRPC(url, account)
    try:
        await client.submit_rate_limit_challenge(challenge, captcha.strip())
    finally:
        await client.close()
