"""A local stand-in for the Telegram Bot API, for tests and the offline demo.

It speaks the real API's HTTP shapes (``/bot<token>/<method>``, ``{"ok": ...}`` envelopes,
error codes and descriptions) for the methods Lotsenbot uses, checks what Telegram checks
(HTML entities, 4096 characters, callback data of 1-64 bytes, "message is not modified"),
can inject faults (``429`` with ``retry_after``, ``403`` for a blocked user, held requests)
and has a user side: people send text, commands, voice notes and photos, press inline
buttons and read what the bot sent them, edits included.
"""

from __future__ import annotations

import asyncio
import base64
import dataclasses
import itertools
import json
import re
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from html import unescape
from typing import Any

from aiohttp import ClientSession, web

__all__ = ["ApiError", "BotMessage", "FakeBotAPI", "Fault", "Limits"]

JSON = dict[str, Any]

# Parameters that Telegram takes as plain strings; everything else arrives JSON-encoded.
_STRING_PARAMS = frozenset(
    {
        "text",
        "caption",
        "parse_mode",
        "callback_query_id",
        "url",
        "secret_token",
        "language_code",
        "action",
        "file_id",
        "description",
        "short_description",
        "name",
    }
)
_HTML_TAGS = frozenset(
    {
        "b",
        "strong",
        "i",
        "em",
        "u",
        "ins",
        "s",
        "strike",
        "del",
        "a",
        "code",
        "pre",
        "tg-spoiler",
        "span",
        "blockquote",
        "tg-emoji",
    }
)
_TAG = re.compile(r"<(/?)([a-zA-Z][a-zA-Z0-9-]*)((?:\s[^<>]*)?)>")
_ENTITY = re.compile(r"&(?:lt|gt|amp|quot|#\d+|#x[0-9a-fA-F]+);")


class ApiError(Exception):
    """An error answer of the Bot API."""

    def __init__(self, code: int, description: str, retry_after: int | None = None) -> None:
        super().__init__(description)
        self.code = code
        self.description = description
        self.retry_after = retry_after

    def body(self) -> JSON:
        """The JSON envelope Telegram sends for this error."""
        data: JSON = {"ok": False, "error_code": self.code, "description": self.description}
        if self.retry_after is not None:
            data["parameters"] = {"retry_after": self.retry_after}
        return data


def html_to_text(markup: str) -> str:
    """Check Telegram-style HTML and return the plain text the user sees."""
    stack: list[str] = []
    plain: list[str] = []
    position = 0
    for match in _TAG.finditer(markup):
        plain.append(_check_text(markup[position : match.start()]))
        closing, name = match.group(1) == "/", match.group(2).lower()
        if name not in _HTML_TAGS:
            raise ApiError(
                400, f'Bad Request: can\'t parse entities: unsupported start tag "{name}"'
            )
        if closing:
            if not stack or stack.pop() != name:
                raise ApiError(
                    400, f'Bad Request: can\'t parse entities: unmatched end tag "{name}"'
                )
        else:
            stack.append(name)
        position = match.end()
    plain.append(_check_text(markup[position:]))
    if stack:
        raise ApiError(400, f'Bad Request: can\'t parse entities: unclosed start tag "{stack[-1]}"')
    return "".join(plain)


def _check_text(chunk: str) -> str:
    if "<" in chunk or ">" in chunk:
        raise ApiError(400, "Bad Request: can't parse entities: unescaped < or > in text")
    for index in (m.start() for m in re.finditer("&", chunk)):
        if not _ENTITY.match(chunk, index):
            raise ApiError(400, "Bad Request: can't parse entities: unescaped & in text")
    return unescape(chunk)


@dataclass
class Fault:
    """An error to answer instead of performing a call."""

    method: str
    code: int
    description: str
    retry_after: int | None = None
    times: int = 1
    chat_id: int | None = None


#: Calls that put a message into a chat, and calls that change one; both count per chat.
#: The emoji a bot may react with (Telegram's list of standard reactions, in part).
REACTIONS = frozenset(["👍", "👎", "❤", "🔥", "👏", "🙏", "👌", "🤝", "✍", "💯", "🎉", "👀", "🤗"])
_SENDS = frozenset({"sendmessage", "sendphoto", "senddocument", "sendvoice", "copymessage"})
_EDITS = frozenset({"editmessagetext", "editmessagecaption", "editmessagereplymarkup"})


@dataclass
class Limits:
    """Telegram's flood limits, enforced with ``429`` like the real server.

    At most ``overall`` messages in any second, and per chat at most ``per_chat_burst``
    messages (sends and edits) in any ``per_chat_burst`` seconds: one a second on average,
    with the short bursts a conversation needs (Telegram tolerates those too).
    """

    overall: int = 30
    per_chat_burst: int = 5
    sent: deque[float] = field(default_factory=deque)
    chats: dict[int, deque[float]] = field(default_factory=dict)
    violations: list[str] = field(default_factory=list)

    def check(self, method: str, chat_id: int | None, now: float) -> None:
        """Count one call, or answer ``429`` (and remember the violation) if it is too many."""
        is_send = method in _SENDS
        if not is_send and method not in _EDITS:
            return
        if is_send:
            while self.sent and self.sent[0] <= now - 1.0:
                self.sent.popleft()
            if len(self.sent) >= self.overall:
                self.violations.append(f"overall:{method}")
                raise ApiError(429, "Too Many Requests: retry after 1", retry_after=1)
        if chat_id is not None:
            window = self.chats.setdefault(chat_id, deque())
            while window and window[0] <= now - self.per_chat_burst:
                window.popleft()
            if len(window) >= self.per_chat_burst:
                self.violations.append(f"chat {chat_id}:{method}")
                raise ApiError(429, "Too Many Requests: retry after 1", retry_after=1)
            window.append(now)
        if is_send:
            self.sent.append(now)


@dataclass
class _Hold:
    released: asyncio.Event
    matching: Callable[[JSON], bool]
    perform: bool = True


@dataclass
class BotMessage:
    """A message as it stands in a chat (edits applied)."""

    message_id: int
    chat_id: int
    from_bot: bool
    text: str
    html: str | None = None
    buttons: list[list[JSON]] = field(default_factory=list)
    date: int = 0
    edits: int = 0
    deleted: bool = False
    kind: str = "text"
    file_id: str | None = None
    raw: JSON = field(default_factory=dict)
    #: The bot's reactions to the message (emoji).
    reactions: list[str] = field(default_factory=list)
    #: When the fake server took it (``time.time()``, whatever the fake's own clock says).
    at: float = field(default_factory=time.time)

    def button_labels(self) -> list[str]:
        """All inline button labels, row by row."""
        return [button["text"] for row in self.buttons for button in row]


@dataclass
class Call:
    """One request the bot made."""

    method: str
    params: JSON
    at: float


class FakeBotAPI:
    """The server. Start it with :meth:`start`, point the bot at :attr:`url`."""

    def __init__(self, token: str = "123456:TEST-token", username: str = "lotsen_test_bot") -> None:
        self.token = token
        bot_id = int(token.split(":", 1)[0])
        self.me: JSON = {
            "id": bot_id,
            "is_bot": True,
            "first_name": "Lotsenbot",
            "username": username,
            "can_join_groups": False,
            "can_read_all_group_messages": False,
            "supports_inline_queries": False,
        }
        self.users: dict[int, JSON] = {}
        self.chats: dict[int, list[BotMessage]] = {}
        self.calls: list[Call] = []
        #: How many ``getUpdates`` calls arrived (cheaper to watch than :meth:`calls_of`).
        self.polls = 0
        #: How long the user side waits for the bot by default, in seconds.
        self.patience = 10.0
        self.faults: list[Fault] = []
        self.blocked: set[int] = set()
        self.commands: dict[tuple[str, str], list[JSON]] = {}
        self.callback_answers: dict[str, JSON] = {}
        self.files: dict[str, bytes] = {}
        self.file_names: dict[str, str] = {}
        self.webhook: JSON = {"url": ""}
        self.confirmed = 0  # every update_id below this was confirmed by getUpdates
        self.last_update_id = 0
        self.on_call: Callable[[Call], None] | None = None
        #: Called after every performed call and every queued update (the demo page listens).
        self.on_change: Callable[[], None] | None = None
        #: Where message dates come from (the demo passes its shifted clock).
        self.now: Callable[[], float] = time.time
        self._pending: list[JSON] = []
        self._update_ids = itertools.count(1)
        self._message_ids = itertools.count(1)
        self._ids = itertools.count(1)
        self._changed = asyncio.Condition()
        self._holds: dict[str, _Hold] = {}
        self._deliveries: set[asyncio.Task[None]] = set()
        self.webhook_answers: list[int] = []
        self.limits: Limits | None = None
        self.held: list[Call] = []
        self._runner: web.AppRunner | None = None
        self.url = ""

    # ------------------------------------------------------------------ server

    async def start(self, host: str = "127.0.0.1", port: int = 0) -> str:
        """Listen on ``host:port`` (0 = any free port) and return the API root URL."""
        app = web.Application(client_max_size=60 * 1024 * 1024)
        app.router.add_route("*", "/bot{token}/{method}", self._handle)
        app.router.add_get("/file/bot{token}/{path:.+}", self._download)
        self._runner = web.AppRunner(
            app, access_log=None, handle_signals=False, handler_cancellation=True
        )
        await self._runner.setup()
        site = web.TCPSite(self._runner, host, port)
        await site.start()
        server = site._server
        assert isinstance(server, asyncio.Server)
        bound = server.sockets[0].getsockname()[1]
        self.url = f"http://{host}:{bound}"
        return self.url

    async def stop(self) -> None:
        """Stop listening; held requests are dropped."""
        for hold in self._holds.values():
            hold.perform = False
            hold.released.set()
        for delivery in list(self._deliveries):
            delivery.cancel()
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def _handle(self, request: web.Request) -> web.Response:
        if request.match_info["token"] != self.token:
            return web.json_response(
                {"ok": False, "error_code": 401, "description": "Unauthorized"}, status=401
            )
        method = request.match_info["method"]
        params = await _read_params(request)
        call = Call(method, params, time.monotonic())
        self.calls.append(call)
        if method.lower() == "getupdates":
            self.polls += 1
        if self.on_call is not None:
            self.on_call(call)
        await self._notify()
        hold = self._holds.get(method) or self._holds.get("*")
        if hold is not None and hold.matching(params):
            self.held.append(call)
            await hold.released.wait()  # a client that disconnects meanwhile cancels this
            if not hold.perform:
                return web.json_response(ApiError(502, "Bad Gateway").body(), status=502)
        try:
            self._maybe_fault(method, params)
            if self.limits is not None:
                chat = params.get("chat_id")
                self.limits.check(
                    method.lower(), _int(chat) if chat is not None else None, time.monotonic()
                )
            handler = getattr(self, f"_api_{method.lower()}", None)
            if handler is None:
                raise ApiError(404, "Not Found")
            result = await handler(params)
        except ApiError as error:
            return web.json_response(error.body(), status=error.code)
        await self._notify()
        return web.json_response({"ok": True, "result": result})

    async def _download(self, request: web.Request) -> web.Response:
        if request.match_info["token"] != self.token:
            return web.Response(status=401)
        data = self.files.get(request.match_info["path"])
        if data is None:
            return web.Response(status=404)
        return web.Response(body=data)

    def _maybe_fault(self, method: str, params: JSON) -> None:
        for fault in self.faults:
            if fault.method not in (method, "*") or fault.times <= 0:
                continue
            if fault.chat_id is not None and _int(params.get("chat_id")) != fault.chat_id:
                continue
            fault.times -= 1
            raise ApiError(fault.code, fault.description, fault.retry_after)

    async def _notify(self) -> None:
        async with self._changed:
            self._changed.notify_all()
        if self.on_change is not None:
            self.on_change()

    # ------------------------------------------------------------------ faults

    def inject(
        self,
        method: str,
        code: int,
        description: str,
        *,
        retry_after: int | None = None,
        times: int = 1,
        chat_id: int | None = None,
    ) -> Fault:
        """Answer the next ``times`` calls of ``method`` (``*``: any; to ``chat_id``) with an
        error."""
        fault = Fault(method, code, description, retry_after, times, chat_id)
        self.faults.append(fault)
        return fault

    def flood(self, method: str, retry_after: int = 1, times: int = 1) -> Fault:
        """Answer ``429 Too Many Requests`` with ``retry_after``."""
        return self.inject(
            method,
            429,
            f"Too Many Requests: retry after {retry_after}",
            retry_after=retry_after,
            times=times,
        )

    def hold(self, method: str, matching: Callable[[JSON], bool] = lambda params: True) -> None:
        """Keep every call of ``method`` (``*``: any) whose params are ``matching`` waiting,
        unanswered, until released."""
        self._holds[method] = _Hold(asyncio.Event(), matching)

    def release(self, method: str, *, perform: bool = True) -> None:
        """End the hold on ``method``; held calls are performed, or dropped (``502``)."""
        hold = self._holds.pop(method, None)
        if hold is not None:
            hold.perform = perform
            hold.released.set()

    def enforce_limits(self, overall: int = 30, per_chat_burst: int = 5) -> Limits:
        """Answer ``429`` like Telegram when the bot sends too fast (see :class:`Limits`)."""
        self.limits = Limits(overall, per_chat_burst)
        return self.limits

    def block(self, user_id: int) -> None:
        """The user blocked the bot: sending to them answers 403."""
        self.blocked.add(user_id)

    # ------------------------------------------------------------------ user side

    def user(
        self,
        user_id: int,
        first_name: str = "Test",
        language_code: str | None = "de",
        username: str | None = None,
    ) -> FakeUser:
        """Return the scripted user ``user_id`` (created on first use)."""
        data: JSON = {"id": user_id, "is_bot": False, "first_name": first_name}
        if language_code:
            data["language_code"] = language_code
        if username:
            data["username"] = username
        self.users.setdefault(user_id, data)
        self.chats.setdefault(user_id, [])
        return FakeUser(self, user_id)

    def messages(self, chat_id: int) -> list[BotMessage]:
        """Every message in the chat, oldest first (the user's and the bot's)."""
        return self.chats.get(chat_id, [])

    async def push_update(self, update: JSON) -> int:
        """Queue an update (``getUpdates``, or the webhook if one is set); return its id."""
        update_id = next(self._update_ids)
        self.last_update_id = update_id
        full = {"update_id": update_id, **update}
        if self.webhook.get("url"):
            task = asyncio.create_task(self._deliver(full))
            self._deliveries.add(task)
            task.add_done_callback(self._deliveries.discard)
        else:
            self._pending.append(full)
        await self._notify()
        return update_id

    async def _deliver(self, update: JSON) -> None:
        """Post to the webhook like Telegram: with the secret header, repeated until 200."""
        headers = {}
        if self.webhook.get("secret_token"):
            headers["X-Telegram-Bot-Api-Secret-Token"] = str(self.webhook["secret_token"])
        async with ClientSession() as session:
            for _ in range(50):
                try:
                    async with session.post(
                        self.webhook["url"], json=update, headers=headers
                    ) as response:
                        self.webhook_answers.append(response.status)
                        if response.status == 200:
                            self.confirmed = max(self.confirmed, update["update_id"] + 1)
                            await self._notify()
                            return
                except OSError:
                    pass
                await asyncio.sleep(0.2)

    async def wait_until(self, predicate: Callable[[], Any], timeout: float | None = None) -> Any:
        """Wait until ``predicate()`` is truthy (re-checked after every API call).

        ``timeout`` defaults to :attr:`patience`.
        """

        async def check() -> Any:
            async with self._changed:
                while True:
                    value = predicate()
                    if value:
                        return value
                    await self._changed.wait()

        return await asyncio.wait_for(check(), self.patience if timeout is None else timeout)

    def calls_of(self, method: str) -> list[Call]:
        """The calls of ``method`` so far."""
        return [c for c in self.calls if c.method == method]

    # ------------------------------------------------------------------ saving

    def snapshot(self) -> JSON:
        """Users, chats, files, queued updates and counters as JSON, for :meth:`restore`."""
        return {
            "users": {str(user_id): user for user_id, user in self.users.items()},
            "chats": {
                str(chat_id): [dataclasses.asdict(message) for message in messages]
                for chat_id, messages in self.chats.items()
            },
            "files": {key: base64.b64encode(data).decode() for key, data in self.files.items()},
            "pending": self._pending,
            "confirmed": self.confirmed,
            "next_update_id": self._peek("_update_ids"),
            "next_message_id": self._peek("_message_ids"),
            "next_id": self._peek("_ids"),
        }

    def restore(self, state: JSON, *, min_update_id: int = 1) -> None:
        """Continue from a :meth:`snapshot`; new update ids start at ``min_update_id`` or later.

        A bot that remembers higher update ids than the snapshot (it was saved a little
        before the process died) would ignore updates numbered below them.
        """
        self.users = {int(user_id): user for user_id, user in state["users"].items()}
        self.chats = {
            int(chat_id): [BotMessage(**message) for message in messages]
            for chat_id, messages in state["chats"].items()
        }
        self.files = {key: base64.b64decode(data) for key, data in state["files"].items()}
        self._pending = list(state["pending"])
        self.confirmed = int(state["confirmed"])
        next_update = max(int(state["next_update_id"]), min_update_id)
        self.last_update_id = next_update - 1
        self._update_ids = itertools.count(next_update)
        self._message_ids = itertools.count(int(state["next_message_id"]))
        self._ids = itertools.count(int(state["next_id"]))

    def _peek(self, counter: str) -> int:
        value: int = next(getattr(self, counter))
        setattr(self, counter, itertools.count(value))
        return value

    # ------------------------------------------------------------------ methods

    async def _api_getme(self, params: JSON) -> JSON:
        return self.me

    async def _api_getupdates(self, params: JSON) -> list[JSON]:
        if self.webhook.get("url"):
            raise ApiError(
                409,
                "Conflict: can't use getUpdates method while webhook is active; "
                "use deleteWebhook to delete the webhook first",
            )
        offset = _int(params.get("offset"))
        limit = _int(params.get("limit")) or 100
        timeout = float(params.get("timeout") or 0)
        allowed = params.get("allowed_updates")
        if offset is not None and offset > 0:
            self._pending = [u for u in self._pending if u["update_id"] >= offset]
            self.confirmed = max(self.confirmed, offset)
        if allowed:
            self._pending = [u for u in self._pending if any(k in u for k in allowed)]
        if not self._pending and timeout > 0:
            try:
                await self.wait_until(lambda: self._pending, timeout)
            except TimeoutError:
                return []
        return self._pending[:limit]

    async def _api_deletewebhook(self, params: JSON) -> bool:
        self.webhook = {"url": ""}
        if params.get("drop_pending_updates"):
            self._pending.clear()
        return True

    async def _api_setwebhook(self, params: JSON) -> bool:
        self.webhook = {"url": params.get("url", ""), "secret_token": params.get("secret_token")}
        return True

    async def _api_getwebhookinfo(self, params: JSON) -> JSON:
        return {
            "url": self.webhook.get("url", ""),
            "has_custom_certificate": False,
            "pending_update_count": len(self._pending),
        }

    async def _api_setmycommands(self, params: JSON) -> bool:
        commands = params.get("commands") or []
        for command in commands:
            if not re.fullmatch(r"[a-z0-9_]{1,32}", command.get("command", "")):
                raise ApiError(400, "Bad Request: BOT_COMMAND_INVALID")
            if not 1 <= len(command.get("description", "")) <= 256:
                raise ApiError(400, "Bad Request: BOT_COMMAND_DESCRIPTION_INVALID")
        language = params.get("language_code") or ""
        if language and not re.fullmatch("[a-z]{2}", language):
            raise ApiError(400, "Bad Request: Invalid language code specified")
        scope = json.dumps(params.get("scope") or {"type": "default"}, sort_keys=True)
        self.commands[(scope, language)] = commands
        return True

    async def _api_getmycommands(self, params: JSON) -> list[JSON]:
        scope = json.dumps(params.get("scope") or {"type": "default"}, sort_keys=True)
        return self.commands.get((scope, params.get("language_code") or ""), [])

    async def _api_sendchataction(self, params: JSON) -> bool:
        self._chat(params)
        return True

    async def _api_sendmessage(self, params: JSON) -> JSON:
        chat_id = self._chat(params)
        html, text = self._text(params, "text", 4096)
        message = self._add(chat_id, text=text, html=html, kind="text", params=params)
        return message.raw

    async def _api_sendphoto(self, params: JSON) -> JSON:
        return self._send_file(params, "photo")

    async def _api_senddocument(self, params: JSON) -> JSON:
        return self._send_file(params, "document")

    async def _api_sendvoice(self, params: JSON) -> JSON:
        return self._send_file(params, "voice")

    async def _api_editmessagetext(self, params: JSON) -> JSON:
        message = self._find(params)
        html, text = self._text(params, "text", 4096)
        buttons = _buttons(params.get("reply_markup"))
        if message.text == text and message.buttons == buttons:
            raise ApiError(
                400,
                "Bad Request: message is not modified: specified new message content and reply "
                "markup are exactly the same as a current content and reply markup of the message",
            )
        message.text, message.html, message.buttons = text, html, buttons
        message.edits += 1
        return self._render(message)

    async def _api_editmessagecaption(self, params: JSON) -> JSON:
        message = self._find(params)
        if message.kind == "text":
            raise ApiError(400, "Bad Request: there is no caption in the message to edit")
        html, text = self._text(params, "caption", 1024)
        buttons = _buttons(params.get("reply_markup"))
        if message.text == text and message.buttons == buttons:
            raise ApiError(400, "Bad Request: message is not modified")
        message.text, message.html, message.buttons = text, html, buttons
        message.edits += 1
        return self._render(message)

    async def _api_editmessagereplymarkup(self, params: JSON) -> JSON:
        message = self._find(params)
        buttons = _buttons(params.get("reply_markup"))
        if message.buttons == buttons:
            raise ApiError(400, "Bad Request: message is not modified")
        message.buttons = buttons
        message.edits += 1
        return self._render(message)

    async def _api_deletemessage(self, params: JSON) -> bool:
        message = self._find(params)
        message.deleted = True
        return True

    async def _api_answercallbackquery(self, params: JSON) -> bool:
        query_id = str(params.get("callback_query_id"))
        if query_id in self.callback_answers:
            raise ApiError(
                400,
                "Bad Request: query is too old and response timeout expired or query ID is invalid",
            )
        self.callback_answers[query_id] = params
        return True

    async def _api_setmessagereaction(self, params: JSON) -> bool:
        chat_id = self._chat(params)
        message_id = _int(params.get("message_id"))
        found = [m for m in self.chats[chat_id] if m.message_id == message_id and not m.deleted]
        if not found:
            raise ApiError(400, "Bad Request: message to react not found")
        message = found[0]
        reaction = params.get("reaction")
        if isinstance(reaction, str):
            reaction = json.loads(reaction)
        emoji = [r.get("emoji") for r in reaction or [] if isinstance(r, dict)]
        if any(e not in REACTIONS for e in emoji):
            raise ApiError(400, "Bad Request: REACTION_INVALID")
        message.reactions = [str(e) for e in emoji]
        return True

    async def _api_getfile(self, params: JSON) -> JSON:
        file_id = str(params.get("file_id"))
        if file_id not in self.files:
            raise ApiError(400, "Bad Request: invalid file_id")
        return {
            "file_id": file_id,
            "file_unique_id": f"u{file_id}",
            "file_size": len(self.files[file_id]),
            "file_path": file_id,
        }

    # ------------------------------------------------------------------ helpers

    def _chat(self, params: JSON) -> int:
        chat_id = _int(params.get("chat_id"))
        if chat_id is None or chat_id not in self.chats:
            raise ApiError(400, "Bad Request: chat not found")
        if chat_id in self.blocked:
            raise ApiError(403, "Forbidden: bot was blocked by the user")
        return chat_id

    def _text(self, params: JSON, key: str, limit: int) -> tuple[str | None, str]:
        raw = params.get(key)
        if raw is None or str(raw) == "":
            raise ApiError(
                400,
                f"Bad Request: {key} must be non-empty"
                if key != "text"
                else "Bad Request: message text is empty",
            )
        raw = str(raw)
        if params.get("parse_mode") == "HTML":
            text, html = html_to_text(raw), raw
        else:
            text, html = raw, None
        if not text.strip():
            raise ApiError(400, "Bad Request: message text is empty")
        if len(text) > limit:
            raise ApiError(400, "Bad Request: message is too long")
        return html, text

    def _find(self, params: JSON) -> BotMessage:
        chat_id = self._chat(params)
        message_id = _int(params.get("message_id"))
        for message in self.chats[chat_id]:
            if message.message_id == message_id and message.from_bot and not message.deleted:
                return message
        raise ApiError(400, "Bad Request: message to edit not found")

    def _send_file(self, params: JSON, kind: str) -> JSON:
        chat_id = self._chat(params)
        value = params.get(kind)
        if isinstance(value, bytes):
            file_id = f"{kind}-{next(self._ids)}"
            self.files[file_id] = value
            self.file_names[file_id] = str(params.get(f"{kind}:filename") or "")
        elif isinstance(value, str) and value:
            file_id = value
        else:
            raise ApiError(400, f"Bad Request: there is no {kind} in the request")
        caption_html, caption = (None, "")
        if params.get("caption"):
            caption_html, caption = self._text(params, "caption", 1024)
        message = self._add(
            chat_id, text=caption, html=caption_html, kind=kind, params=params, file_id=file_id
        )
        return message.raw

    def _add(
        self,
        chat_id: int,
        *,
        text: str,
        html: str | None,
        kind: str,
        params: JSON,
        file_id: str | None = None,
    ) -> BotMessage:
        message = BotMessage(
            message_id=next(self._message_ids),
            chat_id=chat_id,
            from_bot=True,
            text=text,
            html=html,
            buttons=_buttons(params.get("reply_markup")),
            date=int(self.now()),
            kind=kind,
            file_id=file_id,
        )
        self.chats[chat_id].append(message)
        message.raw = self._render(message)
        return message

    def _render(self, message: BotMessage) -> JSON:
        data: JSON = {
            "message_id": message.message_id,
            "date": message.date,
            "chat": self._chat_object(message.chat_id),
        }
        if message.from_bot:
            data["from"] = self.me
        else:
            data["from"] = self.users[message.chat_id]
        if message.edits:
            data["edit_date"] = int(self.now())
        if message.kind == "text":
            data["text"] = message.text
        elif message.file_id is not None:
            size = len(self.files.get(message.file_id, b""))
            file: JSON = {
                "file_id": message.file_id,
                "file_unique_id": f"u{message.file_id}",
                "file_size": size,
            }
            if message.kind == "photo":
                data["photo"] = [{**file, "width": 640, "height": 480}]
            elif message.kind == "voice":
                data["voice"] = {**file, "duration": 3, "mime_type": "audio/ogg"}
            else:
                data["document"] = {
                    **file,
                    "file_name": self.file_names.get(message.file_id) or "document.pdf",
                    "mime_type": "application/pdf",
                }
            if message.text:
                data["caption"] = message.text
        if message.buttons:
            data["reply_markup"] = {"inline_keyboard": message.buttons}
        return data

    def _chat_object(self, chat_id: int) -> JSON:
        user = self.users.get(chat_id, {})
        return {"id": chat_id, "type": "private", "first_name": user.get("first_name", "")}


class FakeUser:
    """A scripted person in a private chat with the bot."""

    def __init__(self, api: FakeBotAPI, user_id: int) -> None:
        self.api = api
        self.id = user_id

    @property
    def data(self) -> JSON:
        """The Telegram ``User`` object."""
        return self.api.users[self.id]

    def _message(self, **content: Any) -> tuple[BotMessage, JSON]:
        message = BotMessage(
            message_id=next(self.api._message_ids),
            chat_id=self.id,
            from_bot=False,
            text=content.get("text") or content.get("caption") or "",
            date=int(self.api.now()),
        )
        self.api.chats[self.id].append(message)
        raw: JSON = {
            "message_id": message.message_id,
            "from": self.data,
            "chat": self.api._chat_object(self.id),
            "date": message.date,
            **content,
        }
        message.raw = raw
        return message, raw

    async def send(self, text: str) -> int:
        """Send text; a leading ``/command`` is marked as a bot command like Telegram does."""
        content: JSON = {"text": text}
        command = re.match(r"/[A-Za-z0-9_]+(@\w+)?", text)
        if command:
            content["entities"] = [{"type": "bot_command", "offset": 0, "length": command.end()}]
        _, raw = self._message(**content)
        return await self.api.push_update({"message": raw})

    async def send_voice(self, duration: int = 4, data: bytes = b"OggS-voice") -> int:
        """Send a voice note."""
        file_id = f"voice-{next(self.api._ids)}"
        self.api.files[file_id] = data
        voice = {
            "file_id": file_id,
            "file_unique_id": f"u{file_id}",
            "duration": duration,
            "mime_type": "audio/ogg",
            "file_size": len(data),
        }
        _, raw = self._message(voice=voice)
        return await self.api.push_update({"message": raw})

    async def send_photo(self, data: bytes = b"\x89PNG-photo", caption: str | None = None) -> int:
        """Send a photo (e.g. of a letter)."""
        file_id = f"photo-{next(self.api._ids)}"
        self.api.files[file_id] = data
        sizes = [
            {
                "file_id": file_id,
                "file_unique_id": f"u{file_id}",
                "width": 1280,
                "height": 960,
                "file_size": len(data),
            }
        ]
        content: JSON = {"photo": sizes}
        if caption:
            content["caption"] = caption
        _, raw = self._message(**content)
        return await self.api.push_update({"message": raw})

    async def send_document(
        self,
        file_name: str = "letter.pdf",
        mime_type: str = "application/pdf",
        size: int | None = None,
        data: bytes = b"%PDF-1.4 letter",
    ) -> int:
        """Send a document; ``size`` may claim more than ``data`` holds (large files)."""
        file_id = f"document-{next(self.api._ids)}"
        self.api.files[file_id] = data
        document = {
            "file_id": file_id,
            "file_unique_id": f"u{file_id}",
            "file_name": file_name,
            "mime_type": mime_type,
            "file_size": len(data) if size is None else size,
        }
        _, raw = self._message(document=document)
        return await self.api.push_update({"message": raw})

    async def edit(self, message_id: int, text: str) -> int:
        """Edit one of the user's own messages (Telegram sends an ``edited_message``)."""
        for message in self.api.messages(self.id):
            if message.message_id == message_id and not message.from_bot:
                message.text = text
                raw = {**message.raw, "text": text, "edit_date": int(self.api.now())}
                return await self.api.push_update({"edited_message": raw})
        raise LookupError(message_id)

    async def send_raw(self, **content: Any) -> int:
        """Send any other kind of message (location, contact, dice…) as given."""
        _, raw = self._message(**content)
        return await self.api.push_update({"message": raw})

    async def send_sticker(self) -> int:
        """Send a sticker (something the bot cannot use)."""
        sticker = {
            "file_id": f"sticker-{next(self.api._ids)}",
            "file_unique_id": "s",
            "type": "regular",
            "width": 512,
            "height": 512,
            "is_animated": False,
            "is_video": False,
        }
        _, raw = self._message(sticker=sticker)
        return await self.api.push_update({"message": raw})

    async def press(
        self,
        label: str | None = None,
        *,
        data: str | None = None,
        message: BotMessage | None = None,
    ) -> str:
        """Press an inline button by its label (newest message first) or send raw ``data``.

        Returns the callback query id; the bot's answer is in :meth:`answer`.
        """
        if message is None:
            message = await self.api.wait_until(lambda: self._message_with_button(label, data))
        if data is None:
            for row in message.buttons:
                for button in row:
                    if button["text"] == label:
                        data = button["callback_data"]
            if data is None:
                raise LookupError(f"no button {label!r}")
        query_id = str(next(self.api._ids))
        query = {
            "id": query_id,
            "from": self.data,
            "message": self.api._render(message),
            "chat_instance": f"ci{self.id}",
            "data": data,
        }
        await self.api.push_update({"callback_query": query})
        return query_id

    def _message_with_button(self, label: str | None, data: str | None) -> BotMessage | None:
        for message in reversed(self.bot_messages()):
            for row in message.buttons:
                for button in row:
                    if (label is not None and button["text"] == label) or (
                        data is not None and button.get("callback_data") == data
                    ):
                        return message
        if data is not None:  # a forged press may name a button that was never sent
            shown = self.bot_messages()
            if shown:
                return shown[-1]
        return None

    def bot_messages(self) -> list[BotMessage]:
        """What the bot sent this user, oldest first, edits applied."""
        return [m for m in self.api.messages(self.id) if m.from_bot and not m.deleted]

    def answer(self, query_id: str) -> JSON | None:
        """The bot's ``answerCallbackQuery`` for ``query_id``, if any."""
        return self.api.callback_answers.get(query_id)

    async def wait_for_message(
        self,
        predicate: Callable[[BotMessage], bool] | None = None,
        *,
        after: int = 0,
        timeout: float | None = None,
    ) -> BotMessage:
        """Wait for a bot message (newer than index ``after``) matching ``predicate``."""

        def find() -> BotMessage | None:
            for message in self.bot_messages()[after:]:
                if predicate is None or predicate(message):
                    return message
            return None

        found: BotMessage = await self.api.wait_until(find, timeout)
        return found

    async def wait_for_text(self, fragment: str, *, timeout: float | None = None) -> BotMessage:
        """Wait until a bot message in this chat contains ``fragment``."""
        return await self.wait_for_message(lambda m: fragment in m.text, timeout=timeout)

    async def wait_for_answer(self, query_id: str, timeout: float | None = None) -> JSON:
        """Wait for the bot to answer the button press ``query_id``."""
        answer: JSON = await self.api.wait_until(lambda: self.answer(query_id), timeout)
        return answer


def _int(value: Any) -> int | None:
    if value is None or value == "":
        return None
    try:
        return int(value)
    except (TypeError, ValueError):
        raise ApiError(400, f"Bad Request: invalid integer value {value!r}") from None


def _buttons(markup: Any) -> list[list[JSON]]:
    if not markup:
        return []
    if isinstance(markup, str):
        markup = json.loads(markup)
    rows = markup.get("inline_keyboard", [])
    for row in rows:
        for button in row:
            data = button.get("callback_data")
            if data is not None and not 1 <= len(data.encode()) <= 64:
                raise ApiError(400, "Bad Request: BUTTON_DATA_INVALID")
            if not button.get("text"):
                raise ApiError(
                    400, "Bad Request: text buttons are unallowed in the inline keyboard"
                )
    return [list(row) for row in rows]


def _form_value(key: str, value: str | bytes | bytearray) -> object:
    """A parameter sent as text (query string or form): JSON unless it is a string field."""
    if key in _STRING_PARAMS:
        return value
    try:
        return json.loads(value)
    except ValueError:
        return value


async def _read_params(request: web.Request) -> JSON:
    params: JSON = {key: _form_value(key, value) for key, value in request.query.items()}
    if request.content_type == "application/json":
        body = await request.json()
        params.update(body if isinstance(body, dict) else {})
        return params
    if request.content_type in ("application/x-www-form-urlencoded", "multipart/form-data"):
        form = await request.post()
        for key, value in form.items():
            if isinstance(value, web.FileField):
                params[key] = value.file.read()
                params[f"{key}:filename"] = value.filename
            else:
                params[key] = _form_value(key, value)
    # Files sent as attach://name refer to another part of the same request.
    for key, value in list(params.items()):
        if isinstance(value, str) and value.startswith("attach://"):
            name = value.removeprefix("attach://")
            params[key] = params.get(name, value)
            if f"{name}:filename" in params:
                params[f"{key}:filename"] = params[f"{name}:filename"]
    return params
