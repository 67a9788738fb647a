"""A local stand-in for signal-cli's HTTP daemon, for tests and the offline demo.

It serves signal-cli's three endpoints (``POST /api/v1/rpc``, ``GET /api/v1/events``,
``GET /api/v1/check``) with the shapes of its classes (see :mod:`channels.signal.rpc` for
which), receives like ``--receive-mode=on-connection`` (what people send while no event
stream is open waits, as on Signal's servers, and arrives when one opens; what was handed to
a stream is gone, also when the stream broke as it was written — :attr:`written` keeps a
record of each, so that a test can count those the bot never stored), checks what
signal-cli checks (an empty message, the ``start:length:STYLE`` syntax, a quote without its
author) and a little more (styles inside the text, counted in UTF-16 code units), and can
inject faults: a recipient not registered, a rate limit (with or without a proof-required
challenge and ``retryAfterSeconds``), an untrusted identity, a failure of the network, a
dropped event stream.

The user side: people send text, quote-replies, voice notes, photos and documents (kept
here, so the bot can fetch them by id with ``getAttachment``), edit and react, and wait for
what the bot sent them.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import itertools
import json
import re
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

from aiohttp import web

__all__ = [
    "Attachment",
    "FakeSignalDaemon",
    "FakeSignalUser",
    "Fault",
    "SignalMessage",
    "Written",
]

JSON = dict[str, Any]

_STYLE = re.compile(r"(\d+):(\d+):(.+)")
_STYLES = frozenset({"BOLD", "ITALIC", "SPOILER", "STRIKETHROUGH", "MONOSPACE"})
_DATA_URI = re.compile(r"data:(?P<mime>[^;,]+)(?:;filename=(?P<name>[^;,]+))?;base64,(?P<data>.*)")
_EXTENSIONS = {
    "audio/aac": ".aac",
    "audio/ogg": ".ogg",
    "image/jpeg": ".jpg",
    "image/png": ".png",
    "application/pdf": ".pdf",
    "text/calendar": ".ics",
}


class RpcError(Exception):
    """A JSON-RPC error answer, as signal-cli writes it."""

    def __init__(self, code: int, message: str, data: JSON | None = None) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.data = data

    def body(self) -> JSON:
        return {"code": self.code, "message": self.message, "data": self.data}


@dataclass
class Attachment:
    """A file as signal-cli reports it (``JsonAttachment``), with its bytes."""

    id: str
    content_type: str
    data: bytes
    filename: str | None = None
    size: int | None = None
    width: int | None = None
    height: int | None = None
    caption: str | None = None
    upload_timestamp: int | None = None

    def json(self) -> JSON:
        return {
            "contentType": self.content_type,
            "filename": self.filename,
            "id": self.id,
            "size": len(self.data) if self.size is None else self.size,
            "width": self.width,
            "height": self.height,
            "caption": self.caption,
            "uploadTimestamp": self.upload_timestamp,
        }


@dataclass
class SignalMessage:
    """A message in a chat with the bot, as it stands now (edits applied)."""

    timestamp: int
    chat: str  #: the person's number
    from_bot: bool
    text: str
    text_styles: list[str] = field(default_factory=list)
    attachments: list[Attachment] = field(default_factory=list)
    quote_timestamp: int | None = None
    quote_author: str | None = None
    #: The timestamps of the edits of this message, oldest first (each a new message on Signal).
    edits: list[int] = field(default_factory=list)
    deleted: bool = False
    #: Reactions on it: who (number) → emoji.
    reactions: dict[str, str] = field(default_factory=dict)
    voice_note: bool = False

    def styled(self, style: str = "BOLD") -> list[str]:
        """The parts of :attr:`text` in ``style``, cut by UTF-16 code units as Signal does."""
        units = self.text.encode("utf-16-le")
        parts = []
        for entry in self.text_styles:
            start, length, name = _parse_style(entry)
            if name == style:
                parts.append(units[2 * start : 2 * (start + length)].decode("utf-16-le"))
        return parts


@dataclass
class Call:
    """One JSON-RPC request the bot made."""

    method: str
    params: JSON
    at: float


@dataclass
class Fault:
    """An answer to give instead of performing the next ``times`` calls of ``method``."""

    method: str
    code: int
    message: str
    #: The type of the recipient's ``JsonSendMessageResult`` (None: no results in the error).
    result: str | None = None
    token: str | None = None
    retry_after: int | None = None
    times: int = 1
    recipient: str | None = None


@dataclass
class _Subscriber:
    queue: asyncio.Queue[JSON | None] = field(default_factory=asyncio.Queue)
    opened: float = field(default_factory=time.monotonic)


@dataclass(frozen=True)
class Written:
    """An event handed to an event stream: from then on only the bot has it."""

    sender: str  #: the envelope's ``sourceUuid``
    stamp: int  #: its ``timestamp``
    at: float  #: when it was written (``time.monotonic()``)
    opened: float  #: when the stream it was written to was opened (``time.monotonic()``)


class FakeSignalDaemon:
    """The daemon. Start it with :meth:`start`, point the bot at :attr:`url`."""

    def __init__(
        self,
        account: str = "+4915100000000",
        *,
        name: str = "Lotsenbot",
        attachments_dir: Path | None = None,
    ) -> None:
        self.account = account
        self.account_uuid = str(uuid.uuid5(uuid.NAMESPACE_URL, f"signal:{account}"))
        #: The bot's profile as ``updateProfile`` set it.
        self.profile: JSON = {"givenName": name}
        self.users: dict[str, FakeSignalUser] = {}
        self.chats: dict[str, list[SignalMessage]] = {}
        self.calls: list[Call] = []
        self.attachments: dict[str, Attachment] = {}
        #: Where received attachments are written like signal-cli does (``…/attachments/<id>``),
        #: if given; else only :attr:`attachments` has them.
        self.attachments_dir = attachments_dir
        self.receipts: list[JSON] = []
        self.faults: list[Fault] = []
        self.unregistered: set[str] = set()
        self.untrusted: set[str] = set()
        self.challenges: dict[str, int] = {}  # token → retry after, until solved
        #: What the bot did that signal-cli takes but Signal shows wrongly (styles outside the
        #: text, an edit of a message that is not there).
        self.violations: list[str] = []
        #: How long the user side waits for the bot by default, in seconds.
        self.patience = 10.0
        #: Seconds between keep-alives on the event stream (signal-cli: 15).
        self.keepalive = 15.0
        #: Where timestamps come from (the demo passes its shifted clock).
        self.now: Callable[[], float] = time.time
        #: How many events were written to a stream, and a record of each.
        self.delivered = 0
        self.written: list[Written] = []
        #: How many event streams were opened, and keep-alives written to them.
        self.connects = 0
        self.keepalives = 0
        self.on_change: Callable[[], None] | None = None
        #: Calls kept waiting by :meth:`hold`, by method.
        self.held: dict[str, int] = {}
        self._holds: dict[str, tuple[asyncio.Event, Callable[[JSON], bool]]] = {}
        self._pending: list[JSON] = []
        self._subscribers: list[_Subscriber] = []
        self._pokes: set[asyncio.Task[None]] = set()
        self._last_timestamp = 0
        self._ids = itertools.count(1)
        self._changed = asyncio.Condition()
        self._runner: web.AppRunner | None = None
        self._site: web.TCPSite | None = None
        #: Whether the daemon is down (see :meth:`go_down`).
        self.down = False
        self.url = ""

    # ------------------------------------------------------------------ server

    async def start(self, host: str = "127.0.0.1", port: int = 0) -> str:
        """Listen on ``host:port`` (0 = any free port) and return the base URL."""
        app = web.Application(client_max_size=200 * 1024 * 1024)
        app.router.add_route("*", "/api/v1/rpc", self._handle_rpc)
        app.router.add_route("*", "/api/v1/events", self._handle_events)
        app.router.add_route("*", "/api/v1/check", self._handle_check)
        self._runner = web.AppRunner(
            app, access_log=None, handle_signals=False, handler_cancellation=True
        )
        await self._runner.setup()
        site = web.TCPSite(self._runner, host, port)
        await site.start()
        self._site = site
        server = site._server
        assert isinstance(server, asyncio.Server)
        bound = server.sockets[0].getsockname()[1]
        self.url = f"http://{host}:{bound}"
        return self.url

    async def go_down(self) -> None:
        """signal-cli stops (to restart): new connections are refused and open event streams
        end; a request it took already is answered, and its connection closed. What people
        send meanwhile waits on Signal's servers (for the next stream)."""
        self.down = True
        self.drop_stream()
        if self._site is not None:
            await self._site.stop()
            self._site = None
        if self._runner is not None and self._runner.server is not None:
            for connection in self._runner.server.connections:
                connection.close()  # idle ones now, busy ones once they have answered

    async def come_back(self) -> None:
        """signal-cli runs again, at the same address."""
        assert self._runner is not None and self._site is None
        host, port = self.url.removeprefix("http://").rsplit(":", 1)
        self._site = web.TCPSite(self._runner, host, int(port))
        await self._site.start()
        self.down = False
        await self._notify()

    async def stop(self) -> None:
        """Stop listening; open event streams end."""
        self.drop_stream()
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def _handle_check(self, request: web.Request) -> web.Response:
        if request.method != "GET":
            return web.Response(status=405)
        return web.Response(status=200)

    async def _handle_rpc(self, request: web.Request) -> web.Response:
        if request.method != "POST":
            return web.Response(status=405)
        if not request.content_type.startswith("application/json"):
            return web.Response(status=415)
        try:
            body = json.loads(await request.read())
        except ValueError:
            return web.json_response(_error(None, RpcError(-32700, "Parse error")))
        if isinstance(body, list):
            answers = [a for a in [await self._one(item) for item in body] if a is not None]
            return web.json_response(answers) if answers else web.Response(status=201)
        answer = await self._one(body)
        response = web.Response(status=201) if answer is None else web.json_response(answer)
        if self.down:
            response.force_close()  # answered on its way down: no connection stays open
        return response

    async def _one(self, request: Any) -> JSON | None:
        if not isinstance(request, dict):
            return _error(None, RpcError(-32600, "request must be an object"))
        request_id = request.get("id")
        method = request.get("method")
        if request.get("jsonrpc") != "2.0":
            return _error(request_id, RpcError(-32600, "jsonrpc field must be set to 2.0"))
        if not isinstance(method, str):
            return _error(request_id, RpcError(-32600, "method field must be set"))
        params = request.get("params") or {}
        if not isinstance(params, dict):
            return _error(request_id, RpcError(-32602, "params must be an object"))
        self.calls.append(Call(method, params, time.monotonic()))
        handler = getattr(self, f"_rpc_{method}", None)
        held = self._holds.get(method)
        gate = held[0] if held is not None and held[1](params) else None
        if gate is not None:  # kept unanswered, as by a daemon that hangs
            self.held[method] = self.held.get(method, 0) + 1
            await self._notify()
            await gate.wait()
        try:
            if handler is None:
                raise RpcError(-32601, "Method not implemented")
            self._maybe_fault(method, params)
            result = await handler(params)
        except RpcError as error:
            await self._notify()
            return None if request_id is None else _error(request_id, error)
        await self._notify()
        if request_id is None:
            return None
        return {"jsonrpc": "2.0", "result": result, "id": request_id}

    async def _handle_events(self, request: web.Request) -> web.StreamResponse:
        if request.method != "GET":
            return web.Response(status=405)
        account = request.query.get("account")
        if account and account not in (self.account, self.account_uuid):
            return web.Response(status=400)
        response = web.StreamResponse(headers={"Content-Type": "text/event-stream"})
        await response.prepare(request)
        subscriber = _Subscriber()
        for waiting in self._pending:
            subscriber.queue.put_nowait(waiting)
        self._pending.clear()
        self._subscribers.append(subscriber)
        self.connects += 1
        await self._notify()
        try:
            while True:
                try:
                    event = await asyncio.wait_for(subscriber.queue.get(), self.keepalive)
                except TimeoutError:
                    await response.write(b":\n")
                    self.keepalives += 1
                    await self._notify()
                    continue
                if event is None:
                    break
                # As signal-cli does: the event is handed over once, whether or not the write
                # gets through (a failed write only ends the stream). Signal's servers note
                # when they deliver it.
                envelope = event["envelope"]
                if "serverDeliveredTimestamp" in envelope:
                    delivered = int(self.now() * 1000)
                    envelope["serverDeliveredTimestamp"] = max(
                        delivered, int(envelope.get("serverReceivedTimestamp") or 0)
                    )
                self.written.append(
                    Written(
                        str(envelope.get("sourceUuid")),
                        int(envelope.get("timestamp") or 0),
                        time.monotonic(),
                        subscriber.opened,
                    )
                )
                self.delivered += 1
                data = json.dumps(event, ensure_ascii=False, separators=(",", ":"))
                await response.write(f"event:receive\ndata:{data}\n\n".encode())
                await self._notify()
        except ConnectionError:
            pass
        finally:
            self._subscribers.remove(subscriber)
            # Not yet handed over: it stays on Signal's servers for the next stream.
            left: list[JSON] = []
            while not subscriber.queue.empty():
                item = subscriber.queue.get_nowait()
                if item is not None:
                    left.append(item)
            self._pending[:0] = left
            # Also when the bot hung up (the handler is cancelled then): wake the waiters.
            poke = asyncio.get_running_loop().create_task(self._notify())
            self._pokes.add(poke)
            poke.add_done_callback(self._pokes.discard)
        return response

    def drop_stream(self) -> None:
        """End every open event stream (as when signal-cli restarts or the connection breaks);
        what was not yet written waits for the next stream."""
        for subscriber in self._subscribers:
            subscriber.queue.put_nowait(None)

    @property
    def streams(self) -> int:
        """How many event streams are open."""
        return len(self._subscribers)

    async def push(self, envelope: JSON, exception: JSON | None = None) -> None:
        """Deliver a received envelope (to the open streams, or when one opens)."""
        event: JSON = {"account": self.account, "envelope": envelope}
        if exception is not None:
            event["exception"] = exception
        if self._subscribers:
            for subscriber in self._subscribers:
                subscriber.queue.put_nowait(event)
        else:
            self._pending.append(event)
        await self._notify()

    @property
    def pending(self) -> int:
        """Events waiting for a stream."""
        return len(self._pending)

    async def _notify(self) -> None:
        async with self._changed:
            self._changed.notify_all()
        if self.on_change is not None:
            self.on_change()

    async def wait_until(self, predicate: Callable[[], Any], timeout: float | None = None) -> Any:
        """Wait until ``predicate()`` is truthy (checked after every request and event);
        ``timeout`` defaults to :attr:`patience`."""

        async def check() -> Any:
            async with self._changed:
                while True:
                    value = predicate()
                    if value:
                        return value
                    await self._changed.wait()

        return await asyncio.wait_for(check(), self.patience if timeout is None else timeout)

    def timestamp(self) -> int:
        """A new timestamp in milliseconds, later than every one before (Signal's message id)."""
        self._last_timestamp = max(self._last_timestamp + 1, int(self.now() * 1000))
        return self._last_timestamp

    def calls_of(self, method: str) -> list[Call]:
        """The requests of ``method`` so far."""
        return [call for call in self.calls if call.method == method]

    def snapshot(self) -> JSON:
        """The people, chats, files and what waits for a stream, as JSON (the demo saves
        them to continue later)."""
        return {
            "users": {number: user.name for number, user in self.users.items()},
            "chats": {
                number: [_message_json(message) for message in chat]
                for number, chat in self.chats.items()
            },
            "attachments": [_attachment_json(a) for a in self.attachments.values()],
            "pending": self._pending,
            "last_timestamp": self._last_timestamp,
        }

    def restore(self, state: JSON) -> None:
        """Continue from a :meth:`snapshot`."""
        for number, name in state["users"].items():
            self.user(number, name)
        for item in state["attachments"]:
            data = base64.b64decode(item.pop("data"))
            self.attachments[item["id"]] = Attachment(**item, data=data)
        for number, chat in state["chats"].items():
            self.chats[number] = [
                SignalMessage(
                    **{**m, "attachments": [self.attachments[i] for i in m["attachments"]]}
                )
                for m in chat
            ]
        self._pending = list(state["pending"])
        self._last_timestamp = int(state["last_timestamp"])
        numbers = [int(re.sub(r"\D", "", i.split(".")[0]) or 0) for i in self.attachments]
        self._ids = itertools.count(max(numbers, default=0) + 1)

    # ------------------------------------------------------------------ faults

    def inject(
        self,
        method: str,
        code: int,
        message: str,
        *,
        result: str | None = None,
        token: str | None = None,
        retry_after: int | None = None,
        times: int = 1,
        recipient: str | None = None,
    ) -> Fault:
        """Answer the next ``times`` calls of ``method`` (to ``recipient``) with an error; with
        ``result``, the error carries the send's results as signal-cli's does."""
        fault = Fault(method, code, message, result, token, retry_after, times, recipient)
        self.faults.append(fault)
        return fault

    def rate_limit(
        self,
        *,
        retry_after: int | None = None,
        challenge: str | None = None,
        times: int = 1,
        recipient: str | None = None,
        method: str = "send",
    ) -> Fault:
        """Signal's rate limit on the next sends: ``RATE_LIMIT_FAILURE``, ``-5``; with
        ``challenge``, a proof is required (its token, and a ``retryAfterSeconds``)."""
        if challenge is not None:
            self.challenges[challenge] = retry_after or 86400
            retry_after = self.challenges[challenge]
        return self.inject(
            method,
            -5,
            "Failed to send message due to rate limiting",
            result="RATE_LIMIT_FAILURE",
            token=challenge,
            retry_after=retry_after,
            times=times,
            recipient=recipient,
        )

    def network_failure(self, *, times: int = 1, recipient: str | None = None) -> Fault:
        """The next sends fail on the network (``NETWORK_FAILURE``, ``-1``)."""
        return self.inject(
            "send",
            -1,
            "Failed to send message",
            result="NETWORK_FAILURE",
            times=times,
            recipient=recipient,
        )

    def unregister(self, number: str) -> None:
        """``number`` left Signal: sends to it answer ``UNREGISTERED_FAILURE``."""
        self.unregistered.add(number)

    def change_identity(self, number: str) -> None:
        """``number`` reinstalled Signal: sends answer ``IDENTITY_FAILURE`` (``-4``) until the
        bot trusts the new key (``trust``)."""
        self.untrusted.add(number)

    def hold(self, method: str, matching: Callable[[JSON], bool] = lambda params: True) -> None:
        """Keep every call of ``method`` (whose params are ``matching``) from now on
        unanswered until :meth:`release`."""
        self._holds.setdefault(method, (asyncio.Event(), matching))

    def release(self, method: str) -> None:
        """Answer the held calls of ``method`` and hold no more."""
        held = self._holds.pop(method, None)
        if held is not None:
            held[0].set()

    def _maybe_fault(self, method: str, params: JSON) -> None:
        recipients = [self.number_of(str(r)) for r in _list(params.get("recipient"))]
        for fault in self.faults:
            if fault.method != method or fault.times <= 0:
                continue
            if fault.recipient is not None and fault.recipient not in recipients:
                continue
            fault.times -= 1
            data = None
            if fault.result is not None:
                result = self._result(recipients[0] if recipients else "", fault.result)
                if fault.token is not None:
                    result["token"] = fault.token
                if fault.retry_after is not None:
                    result["retryAfterSeconds"] = fault.retry_after
                data = {"response": {"timestamp": self.timestamp(), "results": [result]}}
            raise RpcError(fault.code, fault.message, data)

    # ------------------------------------------------------------------ user side

    def user(self, number: str, name: str = "Test") -> FakeSignalUser:
        """The scripted person with ``number`` (created on first use) and profile ``name``."""
        if number not in self.users:
            self.users[number] = FakeSignalUser(self, number, name)
            self.chats[number] = []
        return self.users[number]

    def messages(self, number: str) -> list[SignalMessage]:
        """Every message in the chat with ``number``, oldest first (theirs and the bot's)."""
        return self.chats.get(number, [])

    def find(self, number: str, timestamp: int) -> SignalMessage | None:
        """The message of the chat with ``number`` sent at ``timestamp`` (or edited then)."""
        for message in self.messages(number):
            if message.timestamp == timestamp or timestamp in message.edits:
                return message
        return None

    # ------------------------------------------------------------------ methods

    def number_of(self, recipient: str) -> str:
        """The number of a recipient given by number or by UUID (as signal-cli takes both)."""
        for number, user in self.users.items():
            if recipient == user.uuid:
                return number
        return recipient

    def _recipient(self, params: JSON) -> str:
        recipients = [self.number_of(str(r)) for r in _list(params.get("recipient"))]
        if params.get("groupId") or params.get("groupIds"):
            raise RpcError(-1, "Group not found")  # the bot has no groups
        if len(recipients) != 1:
            raise RpcError(-1, "No recipients given" if not recipients else "One recipient only")
        number = str(recipients[0])
        if number not in self.users:
            raise RpcError(-1, f"The user {number} is not registered.")
        return number

    def _result(self, number: str, kind: str = "SUCCESS") -> JSON:
        user = self.users.get(number)
        return {
            "recipientAddress": {
                "uuid": user.uuid if user else None,
                "number": number,
                "username": None,
            },
            "type": kind,
        }

    def _outcome(self, number: str, timestamp: int) -> JSON:
        """The send's answer, or the error signal-cli gives when it reached nobody."""
        if number in self.unregistered:
            kind, code, message = "UNREGISTERED_FAILURE", -1, "Failed to send message"
        elif number in self.untrusted:
            kind, code = "IDENTITY_FAILURE", -4
            message = "Failed to send message due to untrusted identities"
        else:
            return {"timestamp": timestamp, "results": [self._result(number)]}
        response = {"timestamp": timestamp, "results": [self._result(number, kind)]}
        raise RpcError(code, message, {"response": response})

    async def _rpc_send(self, params: JSON) -> JSON:
        number = self._recipient(params)
        text = str(params.get("message") or "")
        styles = [str(s) for s in _list(params.get("textStyle", params.get("textStyles")))]
        for entry in styles:
            start, length, _ = _parse_style(entry)
            if start + length > len(text.encode("utf-16-le")) // 2:
                self.violations.append(f"style {entry} outside the text")
        files = [
            self._attachment(str(a))
            for a in _list(params.get("attachment", params.get("attachments")))
        ]
        quote_timestamp = _int(params.get("quoteTimestamp"))
        quote_author = params.get("quoteAuthor")
        if quote_timestamp is not None and not quote_author:
            raise RpcError(-1, "Quote author parameter is missing")
        if not text and not files and quote_timestamp is None:
            raise RpcError(
                -1,
                "Sending empty message is not allowed, either a message, attachment or "
                "sticker must be given.",
            )
        edit = _int(params.get("editTimestamp"))
        timestamp = self.timestamp()
        outcome = self._outcome(number, timestamp)
        if edit is not None:
            target = self.find(number, edit)
            if target is None or not target.from_bot or target.deleted:
                self.violations.append(f"edit of {edit}, which the bot did not send")
            else:
                target.text, target.text_styles = text, styles
                target.edits.append(timestamp)
                return outcome
        self.chats[number].append(
            SignalMessage(
                timestamp=timestamp,
                chat=number,
                from_bot=True,
                text=text,
                text_styles=styles,
                attachments=files,
                quote_timestamp=quote_timestamp,
                quote_author=str(quote_author) if quote_author else None,
                voice_note=bool(params.get("voiceNote")),
            )
        )
        return outcome

    def _attachment(self, value: str) -> Attachment:
        match = _DATA_URI.fullmatch(value)
        if match is not None:
            try:
                data = base64.b64decode(match["data"], validate=True)
            except binascii.Error:
                raise RpcError(
                    -32603, "Failed to send message: Invalid data URI (AttachmentInvalidException)"
                ) from None
            return Attachment(
                self._attachment_id(match["mime"]), match["mime"], data, match["name"]
            )
        path = Path(value)
        if not path.is_file():
            raise RpcError(
                -32603,
                f"Failed to send message: {value} (No such file or directory) "
                "(AttachmentInvalidException)",
            )
        return Attachment(
            self._attachment_id(""), "application/octet-stream", path.read_bytes(), path.name
        )

    def _attachment_id(self, mime: str) -> str:
        return f"SgnlAtt{next(self._ids):06d}{_EXTENSIONS.get(mime, '')}"

    async def _rpc_sendReaction(self, params: JSON) -> JSON:
        number = self._recipient(params)
        target = self.find(number, _int(params.get("targetTimestamp")) or 0)
        author = params.get("targetAuthor")
        if target is None:
            self.violations.append("reaction to a message that is not there")
        elif author not in (
            (self.account, self.account_uuid)
            if target.from_bot
            else (target.chat, self.user(target.chat).uuid)
        ):
            self.violations.append("reaction naming another author")
        elif params.get("remove"):
            target.reactions.pop(self.account, None)
        else:
            target.reactions[self.account] = str(params.get("emoji") or "")
        return self._outcome(number, self.timestamp())

    async def _rpc_remoteDelete(self, params: JSON) -> JSON:
        number = self._recipient(params)
        target = self.find(number, _int(params.get("targetTimestamp")) or 0)
        if target is None or not target.from_bot:
            self.violations.append("deletion of a message the bot did not send")
        else:
            target.deleted = True
        return self._outcome(number, self.timestamp())

    async def _rpc_sendReceipt(self, params: JSON) -> JSON:
        number = self._recipient(params)
        stamps = [
            _int(t) for t in _list(params.get("targetTimestamp", params.get("targetTimestamps")))
        ]
        self.receipts.append(
            {"recipient": number, "timestamps": stamps, "type": params.get("type") or "read"}
        )
        return self._outcome(number, self.timestamp())

    async def _rpc_updateProfile(self, params: JSON) -> JSON:
        for key in ("givenName", "familyName", "about", "aboutEmoji"):
            if key in params:
                self.profile[key] = params[key]
        return {}

    async def _rpc_getAttachment(self, params: JSON) -> JSON:
        attachment_id = params.get("id")
        if not attachment_id:
            raise RpcError(-1, "Missing attachment id parameter")
        attachment = self.attachments.get(str(attachment_id))
        if attachment is None:
            raise RpcError(-1, f"Could not find attachment with ID: {attachment_id}")
        return {"data": base64.b64encode(attachment.data).decode()}

    async def _rpc_trust(self, params: JSON) -> JSON:
        number = self.number_of(str(params.get("recipient") or ""))
        if not params.get("trustAllKnownKeys") and not params.get("verifiedSafetyNumber"):
            raise RpcError(
                -1,
                "You need to specify the fingerprint/safety number you have verified with "
                "-v SAFETY_NUMBER",
            )
        self.untrusted.discard(number)
        return {}

    async def _rpc_submitRateLimitChallenge(self, params: JSON) -> JSON:
        token = str(params.get("challenge") or "")
        if not str(params.get("captcha") or "").startswith("signalcaptcha://"):
            raise RpcError(-6, "Captcha rejected")
        self.challenges.pop(token, None)
        for fault in self.faults:
            if fault.token == token:
                fault.times = 0
        return {}

    async def _rpc_version(self, params: JSON) -> JSON:
        return {"version": "0.13.0-fake"}


class FakeSignalUser:
    """A scripted person on Signal, writing to the bot."""

    def __init__(self, daemon: FakeSignalDaemon, number: str, name: str) -> None:
        self.daemon = daemon
        self.number = number
        self.name = name
        self.uuid = str(uuid.uuid5(uuid.NAMESPACE_URL, f"signal:{number}"))

    def _envelope(self, timestamp: int, **content: Any) -> JSON:
        """A ``JsonMessageEnvelope`` from this person (Jackson writes its nulls too)."""
        return {
            "source": self.number,
            "sourceNumber": self.number,
            "sourceUuid": self.uuid,
            "sourceName": self.name,
            "sourceDevice": 1,
            "timestamp": timestamp,
            "serverReceivedTimestamp": timestamp + 3,
            "serverDeliveredTimestamp": timestamp + 5,
            **content,
        }

    @staticmethod
    def _data(timestamp: int, text: str | None, **extra: Any) -> JSON:
        """A ``JsonDataMessage``."""
        return {
            "timestamp": timestamp,
            "message": text,
            "expiresInSeconds": 0,
            "isExpirationUpdate": False,
            "viewOnce": False,
            **extra,
        }

    async def _send(
        self,
        text: str | None,
        *,
        attachments: list[Attachment] | None = None,
        quote: SignalMessage | None = None,
        quote_timestamp: int | None = None,
    ) -> int:
        timestamp = self.daemon.timestamp()
        extra: JSON = {}
        if quote is not None or quote_timestamp is not None:
            extra["quote"] = self._quote(quote, quote_timestamp)
        if attachments:
            for attachment in attachments:
                attachment.upload_timestamp = timestamp - 1
                self.daemon.attachments[attachment.id] = attachment
                if self.daemon.attachments_dir is not None:
                    self.daemon.attachments_dir.mkdir(parents=True, exist_ok=True)
                    (self.daemon.attachments_dir / attachment.id).write_bytes(attachment.data)
            extra["attachments"] = [a.json() for a in attachments]
        self.daemon.chats[self.number].append(
            SignalMessage(
                timestamp=timestamp,
                chat=self.number,
                from_bot=False,
                text=text or "",
                attachments=list(attachments or ()),
                quote_timestamp=extra["quote"]["id"] if "quote" in extra else None,
                quote_author=extra["quote"]["authorNumber"] if "quote" in extra else None,
            )
        )
        await self.daemon.push(
            self._envelope(timestamp, dataMessage=self._data(timestamp, text, **extra))
        )
        return timestamp

    def _quote(self, message: SignalMessage | None, timestamp: int | None) -> JSON:
        """A ``JsonQuote`` of ``message`` (or of a message by ``timestamp`` alone, which need
        not exist: a forged or stale quote). An edited message is quoted by its latest
        edit's timestamp; :meth:`FakeSignalDaemon.find` knows both."""
        if message is not None:
            author, author_uuid = (
                (self.daemon.account, self.daemon.account_uuid)
                if message.from_bot
                else (message.chat, self.daemon.user(message.chat).uuid)
            )
            text: str | None = message.text
            stamp = message.edits[-1] if message.edits else message.timestamp
            if timestamp is not None:
                stamp = timestamp
        else:
            author, author_uuid, text = self.daemon.account, self.daemon.account_uuid, None
            stamp = timestamp or 0
        return {
            "id": stamp,
            "author": author,
            "authorNumber": author,
            "authorUuid": author_uuid,
            "text": text,
            "attachments": [],
        }

    async def send(self, text: str) -> int:
        """Send text; returns its timestamp."""
        return await self._send(text)

    async def reply(
        self, message: SignalMessage | None, text: str, *, timestamp: int | None = None
    ) -> int:
        """Quote-reply to ``message`` (the bot's or anyone's), or to a bare ``timestamp``."""
        return await self._send(text, quote=message, quote_timestamp=timestamp)

    async def send_voice(
        self, data: bytes = b"\xff\xf1voice-aac", *, size: int | None = None
    ) -> int:
        """Send a voice note (AAC, no file name, as Signal's apps record them)."""
        return await self._send(None, attachments=[self._file("audio/aac", data, None, size)])

    async def send_photo(
        self, data: bytes = b"\xff\xd8\xff\xe0photo-jpeg", caption: str | None = None
    ) -> int:
        """Send a photo (the caption is the message's text, as on Signal)."""
        photo = self._file("image/jpeg", data, None, None)
        photo.width, photo.height = 1600, 1200
        return await self._send(caption, attachments=[photo])

    async def send_photos(self, *pages: bytes, caption: str | None = None) -> int:
        """Send several photos in one message (the pages of a letter)."""
        photos = [self._file("image/jpeg", data, None, None) for data in pages]
        return await self._send(caption, attachments=photos)

    async def send_document(
        self,
        filename: str = "letter.pdf",
        content_type: str = "application/pdf",
        data: bytes = b"%PDF-1.4 letter",
        *,
        size: int | None = None,
        text: str | None = None,
    ) -> int:
        """Send a document; ``size`` may claim more than ``data`` holds (large files)."""
        return await self._send(text, attachments=[self._file(content_type, data, filename, size)])

    def _file(self, mime: str, data: bytes, filename: str | None, size: int | None) -> Attachment:
        return Attachment(self.daemon._attachment_id(mime), mime, data, filename, size)

    async def edit(self, timestamp: int, text: str) -> int:
        """Edit one of this person's messages (an ``editMessage`` envelope)."""
        message = self.daemon.find(self.number, timestamp)
        if message is None or message.from_bot:
            raise LookupError(timestamp)
        stamp = self.daemon.timestamp()
        message.text = text
        message.edits.append(stamp)
        edit = {"targetSentTimestamp": message.timestamp, "dataMessage": self._data(stamp, text)}
        await self.daemon.push(self._envelope(stamp, editMessage=edit))
        return stamp

    async def react(self, message: SignalMessage, emoji: str) -> int:
        """React to a message with ``emoji`` (a ``JsonReaction``)."""
        stamp = self.daemon.timestamp()
        author = self.daemon.account if message.from_bot else message.chat
        message.reactions[self.number] = emoji
        reaction = {
            "emoji": emoji,
            "targetAuthor": author,
            "targetAuthorNumber": author,
            "targetAuthorUuid": self.daemon.account_uuid if message.from_bot else self.uuid,
            "targetSentTimestamp": message.timestamp,
            "isRemove": False,
        }
        await self.daemon.push(
            self._envelope(stamp, dataMessage=self._data(stamp, None, reaction=reaction))
        )
        return stamp

    async def send_raw(self, **content: Any) -> int:
        """Send an envelope with any other content (a sticker, a receipt, typing…) as given."""
        stamp = self.daemon.timestamp()
        await self.daemon.push(self._envelope(stamp, **content))
        return stamp

    def bot_messages(self) -> list[SignalMessage]:
        """What the bot sent this person, oldest first, edits applied, deletions gone."""
        return [m for m in self.daemon.messages(self.number) if m.from_bot and not m.deleted]

    async def wait_for_message(
        self,
        predicate: Callable[[SignalMessage], bool] | None = None,
        *,
        after: int = 0,
        timeout: float | None = None,
    ) -> SignalMessage:
        """Wait for a bot message (newer than index ``after``) matching ``predicate``."""

        def find() -> SignalMessage | None:
            for message in self.bot_messages()[after:]:
                if predicate is None or predicate(message):
                    return message
            return None

        found: SignalMessage = await self.daemon.wait_until(find, timeout)
        return found

    async def wait_for_text(self, fragment: str, *, timeout: float | None = None) -> SignalMessage:
        """Wait until a bot message to this person contains ``fragment``."""
        return await self.wait_for_message(lambda m: fragment in m.text, timeout=timeout)


def _message_json(message: SignalMessage) -> JSON:
    data = {f.name: getattr(message, f.name) for f in fields(message)}
    data["attachments"] = [a.id for a in message.attachments]
    return data


def _attachment_json(attachment: Attachment) -> JSON:
    data = {f.name: getattr(attachment, f.name) for f in fields(attachment)}
    data["data"] = base64.b64encode(attachment.data).decode()
    return data


def _parse_style(entry: str) -> tuple[int, int, str]:
    match = _STYLE.fullmatch(entry)
    if match is None:
        raise RpcError(-1, f"Invalid textStyle syntax ({entry}) expected 'start:length:STYLE'")
    if match[3] not in _STYLES:
        raise RpcError(-1, f"Invalid style: {match[3]}")
    return int(match[1]), int(match[2]), match[3]


def _list(value: Any) -> list[Any]:
    """A parameter that takes one value or several (signal-cli's plural handling)."""
    if value is None:
        return []
    return list(value) if isinstance(value, list) else [value]


def _int(value: Any) -> int | None:
    if value is None or value == "":
        return None
    try:
        return int(value)
    except (TypeError, ValueError):
        raise RpcError(-32602, "Invalid params") from None


def _error(request_id: Any, error: RpcError) -> JSON:
    return {"jsonrpc": "2.0", "error": error.body(), "id": request_id}
