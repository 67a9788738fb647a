"""The conversation on the in-memory channel: the same flows as on Telegram, without a wire
format, each input handled to the end before the next."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from bot.config import CityConfig
from bot.i18n import LANGUAGES, language_name, texts
from handlers import asking_views, coordination_views, lotse_views, views
from handlers.messages import RELAYED
from tests.conftest import BERLIN, shifted_clock
from tests.memory import CHANNELS, Person, World, coordinating, world

COORDINATOR = 9000


def _t(language: str = "en"):  # type: ignore[no-untyped-def]
    return texts(language, BERLIN)


@pytest.fixture
async def bot(city: CityConfig, tmp_path: Path) -> AsyncIterator[World]:
    async with world(
        coordinating(city, COORDINATOR), tmp_path / "bot.sqlite3", shifted_clock()
    ) as w:
        yield w


async def _onboard(person: Person, language: str = "en") -> None:
    await person.command("start")
    await person.pick(f"lang:{language}")
    await person.choose(_t(language).gettext("✅ I agree"))
    assert person.last.text == views.main_menu(_t(language)).text


async def _lotse(bot: World, address: int, name: str, channel: str = CHANNELS[0]) -> Person:
    coordinator = bot.person(COORDINATOR, "Koordination", "de")
    await coordinator.command("invite")
    code = re.findall(r"memory://start/([A-Z0-9]+)", coordinator.last.text)[0]
    lotse = bot.person(address, name, "en", channel=channel)
    await lotse.command("start", code)
    await lotse.pick(f"lang:en:{code}")
    await lotse.pick(f"consent:yes:{code}")
    assert any(c.action == "prof:show:lang" for row in lotse.last.choices for c in row)
    return lotse


async def _ask(person: Person) -> None:
    """Agree, then go through the questionnaire to *sent*."""
    await _onboard(person)
    await person.choose(_t().gettext("🤝 I need a Lotse"))
    await person.pick("ask:topic:jobcenter")
    await person.say("A letter from the Jobcenter")
    await person.pick("ask:langs_done")
    await person.pick("ask:district:0")
    await person.pick("ask:day:flex")  # no date: no place is asked
    await person.say("Amal")
    await person.pick("ask:confirm")
    assert person.last.text == asking_views.sent(_t()).text


async def test_the_first_conversation_offers_every_language_and_ends_at_the_menu(
    bot: World,
) -> None:
    person = bot.person(101, "Amal", language="xx")  # an app language the bot does not ship
    await person.command("start")
    assert set(person.last.labels()) == {language_name(code) for code in LANGUAGES}
    await person.choose(language_name("uk"))
    await person.choose(_t("uk").gettext("✅ I agree"))
    assert person.last.text == views.main_menu(_t("uk")).text
    menu = views.main_menu(_t("uk"))
    assert person.last.labels() == [c.label for row in menu.choices for c in row]
    assert _t("uk").gettext("🎤 Quick: just send a voice note") in person.last.labels()
    assert len(person.last.labels()) == 9  # with Quick, My requests, Write to the office


async def test_a_request_goes_from_the_first_choice_to_a_relayed_reply(bot: World) -> None:
    lotse = await _lotse(bot, 201, "Jonas")
    person = bot.person(101, "Amal")
    await _ask(person)

    offer = lotse.last
    assert "Amal" not in offer.text  # the name only after accepting
    notice, _ = await lotse.press("offer:accept:1", offer)
    assert notice is None
    details = [m for m in lotse.messages() if "Amal" in m.text]
    assert details and "A letter from the Jobcenter" in details[-1].text
    assert "Jonas" in person.last.text

    await lotse.say("I can come on Monday", reply_to=details[-1])
    relayed = person.messages()[-1]
    assert "I can come on Monday" in relayed.text and "1" in relayed.text
    await person.say("Thank you!", reply_to=relayed)
    assert "Thank you!" in lotse.messages()[-1].text


async def test_a_person_and_a_lotse_on_two_messengers_reach_each_other(bot: World) -> None:
    # The same address on both channels: two different people, each reached on their own.
    lotse = await _lotse(bot, 101, "Jonas", channel=CHANNELS[1])
    person = bot.person(101, "Amal", channel=CHANNELS[0])
    await _ask(person)

    # The offer reaches the Lotse on their messenger, and only there.
    offer = lotse.last
    assert offer.text == lotse_views.offer(_t(), bot.services.city, await _request(bot, 1)).text
    assert all(m.text != offer.text for m in person.messages())
    await lotse.press("offer:accept:1", offer)
    details = [m for m in lotse.messages() if "Amal" in m.text]
    assert details and "A letter from the Jobcenter" in details[-1].text
    assert "Jonas" in person.last.text

    # Replies go both ways across the two messengers, each to the reply's case.
    await lotse.say("I can come on Monday", reply_to=details[-1])
    relayed = person.last
    assert "I can come on Monday" in relayed.text and "1" in relayed.text
    # Passed on: a reaction on the sender's own message, not another message.
    assert lotse.last.text == details[-1].text
    assert list(bot.messengers[CHANNELS[1]].reactions.values()) == [RELAYED]
    await person.say("Thank you!", reply_to=relayed)
    assert "Thank you!" in lotse.last.text
    assert list(bot.messengers[CHANNELS[0]].reactions.values()) == [RELAYED]
    assert not [m for m in person.messages() + lotse.messages() if "Passed on" in m.text]
    # And a message that is no reply goes to the one running case as well.
    await lotse.say("See you")
    assert "See you" in person.last.text
    # A photo's reference means nothing on the other messenger: a copy goes, uploaded.
    await person.send_photo("The letter")
    assert "The letter" in lotse.last.text and lotse.last.attachment is None
    assert lotse.last.file is not None and lotse.last.file.kind == "photo"
    assert lotse.last.file.data.startswith(b"bytes of photo-")


async def _request(bot: World, number: int):  # type: ignore[no-untyped-def]
    request = await bot.services.requests.get(number)
    assert request is not None
    return request


async def test_coordinator_routes_refuse_everyone_else_and_change_nothing(bot: World) -> None:
    person = bot.person(101, "Amal")
    await _onboard(person)
    for command in ("stats", "waitlist", "broadcast", "invite", "requests", "expenses"):
        await person.command(command)
        assert person.last.text == coordination_views.not_allowed(_t()), command
    notice = await person.press("coord:approve:1")
    assert notice == (coordination_views.not_allowed(_t()), True)
    coordinator = bot.person(COORDINATOR, "Koordination", "de")
    await coordinator.command("invite")
    assert coordinator.last.text.count("memory://start/") == 1
    await coordinator.command("invite", "3")
    assert coordinator.last.text.count("memory://start/") == 3
    await coordinator.command("invite", "²")  # a digit to isdigit(), not to int()
    assert coordinator.last.text.count("memory://start/") == 1


async def test_a_forged_or_unknown_action_is_no_longer_valid(bot: World) -> None:
    person = bot.person(101, "Amal")
    await _onboard(person)
    expired = (views.button_expired(_t()), True)
    for data in ("nonsense", "ask:topic:../../etc", "menu:request:1", "lang:xx", "req:cancel:٣"):
        assert await person.press(data) == expired, data


async def test_typed_text_outside_any_flow_points_back_to_the_menu(bot: World) -> None:
    person = bot.person(101, "Amal")
    await _onboard(person)
    await person.say("hello")
    assert person.messages()[-2].text == views.not_understood(_t())
