"""/mydata, /delete and withdrawing consent: see everything stored, erase everything, or
stop everything and keep only the language."""

from __future__ import annotations

import json

from bot.i18n import Texts
from bot.services.privacy import Running
from handlers.actions import Actions
from handlers.asking_views import nothing_changed
from handlers.context import Speaker, Turn, speaker
from handlers.port import OutFile, Screen
from handlers.views import button_expired, consent_declined, consent_withdrawn

__all__ = ["ask_delete", "ask_withdraw", "on_privacy_button", "send_my_data"]

#: The answers to "delete everything?" and "withdraw your consent?".
ANSWERS = Actions("priv", {"delete_yes": (), "withdraw_yes": (), "keep": ()})


def _summary(t: Texts, data: dict[str, object]) -> str:
    requests = data.get("requests") or []
    cases = data.get("cases_as_lotse") or []
    assert isinstance(requests, list) and isinstance(cases, list)
    lines = [
        t.gettext("<b>Your data</b>"),
        t.gettext("The attached file contains everything this bot stores about you."),
        t.ngettext("{n} request for a Lotse.", "{n} requests for a Lotse.", len(requests)),
    ]
    if "lotse" in data:
        lines.append(t.ngettext("{n} case as a Lotse.", "{n} cases as a Lotse.", len(cases)))
    if data.get("waiting_list"):
        lines.append(t.gettext("Your entry on the waiting list for the Lotsen training."))
    lines.append(t.gettext("To delete everything: /delete"))
    return "\n".join(lines)


async def send_my_data(turn: Turn) -> None:
    """/mydata: a JSON document with everything stored, and a short summary."""
    who = await speaker(turn)
    if who.person is None:
        await turn.send(who.t.gettext("Nothing is stored about you."))
        return
    data = await turn.services.privacy.export(who.person)
    document = json.dumps(data, ensure_ascii=False, indent=2, default=str).encode()
    await turn.send(_summary(who.t, data), file=OutFile("lotsenbot-my-data.json", document))


async def ask_delete(turn: Turn) -> None:
    """/delete: ask once more before erasing."""
    who = await speaker(turn)
    if who.person is None:
        await turn.send(who.t.gettext("Nothing is stored about you."))
        return
    text = who.t.gettext(
        "<b>Delete all your data?</b>\n\n"
        "Your language, consent, requests, messages and attachments are erased. Running "
        "requests are cancelled and your Lotse is told. Only anonymous numbers for the city's "
        "statistics remain. This cannot be undone."
    )
    choices = (
        (ANSWERS.choice(who.t.gettext("🗑 Yes, delete everything"), "delete_yes"),),
        (ANSWERS.choice(who.t.gettext("No, keep my data"), "keep"),),
    )
    await turn.send(Screen(text, choices))


def _withdraw_question(t: Texts, running: Running) -> Screen:
    lines = [t.gettext("<b>Withdraw your consent?</b>"), ""]
    if running.requests:
        lines.append(
            t.ngettext(
                "Your {n} open request will be cancelled; a Lotse who has taken it on is told.",
                "Your {n} open requests will be cancelled; a Lotse who has taken one on is told.",
                len(running.requests),
            )
        )
    if running.cases:
        lines.append(
            t.ngettext(
                "Your {n} open case as a Lotse will be handed back and offered to other Lotsen.",
                "Your {n} open cases as a Lotse will be handed back and offered to other Lotsen.",
                len(running.cases),
            )
        )
    lines.append(
        t.gettext(
            "Everything else stored about you is deleted too; only your language and the date "
            "of the withdrawal are kept."
        )
    )
    choices = (
        (ANSWERS.choice(t.gettext("Yes, withdraw my consent"), "withdraw_yes"),),
        (ANSWERS.choice(t.gettext("No, keep my consent"), "keep"),),
    )
    return Screen("\n".join(lines), choices)


async def ask_withdraw(turn: Turn, who: Speaker) -> None:
    """*Withdraw my consent*: ask first when requests or cases would end, else withdraw."""
    assert who.person is not None
    running = await turn.services.privacy.running(who.person)
    if not running:
        await _withdraw(turn, who)
        return
    await turn.notice()
    await turn.send(_withdraw_question(who.t, running))


async def _withdraw(turn: Turn, who: Speaker) -> None:
    assert who.person is not None
    await turn.notice()  # first: ending cases may take a few messages
    await turn.services.privacy.withdraw(who.person)
    await turn.replace(consent_withdrawn(who.t))
    await turn.send(consent_declined(who.t, turn.services.city))


async def on_privacy_button(turn: Turn) -> None:
    """``priv:delete_yes`` / ``priv:withdraw_yes`` / ``priv:keep``: always about the
    presser's own data."""
    who = await speaker(turn)
    action = ANSWERS.read(turn.input.action)
    if who.person is None or action is None:
        await turn.notice(button_expired(who.t), alert=True)
        return
    answer = action[0]
    if answer == "withdraw_yes":
        await _withdraw(turn, who)
        return
    await turn.notice()
    if answer == "keep":
        await turn.replace(nothing_changed(who.t))
        return
    goodbye = who.t.gettext(
        "All your data has been deleted. If you write again, you start from the beginning."
    )
    await turn.services.privacy.erase(who.person)
    await turn.replace(goodbye)
    # What the channel keeps of the chat (the goodbye among it) goes as well, down to the
    # old page images in the write-ahead log.
    await turn.messenger.forget(turn.input.chat)
    await turn.services.privacy.purge()
