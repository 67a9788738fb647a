"""Forged button data: refused with "no longer valid", nothing changes, nobody is alarmed."""

from __future__ import annotations

import logging
import sqlite3
from pathlib import Path

import pytest

from channels.telegram.fakeapi import FakeBotAPI, FakeUser
from handlers import asking_views, views
from tests.conftest import COORDINATOR_ID, RunningBot
from tests.scenario import (
    ask_for_lotse,
    become_lotse,
    has_data,
    invite_codes,
    label,
    onboard,
    plain_first_line,
    t,
)

HUGE = "9" * 20  # more than SQLite's 64-bit integers hold

#: Forged presses of the Lotse of case #1 (each person has fewer than the rate limit allows
#: at once).
FORGED_BY_LOTSE = [
    "att:1",
    "att:1:maybe",
    "att:1:yes:1",
    f"att:{HUGE}:yes",
    "fb:1",
    "fb:1:great",
    f"fb:{HUGE}:good",
    "case:done",
    "case:done:¹",
    f"case:done:{HUGE}",
    "case:done:1:2",
    "case:back_yes:1:1",
    "case:close:1",
    f"offer:accept:{HUGE}",
    "offer:accept:1:1",
    "offer:decline:",
    "lotse:cases:1",
    f"ev:rsvp:{HUGE}:yes",
    "ev:rsvp:1:yes:2",
    "ev:rsvp:1:perhaps",
]

#: Forged presses of another Lotse at their profile.
FORGED_PROFILE = [
    "prof:pause:999999999",
    "prof:pause:5",
    "prof:pause:-7",
    "prof:pause:",
    "prof:pause:14:1",
    "prof:quiet:5-99",
    "prof:quiet:3-4",
    "prof:quiet:22-7-1",
    "prof:quiet:-",
    "prof:max:99",
    "prof:max:²",
    "prof:dist:-1",
    "prof:dist:99",
    "prof:dist:0:0",
    "prof:lang:xx",
    "prof:topic:nope",
    "prof:show:nope",
    "prof",
]

#: Forged presses of the refugee of case #1, who has a second request at its time step.
FORGED_BY_REFUGEE = [
    f"req:cancel:{HUGE}",
    "req:cancel:¹",
    "req:cancel_yes:1:1",
    "req:keep:1",
    "req:",
    "ask:time:0831",  # quarter hours are offered, other minutes are not
    "ask:time:2599",
    "ask:time:1",
    "ask:time:none:1",
    "ask:district:99",
    "ask:edit:time",
    "ask:stop:now",
]

#: Forged presses of someone who only agreed.
FORGED_BY_MEMBER = [
    "lang:de:nonsense",
    "lang:de:ABCDEF:1",
    "consent:yes\n",
    "menu:home\n",
    "wl:join:x",
    "wl:leave:1",
    f"wl:t:{HUGE}:yes",
    "wl:t:1:maybe",
    "wld:lang:xx",
    "news:off:1",
    "news:on\n",
    "priv:keep\n",
    "priv:keep:1",
]

#: Forged presses of a coordinator.
FORGED_BY_COORDINATOR = [
    f"coord:approve:{HUGE}",
    "coord:approve:¹",
    "coord:approve:1:2",
    "coord:assign:1",
    f"coord:assign:1:{HUGE}",
    "st:requests:csv:x",
    "st:requests",
    f"bc:cancel:{HUGE}",
    "bc:resend:1:1",
    f"ev:card:{HUGE}",
    "ev:card:1:1",
    "ev:rules:1",
    "ev:new:1",
    f"ev:rule_stop:{HUGE}",
    "wlc:page:999",
    "wlc:page:1:1",
    "wlc:export:pdf",
    "wlc:export:csv:1",
    "evd:nth:7",
    "bc:aud:nobody",
]


def dump(db_path: Path) -> list[str]:
    """Everything stored, except the inbox of updates (which records every press)."""
    with sqlite3.connect(db_path) as conn:
        return [line for line in conn.iterdump() if '"inbox"' not in line]


def chat(user: FakeUser) -> list[tuple[int, str, object]]:
    """What the bot shows the user: every message with its buttons, edits applied."""
    return [(m.message_id, m.text, m.buttons) for m in user.bot_messages()]


async def not_refused(user: FakeUser, language: str, forged: list[str]) -> list[tuple[str, str]]:
    """The presses not answered with the alert "This button is no longer valid."."""
    expired = (views.button_expired(t(language)), True)
    wrong = []
    for data in forged:
        query = await user.press(data=data)
        try:
            answer = await user.wait_for_answer(query, timeout=3)
        except TimeoutError:
            wrong.append((data, "no answer"))
            continue
        if (answer.get("text"), answer.get("show_alert")) != expired:
            wrong.append((data, str(answer.get("text"))))
    return wrong


async def test_forged_button_data_is_refused_changes_nothing_and_alerts_nobody(
    running: RunningBot, api: FakeBotAPI, caplog: pytest.LogCaptureFixture
) -> None:
    codes = await invite_codes(api, 2)
    lotse = await become_lotse(api, 3101, "Leyla", ["tr"], codes[0])
    other = await become_lotse(api, 3102, "Deniz", ["tr"], codes[1])
    refugee = api.user(3201, "Hasan", language_code="tr")
    await onboard(refugee, "tr")
    await ask_for_lotse(refugee, "tr", name="Hasan")
    await lotse.press(label("tr", "✅ Accept"))
    await refugee.wait_for_text("Leyla")
    # A second request, left at the step that asks for the time.
    today = running.clock.now().astimezone(running.city.timezone).date()
    await refugee.press(data="menu:request")
    await refugee.press(data="ask:topic:jobcenter")
    await refugee.send("Noch ein Brief")
    await refugee.press(data="ask:langs_done")
    await refugee.press(data="ask:district:0")
    await refugee.press(data=f"ask:day:{today.isoformat()}")
    await refugee.wait_for_text(plain_first_line(asking_views.ask_time(t("tr")).text))
    member = api.user(3202, "Aylin", language_code="tr")
    await onboard(member, "tr")
    coordinator = api.user(COORDINATOR_ID, "Koordination", language_code="de")
    people = (lotse, other, refugee, member, coordinator)
    shown = [chat(user) for user in people]
    stored = dump(running.settings.db_path)
    caplog.set_level(logging.INFO)

    wrong = [
        *await not_refused(lotse, "tr", FORGED_BY_LOTSE),
        *await not_refused(other, "tr", FORGED_PROFILE),
        *await not_refused(refugee, "tr", FORGED_BY_REFUGEE),
        *await not_refused(member, "tr", FORGED_BY_MEMBER),
        *await not_refused(coordinator, "de", FORGED_BY_COORDINATOR),
    ]
    assert wrong == []

    assert dump(running.settings.db_path) == stored
    for before, now in zip(shown, [chat(user) for user in people], strict=True):
        assert now[: len(before)] == before  # nothing shown before changed
        # Each refusal shows where the person is: the same screen each time.
        assert len({(text, str(buttons)) for _, text, buttons in now[len(before) :]}) <= 1
    assert not [r for r in caplog.records if r.name == "handlers.router"]


async def test_hours_only_as_offered_and_only_once(running: RunningBot, api: FakeBotAPI) -> None:
    codes = await invite_codes(api, 1)
    lotse = await become_lotse(api, 3301, "Jana", ["uk"], codes[0])
    refugee = api.user(3401, "Taras", language_code="uk")
    await onboard(refugee, "uk")
    await ask_for_lotse(refugee, "uk", name="Taras")
    await lotse.press(label("uk", "✅ Accept"))
    await refugee.wait_for_text("Jana")

    def case() -> tuple[object, ...]:
        with sqlite3.connect(running.settings.db_path) as conn:
            row = conn.execute("SELECT status, hours, closed_at FROM request").fetchone()
        return tuple(row)

    # Hours the buttons do not offer close nothing.
    expired = (views.button_expired(t("uk")), True)
    for data in ("case:hours:1:5", "case:hours:1:1000000", "case:hours:1:24", "case:hours:1:-1"):
        answer = await lotse.wait_for_answer(await lotse.press(data=data))
        assert (answer.get("text"), answer.get("show_alert")) == expired, data
    assert case() == ("accepted", None, None)

    # Done twice: two questions. The first answer closes the case; the second is refused.
    await lotse.press(label("uk", "✅ Mark as done"))
    first = await lotse.wait_for_message(lambda m: has_data(m, "case:hours:1:2"))
    await lotse.press(label("uk", "✅ Mark as done"))
    second = await lotse.wait_for_message(
        lambda m: has_data(m, "case:hours:1:2") and m.message_id != first.message_id
    )
    await lotse.wait_for_answer(await lotse.press("2", message=first))
    await lotse.wait_for_message(lambda m: "🙂" in m.button_labels())
    closed = case()
    assert closed[:2] == ("done", 2.0)
    for data, message in [("case:hours:1:3", second), ("case:hours:1:8", first)]:
        answer = await lotse.wait_for_answer(await lotse.press(data=data, message=message))
        assert (answer.get("text"), answer.get("show_alert")) == expired, data
    assert case() == closed

    # Feedback, too, is given once: the same answer again changes nothing, another is refused.
    question = await lotse.wait_for_message(lambda m: "👍" in m.button_labels())
    await lotse.wait_for_answer(await lotse.press("👍", message=question))
    again = await lotse.wait_for_answer(await lotse.press(data="fb:1:good", message=question))
    assert not again.get("show_alert")
    other = await lotse.wait_for_answer(await lotse.press(data="fb:1:bad", message=question))
    assert (other.get("text"), other.get("show_alert")) == expired
    with sqlite3.connect(running.settings.db_path) as conn:
        assert conn.execute("SELECT lotse_feedback FROM request").fetchone() == ("good",)
