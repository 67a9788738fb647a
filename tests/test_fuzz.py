"""Property-based: whatever people send or press, in whatever state, the bot answers and never
fails. Forged button data is made for every prefix the handlers take (read from the router's
table and the actions the handlers declare), and real buttons are spoiled."""

from __future__ import annotations

import ast
import asyncio
import importlib
import logging
import re
import sqlite3
import tempfile
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.config import load_city
from channels.telegram.fakeapi import FakeBotAPI, FakeUser
from handlers import views
from handlers.actions import Actions
from handlers.lotse import typed_hours
from handlers.router import ROUTES
from tests.conftest import CITY_FILE, COORDINATOR_ID, ROOT, coordinated_by, eventually, start_bot
from tests.scenario import ask_for_lotse, become_lotse, has_data, invite_codes, onboard, t

COMMANDS = [
    "/start",
    "/menu",
    "/status",
    "/help",
    "/privacy",
    "/language",
    "/mydata",
    "/delete",
    "/invite",
    "/requests",
    "/broadcast",
    "/stammtisch",
    "/waitlist",
    "/stats",
    "/lotsen",
    "/console",
    "/start ABCDEF1234",
    "/nonsense",
    "/start x y",
]


def callback_prefixes() -> list[str]:
    """Every prefix of action data the bot handles, read from the router's table."""
    return sorted({route.on.split(":")[0] for route in ROUTES if route.on})


PREFIXES = callback_prefixes()
#: Values that once crashed a handler or slipped through: too large, non-ASCII digits, out
#: of range, negative, empty, a stray newline, more parts.
NASTY = [
    "9" * 20,
    "¹",
    "999999999",
    "5-99",
    "1",
    "-1",
    "0",
    "",
    "\n",
    "1:2",
    "٣",
    "x",
    "yes",
    "de",
    "2020-01-01",
    "0830",
    "off",
    "none",
]
nasty = st.sampled_from(NASTY)
part = nasty | st.text(alphabet=st.characters(min_codepoint=32, max_codepoint=0x2FFF), max_size=12)


def _fit(data: str) -> str:
    """Telegram's limits on callback data: 1 to 64 bytes."""
    return data.encode()[:64].decode("utf-8", "ignore") or "x"


def button_shapes() -> list[list[str | None]]:
    """The shapes of the action data the handlers write: the parts, and None where a value
    goes (``case:hours:<id>:<hours>`` → ``["case", "hours", None, None]``). Read from every
    :class:`~handlers.actions.Actions` declaration — those made at import, and those a
    function makes (from the city's topics, say), read from the source — and from data still
    written out as text."""
    shapes: set[tuple[str | None, ...]] = set()

    def add(prefix: str, name: str, parts: list[str | None]) -> None:
        shapes.add((prefix, name, *parts))

    for path in sorted((ROOT / "handlers").glob("*.py")):
        module = importlib.import_module(f"handlers.{path.stem}")
        for value in vars(module).values():
            if isinstance(value, Actions):
                for name, parts in value.offered.items():
                    add(value.prefix, name, [p if isinstance(p, str) else None for p in parts])
        for node in ast.walk(ast.parse(path.read_text())):
            if not (
                isinstance(node, ast.Call)
                and isinstance(node.func, ast.Name)
                and node.func.id == "Actions"
                and isinstance(node.args[0], ast.Constant)
                and isinstance(node.args[1], ast.Dict)
            ):
                continue
            prefix = node.args[0].value
            for key, parts in zip(node.args[1].keys, node.args[1].values, strict=True):
                if isinstance(key, ast.Constant) and isinstance(parts, ast.Tuple):
                    add(prefix, key.value, [_fixed(p) for p in parts.elts])
                elif isinstance(parts, ast.Call):  # **dict.fromkeys((names…), (parts…))
                    names, each = parts.args
                    assert isinstance(each, ast.Tuple)
                    for name in ast.literal_eval(names):
                        add(prefix, name, [_fixed(p) for p in each.elts])
                elif isinstance(parts, ast.Name):  # **a dict of the module's
                    for name, known in getattr(module, parts.id).items():
                        add(prefix, name, [p if isinstance(p, str) else None for p in known])
    source = "\n".join(path.read_text() for path in (ROOT / "handlers").glob("*.py"))
    found = re.findall(rf'"((?:{"|".join(PREFIXES)}):[^"\n]*)"', source)
    shapes |= {
        tuple(None if not piece or "{" in piece else piece for piece in data.split(":"))
        for data in found
    }
    missing = set(PREFIXES) - {shape[0] for shape in shapes}
    assert not missing, f"no action data written for {missing}: teach this test"
    return [list(shape) for shape in sorted(shapes, key=str)]


def _fixed(part: ast.expr) -> str | None:
    """A part written as a string in a declaration stays as it is; any other is a value."""
    return part.value if isinstance(part, ast.Constant) and isinstance(part.value, str) else None


SHAPES = button_shapes()


def _forged(shape: list[str | None], values: list[str], change: str, extra: str) -> str:
    """A button's data with odd values where values go, perhaps a part dropped or added."""
    filled = iter(values)
    parts = [piece if piece is not None else next(filled) for piece in shape]
    if change == "drop":
        parts.pop()
    elif change == "add":
        parts.append(extra)
    return _fit(":".join(parts))


#: Data of the shape of a real button (of every prefix the bot handles), with odd values;
#: or any text.
callback_data = st.sampled_from(SHAPES).flatmap(
    lambda shape: st.builds(
        _forged,
        st.just(shape),
        st.lists(nasty, min_size=shape.count(None), max_size=shape.count(None)),
        st.sampled_from(["keep", "drop", "add"]),
        part,
    )
) | st.builds(_fit, st.text(max_size=20))

#: How to spoil a real button's data: which button, which part, what to put in, and whether
#: to replace that part with it, to drop the part, or to add it after the part.
tampering = st.tuples(
    st.integers(min_value=0, max_value=30),
    st.integers(min_value=0, max_value=5),
    part,
    st.sampled_from(["set", "drop", "add"]),
)

actions = st.one_of(
    st.tuples(st.just("text"), st.text(min_size=1, max_size=300).filter(str.strip)),
    st.tuples(st.just("text"), st.just("ﷺ" * 4096)),
    st.tuples(st.just("command"), st.sampled_from(COMMANDS)),
    st.tuples(st.just("press"), st.integers(min_value=0, max_value=30)),
    st.tuples(st.just("press"), st.integers(min_value=0, max_value=30)),
    st.tuples(st.just("forge"), callback_data),
    st.tuples(st.just("forge"), callback_data),
    st.tuples(st.just("tamper"), tampering),
    st.tuples(st.just("tamper"), tampering),
    st.tuples(st.just("sticker"), st.none()),
    st.tuples(st.just("voice"), st.none()),
    st.tuples(st.just("photo"), st.none()),
    st.tuples(st.just("location"), st.none()),
    st.tuples(st.just("edit"), st.text(min_size=1, max_size=50).filter(str.strip)),
)


def _done(db: Path, update_id: int) -> bool:
    try:
        with sqlite3.connect(db) as conn:
            row = conn.execute(
                "SELECT done_at FROM inbox WHERE update_id = ?", (update_id,)
            ).fetchone()
    except sqlite3.Error:
        return False
    return row is not None and row[0] is not None


def _footprint(api: FakeBotAPI, user: FakeUser) -> tuple[int, int, int, int]:
    """What the person sees change: the bot's messages and edits, answered presses, and the
    bot's reactions on their own messages (a message passed on to their case)."""
    messages = user.bot_messages()
    reactions = sum(bool(m.reactions) for m in api.messages(user.id) if not m.from_bot)
    return len(messages), sum(m.edits for m in messages), len(api.callback_answers), reactions


async def _act(user: FakeUser, kind: str, value: Any) -> int:
    if kind in ("text", "command"):
        return await user.send(value)
    if kind == "press":
        buttons = [(m, b) for m in user.bot_messages()[-4:] for row in m.buttons for b in row]
        if buttons:
            message, button = buttons[value % len(buttons)]
            await user.press(data=button["callback_data"], message=message)
            return user.api.last_update_id
        return await user.send("/start")
    if kind == "forge":
        if not user.bot_messages():  # a button press needs a message with buttons
            return await user.send("/start")
        await user.press(data=value)
        return user.api.last_update_id
    if kind == "tamper":
        index, which, token, how = value
        shown = [(m, b) for m in user.bot_messages() for row in m.buttons for b in row]
        if not shown:
            return await user.send("/start")
        message, button = shown[index % len(shown)]
        parts = button["callback_data"].split(":")
        at = which % len(parts)
        if how == "set":
            parts[at] = token
        elif how == "drop":
            del parts[at]
        else:
            parts.insert(at + 1, token)
        await user.press(data=_fit(":".join(parts)), message=message)
        return user.api.last_update_id
    if kind == "sticker":
        return await user.send_sticker()
    if kind == "voice":
        return await user.send_voice()
    if kind == "photo":
        return await user.send_photo()
    if kind == "location":
        return await user.send_raw(location={"latitude": 51.66, "longitude": 6.96})
    mine = [m for m in user.api.messages(user.id) if not m.from_bot]
    if mine:
        return await user.edit(mine[-1].message_id, value)
    return await user.send(value)


class _Errors(logging.Handler):
    """Collects what the error handler logs: there must be nothing."""

    def __init__(self) -> None:
        super().__init__(logging.ERROR)
        self.seen: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.seen.append(record.getMessage())


def _at_step(db: Path, user: FakeUser) -> tuple[str, object] | None:
    """The step the user is at: their draft's id, or the kind of their open dialog."""
    with sqlite3.connect(db) as conn:
        person = conn.execute(
            "SELECT person_id FROM contact WHERE channel = 'telegram' AND address = ?",
            (str(user.id),),
        ).fetchone()
        if person is None:
            return None
        draft = conn.execute(
            "SELECT id FROM request WHERE person_id = ? AND status = 'draft'", person
        ).fetchone()
        if draft is not None:
            return ("draft", draft[0])
        dialog = conn.execute("SELECT kind FROM dialog WHERE person_id = ?", person).fetchone()
    return ("dialog", dialog[0]) if dialog is not None else None


def _others(api: FakeBotAPI, user: FakeUser) -> dict[int, int]:
    """How many messages everyone else in the fake API has had from the bot."""
    return {
        chat: len([m for m in messages if m.from_bot])
        for chat, messages in api.chats.items()
        if chat != user.id
    }


def _answers_the_step(at: tuple[str, object], text: str) -> bool:
    """Whether typed ``text`` answers the dialog's one question and so may end it: hours to
    the hours question, a case number to "which case?"."""
    return (at == ("dialog", "hours") and typed_hours(text) is not None) or (
        at == ("dialog", "relay") and text.lstrip().startswith("#")
    )


async def _become(api: FakeBotAPI, role: str, language: str) -> FakeUser:
    """The person the fuzzer plays: new, agreed, an active Lotse, the coordinator; or with a
    case running, asking anew (at a step of a new request) or closing it (asked the hours)."""
    if role in ("asking", "closing"):
        lotse = await _become(api, "lotse", language)
        if role == "closing":
            await lotse.press(data="case:done:1")
            await lotse.wait_for_message(lambda m: has_data(m, "case:hours:1:2"))
            return lotse
        person = api.user(6002)
        seen = len(person.bot_messages())
        await person.send("/menu")
        await person.press(
            data="menu:request",
            message=await person.wait_for_message(
                lambda m: has_data(m, "menu:request"), after=seen
            ),
        )
        await person.wait_for_message(lambda m: has_data(m, "ask:stop"), after=seen)
        return person
    if role in ("lotse", "asker"):  # both sides of case #1: a person asked, a Lotse accepted
        (code,) = await invite_codes(api, 1)
        lotse = await become_lotse(api, 6001, "Fuzz", [language], code)
        person = api.user(6002, "Asker", language)
        await onboard(person, language)
        await ask_for_lotse(person, language, name="Asker")
        await lotse.press(data="offer:accept:1")
        await person.wait_for_text("Fuzz")
        await person.send("/status")  # its buttons are there to spoil
        await person.wait_for_message(lambda m: any("req:" in str(r) for r in m.buttons))
        return lotse if role == "lotse" else person
    user = api.user(COORDINATOR_ID if role == "coordinator" else 6001, "Fuzz", language)
    if role != "new":
        await user.send("/start")
        await user.press(data=f"lang:{language}")
        await user.press(data="consent:yes")
        await user.wait_for_message(lambda m: len(m.buttons) >= 6)
    return user


async def _run(language: str, role: str, steps: list[tuple[str, Any]]) -> None:
    api = FakeBotAPI()
    await api.start()
    city = coordinated_by(load_city(CITY_FILE), COORDINATOR_ID)
    errors = _Errors()
    logging.getLogger("handlers.router").addHandler(errors)
    with tempfile.TemporaryDirectory() as folder:
        db = Path(folder) / "bot.sqlite3"
        bot = await start_bot(api, city, db)
        try:
            user = await _become(api, role, language)
            for kind, value in steps:
                before = _footprint(api, user)
                typed = kind == "text" and not value.lstrip().startswith("/")
                at = _at_step(db, user) if typed else None
                others = _others(api, user)
                update_id = await _act(user, kind, value)
                for _ in range(500):
                    if _done(db, update_id):
                        break
                    await asyncio.sleep(0.01)
                assert _done(db, update_id), f"{kind} was never handled"
                await api.wait_until(lambda before=before: _footprint(api, user) != before, 5)
                assert not bot.task.done()
                if at is not None and not _answers_the_step(at, value):
                    # Typed text at a step stays there, and reaches nobody else.
                    assert _at_step(db, user) == at, (at, value)
                    assert _others(api, user) == others, (at, value)
                    menu = views.main_menu(t(language)).text
                    assert user.bot_messages()[-1].text != menu, (at, value)
            apologies = [m for m in user.bot_messages() if m.text == views.apology(t(language))]
            assert apologies == [], "an unexpected error happened"
            alert = views.error_alert(t("de"), "\0", "\0").split("\0")[0]
            assert not [m for m in api.messages(COORDINATOR_ID) if m.text.startswith(alert)]
            assert errors.seen == []
            # Every button the bot drew has a prefix the fuzzer forges.
            drawn = {
                button["callback_data"].split(":")[0]
                for m in api.messages(user.id)
                for row in m.buttons
                for button in row
            }
            assert drawn <= set(PREFIXES), drawn - set(PREFIXES)
        finally:
            logging.getLogger("handlers.router").removeHandler(errors)
            await bot.shutdown()
            await api.stop()


@settings(
    max_examples=40,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(
    language=st.sampled_from(["de", "ar", "uk", "ku"]),
    role=st.sampled_from(["new", "member", "lotse", "coordinator", "asking", "closing"]),
    steps=st.lists(actions, min_size=1, max_size=10),
)
def test_every_input_in_every_state_gets_an_answer(
    language: str, role: str, steps: list[tuple[str, Any]]
) -> None:
    """Whoever it is and whatever they send or press, forged button data of every prefix the
    bot handles included: an answer comes, no handler fails, no coordinator is alerted. Text
    typed at a step (of a request, a dialog, a question of the bot's) keeps the person at that
    step unless it answers it, never brings the main menu and never reaches anyone else."""
    asyncio.run(_run(language, role, steps))


@settings(
    max_examples=20,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(
    language=st.sampled_from(["de", "ar", "uk", "ku"]),
    role=st.sampled_from(["lotse", "asker", "coordinator"]),
    steps=st.lists(
        st.one_of(
            st.tuples(st.just("forge"), callback_data),
            st.tuples(st.just("tamper"), tampering),
            st.tuples(st.just("press"), st.integers(min_value=0, max_value=30)),
        ),
        min_size=8,
        max_size=14,  # with the set-up, within the rate limit's burst
    ),
)
def test_forged_and_spoiled_buttons_around_a_case_never_fail(
    language: str, role: str, steps: list[tuple[str, Any]]
) -> None:
    """Both sides of a running case and the coordinator press forged data and real buttons
    with a part changed, dropped or added: no handler fails, no coordinator is alerted."""
    asyncio.run(_run(language, role, steps))


# ---------------------------------------------------------------- replies to a closed case

replies = st.tuples(
    st.sampled_from(["lotse", "person"]),
    st.sampled_from(["reply", "reply", "text"]),
    st.integers(min_value=0, max_value=60),
    st.text(min_size=1, max_size=60).filter(str.strip),
)


async def _case_world(api: FakeBotAPI) -> tuple[FakeUser, FakeUser, FakeUser]:
    """A Lotse closed Amal's case (#1) after messages both ways and runs Bashir's (#2)."""
    codes = await invite_codes(api, 1)
    lotse = await become_lotse(api, 6101, "Yusuf", ["de", "ar"], codes[0])
    amal, bashir = (
        api.user(6102, "Amal", language_code="ar"),
        api.user(6103, "Bashir", language_code="ar"),
    )
    await onboard(amal, "ar")
    await ask_for_lotse(amal, "ar", name="Amal")
    await lotse.press(data="offer:accept:1")
    await amal.wait_for_message(lambda m: m.text.startswith("🎉"))
    await amal.send("Fuzz: Amal schreibt")
    await lotse.wait_for_text("Fuzz: Amal schreibt")
    await lotse.send("Fuzz: Yusuf schreibt")
    await amal.wait_for_text("Fuzz: Yusuf schreibt")
    await lotse.press(data="case:done:1")
    hours = await lotse.wait_for_message(lambda m: has_data(m, "case:hours:1:2"))
    await lotse.press(data="case:hours:1:2", message=hours)
    await amal.wait_for_message(lambda m: "👍" in m.button_labels())
    await onboard(bashir, "ar")
    await ask_for_lotse(bashir, "ar", name="Bashir")
    await lotse.press(data="offer:accept:2")
    await bashir.wait_for_message(lambda m: m.text.startswith("🎉"))
    return lotse, amal, bashir


def _case_of(db: Path, chat_id: int, message_id: int) -> int | None:
    with sqlite3.connect(db) as conn:
        row = conn.execute(
            "SELECT request_id FROM relay "
            "WHERE channel = 'telegram' AND chat = ? AND message_id = ?",
            (str(chat_id), message_id),
        ).fetchone()
    return int(row[0]) if row else None


async def _run_replies(steps: list[tuple[str, str, int, str]]) -> None:
    api = FakeBotAPI()
    await api.start()
    city = coordinated_by(load_city(CITY_FILE), COORDINATOR_ID)
    with tempfile.TemporaryDirectory() as folder:
        db = Path(folder) / "bot.sqlite3"
        bot = await start_bot(api, city, db)
        try:
            lotse, amal, bashir = await _case_world(api)
            nowhere: list[str] = []  # must reach nobody
            only_bashir: list[str] = []  # may reach Bashir (case #2), nobody else
            for number, (who, kind, index, value) in enumerate(steps):
                user = lotse if who == "lotse" else amal
                text = f"F{number}: {value.strip()}"
                before = _footprint(api, user)
                chat = [m for m in api.messages(user.id) if not m.deleted]
                if kind == "reply" and chat:
                    target = chat[index % len(chat)]
                    case = _case_of(db, user.id, target.message_id)
                    update_id = await user.send_raw(text=text, reply_to_message=target.raw)
                else:
                    case = 2 if user is lotse else None  # plain text: the one running case
                    update_id = await user.send(text)
                (only_bashir if user is lotse and case == 2 else nowhere).append(text)
                await eventually(lambda update_id=update_id: _done(db, update_id))
                await api.wait_until(
                    lambda before=before, user=user: _footprint(api, user) != before, 5
                )
            for person in (lotse, amal, bashir):
                shown = " ".join(m.text for m in person.bot_messages())
                for text in nowhere:
                    assert text not in shown, (text, person.id)
                for text in only_bashir:
                    assert person is bashir or text not in shown, (text, person.id)
                apologies = [m for m in person.bot_messages() if m.text in _apologies()]
                assert apologies == [], "an unexpected error happened"
        finally:
            await bot.shutdown()
            await api.stop()


def _apologies() -> set[str]:
    return {views.apology(t(language)) for language in ("de", "ar")}


@settings(
    max_examples=6,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(steps=st.lists(replies, min_size=1, max_size=8))
def test_replies_to_a_closed_case_reach_nobody(steps: list[tuple[str, str, int, str]]) -> None:
    """A Lotse and the person of a closed case reply to any message in their chats, or write
    plainly: nothing reaches the closed case's other side, and a reply to a message that is
    not of the running case reaches nobody."""
    asyncio.run(_run_replies(steps))
