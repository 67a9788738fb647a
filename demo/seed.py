"""The demo world's first people, made through the bot itself.

Everything here is done the way a person or an operator would do it: the coordinator is
added like ``lotsenbot coordinator add`` does, creates invitation links with ``/invite``,
the Lotsen open them and fill in their profiles, and a few refugees ask for a Lotse by
tapping through the intake, one of them on Signal by typing the numbers of the lists, whose
request a Lotse on Telegram takes. So the database, the offers and every chat are consistent, and
the phones on the page show how each person got there. The coordinator finally sets up the
monthly Stammtisch in the same dialog a real coordinator uses.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import Callable
from dataclasses import dataclass
from html import unescape

from bot.domain.people import Contact
from bot.i18n import language_name, texts
from channels.telegram.fakeapi import BotMessage, FakeUser
from demo.samples import sample_photo, sample_voice
from demo.world import DemoWorld
from handlers import asking_views

__all__ = ["COORDINATOR", "LOTSEN", "ON_SIGNAL", "REFUGEE", "REQUESTS", "seed_world"]

_TIMEOUT = 20.0


@dataclass(frozen=True)
class Person:
    """Someone in the demo world."""

    id: int
    name: str
    language: str


@dataclass(frozen=True)
class LotseSpec:
    """A Lotse, the languages they speak and the Stadtteile they serve (by index)."""

    person: Person
    languages: tuple[str, ...]
    districts: tuple[int, ...]
    shown: bool = False


@dataclass(frozen=True)
class RequestSpec:
    """A refugee and the request they send."""

    person: Person
    topic: str
    text: str | None
    district: int
    voice: bool = False
    photo: bool = False
    day: int | None = None  # index into the two-week calendar; None is "flexible"
    time: str = "1000"


COORDINATOR = Person(3001, "Sabine", "de")
#: The refugee whose phone is shown first, who has not talked to the bot yet.
REFUGEE = Person(1001, "Amal", "ar")
LOTSEN = (
    LotseSpec(Person(2001, "Yusuf", "ar"), ("ar", "de"), (0, 5), shown=True),
    LotseSpec(Person(2002, "Oksana", "uk"), ("uk", "ru"), (6,)),
    LotseSpec(Person(2003, "Reza", "fa"), ("fa", "de"), (10,)),
    LotseSpec(Person(2004, "Ayşe", "tr"), ("tr", "de"), (4,)),
)
REQUESTS = (
    RequestSpec(
        Person(1002, "Samira", "ar"),
        "auslaenderbehoerde",
        "وصلتني رسالة من Ausländerbehörde ولا أفهم ما المطلوب مني",
        district=5,
        photo=True,
        day=3,
    ),
    RequestSpec(Person(1003, "Olena", "uk"), "health", None, district=6, voice=True),
    RequestSpec(
        Person(1004, "Karim", "fa"),
        "housing",
        "برای خانواده‌ام در دورستن دنبال خانه هستیم",
        district=10,
    ),
)


#: A refugee on Signal whose request the first Lotse (on Telegram) has taken.
ON_SIGNAL = RequestSpec(
    Person(1005, "Nour", "ar"), "jobcenter", "سؤال عن Bürgergeld من Jobcenter", district=0
)


async def seed_world(world: DemoWorld) -> None:
    """Make the coordinator, the Lotsen and the open requests of a new demo world."""
    # Phones in the order the page shows them: a refugee, a Lotse, the coordinator, the rest.
    world.add_phone(REFUGEE.id, REFUGEE.name, REFUGEE.language, "refugee", shown=True)
    for spec in LOTSEN:
        person = spec.person
        world.add_phone(person.id, person.name, person.language, "lotse", spec.shown)
    coordinator = world.add_phone(
        COORDINATOR.id, COORDINATOR.name, COORDINATOR.language, "coordinator", shown=True
    )
    for request in REQUESTS:
        person = request.person
        world.add_phone(person.id, person.name, person.language, "refugee", shown=False)
    nour = ON_SIGNAL.person
    world.add_signal_phone(nour.id, nour.name, nour.language, "refugee", shown=False)

    # what `lotsenbot coordinator add` does
    await world.people.add_coordinator(Contact("telegram", str(COORDINATOR.id)))
    await onboard(coordinator, COORDINATOR.language)
    codes = await invite(coordinator, len(LOTSEN) + 1)  # one link is left for the visitor
    await asyncio.gather(
        *(become_lotse(world, spec, code) for spec, code in zip(LOTSEN, codes, strict=False))
    )
    await asyncio.gather(*(ask_for_lotse(world, spec) for spec in REQUESTS))
    await ask_on_signal(world, ON_SIGNAL)
    await accept(world.user(LOTSEN[0].person.id), ON_SIGNAL)
    await plan_stammtisch(coordinator)


async def plan_stammtisch(coordinator: FakeUser) -> None:
    """The coordinator sets up the monthly Stammtisch: first Wednesday, 18:00, two topics."""
    await coordinator.send("/stammtisch")
    for data in (
        "ev:rules",
        "ev:rule_new",
        "evd:title:default",
        "evd:nth:1",
        "evd:wd:2",
        "evd:time:1800",
        "evd:place:default",
        "evd:topic:0",
    ):
        await tap(coordinator, data)
    await coordinator.api.wait_until(
        lambda: any("✅ " in label for label in coordinator.bot_messages()[-1].button_labels()),
        _TIMEOUT,
    )
    await tap(coordinator, "evd:topic:1")
    await tap(coordinator, "evd:goto:confirm")
    seen = len(coordinator.bot_messages())
    await tap(coordinator, "evd:save")
    await coordinator.wait_for_message(  # the list of the next dates
        lambda m: any(b.get("callback_data") == "ev:rules" for row in m.buttons for b in row),
        after=seen,
        timeout=_TIMEOUT,
    )


async def onboard(user: FakeUser, language: str, code: str | None = None) -> None:
    """/start (with an invitation code), choose the language, agree."""
    suffix = f":{code}" if code else ""
    await user.send(f"/start {code}" if code else "/start")
    await tap(user, f"lang:{language}{suffix}")
    await tap(user, f"consent:yes{suffix}")
    if code is None:  # the main menu (a coordinator's has their own entries first)
        await newest(user, "menu:lotse")


async def invite(coordinator: FakeUser, count: int) -> list[str]:
    """The coordinator creates invitation links with /invite."""
    seen = len(coordinator.bot_messages())
    await coordinator.send(f"/invite {count}")
    message = await coordinator.wait_for_message(
        lambda m: "start=" in m.text, after=seen, timeout=_TIMEOUT
    )
    return re.findall(r"start=([A-Z0-9]+)", message.text)


async def become_lotse(world: DemoWorld, spec: LotseSpec, code: str) -> None:
    """Open the invitation link, agree, and set languages and Stadtteile in the profile."""
    user = world.user(spec.person.id)
    await onboard(user, spec.languages[0], code)
    await tap(user, "prof:show:lang")
    for language in spec.languages[1:]:
        await tap(user, f"prof:lang:{language}")
        await labelled(user, f"✅ {language_name(language)}")
    await tap(user, "lotse:profile")
    await tap(user, "prof:show:dist")
    for index in spec.districts:
        await tap(user, f"prof:dist:{index}")
        await labelled(user, f"✅ {world.city.districts[index]}")
    await tap(user, "lotse:profile")
    await newest(user, "prof:show:dist")


async def ask_for_lotse(world: DemoWorld, spec: RequestSpec) -> None:
    """A refugee taps through the intake and sends the request."""
    person = spec.person
    user = world.user(person.id)
    await onboard(user, person.language)
    await tap(user, "menu:request")
    await tap(user, f"ask:topic:{spec.topic}")
    await newest(user, "ask:stop")
    if spec.voice:
        await user.send_voice(duration=5, data=sample_voice())
    elif spec.photo:
        await user.send_photo(data=sample_photo(), caption=spec.text)
    else:
        assert spec.text is not None
        await user.send(spec.text)
    await tap(user, "ask:langs_done")
    await tap(user, f"ask:district:{spec.district}")
    if spec.day is None:
        await tap(user, "ask:day:flex")
    else:
        calendar = await newest(user, "ask:day:flex")
        data = [b["callback_data"] for row in calendar.buttons for b in row]
        days = [d for d in data if d.startswith("ask:day:") and d != "ask:day:flex"]
        await tap(user, days[spec.day])
        await tap(user, f"ask:hour:{spec.time[:2]}")  # the hour, then its quarter
        await tap(user, f"ask:time:{spec.time}")
        await tap(user, "ask:place:skip")
    await tap(user, "ask:name:telegram")
    await tap(user, "ask:confirm")
    sent = plain(asking_views.sent(texts(person.language, world.city.timezone)).text)[:40]
    await user.wait_for_text(sent, timeout=_TIMEOUT)


async def ask_on_signal(world: DemoWorld, spec: RequestSpec) -> None:
    """A refugee on Signal types the numbers of the choices and sends the request."""
    person = spec.person
    await world.send_text(person.id, "مرحبا")
    for action in (f"lang:{person.language}", "consent:yes", "menu:request"):
        await choose(world, person.id, action)
    await choose(world, person.id, f"ask:topic:{spec.topic}")
    await on_screen(world, person.id, lambda actions: actions == ["ask:stop"])
    assert spec.text is not None
    await world.send_text(person.id, spec.text)
    for action in (
        "ask:langs_done",
        f"ask:district:{spec.district}",
        "ask:day:flex",  # no date: no place is asked
        "ask:name:telegram",  # the name Signal's profile gives, offered
        "ask:confirm",
    ):
        await choose(world, person.id, action)
    sent = plain(asking_views.sent(texts(person.language, world.city.timezone)).text)[:40]
    user = world.signal_user(person.id)
    await user.wait_for_text(sent, timeout=_TIMEOUT)


async def on_screen(world: DemoWorld, user_id: int, wanted: Callable[[list[str]], bool]) -> None:
    """Wait until the latest screen in a Signal chat has the choices ``wanted``."""
    deadline = asyncio.get_running_loop().time() + _TIMEOUT
    while not wanted(await world.latest_choices(user_id)):
        if asyncio.get_running_loop().time() > deadline:
            raise TimeoutError("the screen did not come")
        await asyncio.sleep(0.02)


async def choose(world: DemoWorld, user_id: int, action: str) -> None:
    """Type the number of ``action`` once the latest screen in the Signal chat offers it."""
    await on_screen(world, user_id, lambda actions: action in actions)
    await world.choose(user_id, action)


async def accept(lotse: FakeUser, spec: RequestSpec) -> None:
    """The Lotse accepts the offer of ``spec``'s request."""
    assert spec.text is not None
    text = spec.text

    def offer() -> str | None:
        for message in lotse.bot_messages():
            if text in message.text:
                for row in message.buttons:
                    for button in row:
                        if str(button.get("callback_data", "")).startswith("offer:accept:"):
                            return str(button["callback_data"])
        return None

    data: str = await lotse.api.wait_until(offer, _TIMEOUT)
    await tap(lotse, data)
    await lotse.wait_for_text(spec.person.name, timeout=_TIMEOUT)


async def newest(user: FakeUser, data: str) -> BotMessage:
    """Wait for the newest bot message with a button sending ``data``."""

    def find() -> BotMessage | None:
        for message in reversed(user.bot_messages()):
            if any(b.get("callback_data") == data for row in message.buttons for b in row):
                return message
        return None

    found: BotMessage = await user.api.wait_until(find, _TIMEOUT)
    return found


async def tap(user: FakeUser, data: str) -> None:
    """Press the button sending ``data`` on the newest message that has it."""
    await user.press(data=data, message=await newest(user, data))


def plain(html: str) -> str:
    """The text a person sees for one of the bot's HTML messages."""
    return unescape(re.sub(r"</?[a-z-]+[^>]*>", "", html))


async def labelled(user: FakeUser, label: str) -> None:
    """Wait until a button labelled ``label`` is shown."""
    await user.api.wait_until(
        lambda: any(label in m.button_labels() for m in user.bot_messages()), _TIMEOUT
    )
