"""/mydata, /delete and withdrawing consent: see everything stored, erase everything, or
stop everything and keep only the language."""

from __future__ import annotations

import io
import json

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update

from bot.i18n import Texts
from bot.services.privacy import Running
from handlers.actions import parse
from handlers.context import LotsenContext, Speaker, acknowledge, replace, send, speaker
from handlers.request_views import nothing_changed
from handlers.views import button_expired, consent_declined, consent_withdrawn

__all__ = ["ask_delete", "ask_withdraw", "on_privacy_button", "send_my_data"]

WITHDRAW_YES = "priv:withdraw_yes"
KEEP = "priv:keep"


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


async def send_my_data(update: Update, context: LotsenContext) -> None:
    """/mydata: a JSON document with everything stored, and a short summary."""
    who = await speaker(update, context)
    if who.person is None or update.effective_chat is None:
        await send(update, who.t.gettext("Nothing is stored about you."))
        return
    data = await context.services.privacy.export(who.person)
    document = io.BytesIO(json.dumps(data, ensure_ascii=False, indent=2, default=str).encode())
    await update.effective_chat.send_document(
        document, filename="lotsenbot-my-data.json", caption=_summary(who.t, data)
    )


async def ask_delete(update: Update, context: LotsenContext) -> None:
    """/delete: ask once more before erasing."""
    who = await speaker(update, context)
    if who.person is None:
        await send(update, who.t.gettext("Nothing is stored about you."))
        return
    text = who.t.gettext(
        "<b>Delete all your data?</b>\n\n"
        "Your language, consent, requests, messages and attachments are erased. Running "
        "requests are cancelled and your Lotse is told. Only anonymous numbers for the city's "
        "statistics remain. This cannot be undone."
    )
    buttons = InlineKeyboardMarkup(
        [
            [
                InlineKeyboardButton(
                    who.t.gettext("🗑 Yes, delete everything"), callback_data="priv:delete_yes"
                )
            ],
            [InlineKeyboardButton(who.t.gettext("No, keep my data"), callback_data=KEEP)],
        ]
    )
    await send(update, text, buttons)


def _withdraw_question(t: Texts, running: Running) -> tuple[str, InlineKeyboardMarkup]:
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
    buttons = InlineKeyboardMarkup(
        [
            [
                InlineKeyboardButton(
                    t.gettext("Yes, withdraw my consent"), callback_data=WITHDRAW_YES
                )
            ],
            [InlineKeyboardButton(t.gettext("No, keep my consent"), callback_data=KEEP)],
        ]
    )
    return "\n".join(lines), buttons


async def ask_withdraw(update: Update, context: LotsenContext, who: Speaker) -> None:
    """*Withdraw my consent*: ask first when requests or cases would end, else withdraw."""
    query = update.callback_query
    assert query is not None and who.person is not None
    running = await context.services.privacy.running(who.person)
    if not running:
        await _withdraw(update, context, who)
        return
    await acknowledge(query)
    text, buttons = _withdraw_question(who.t, running)
    await send(update, text, buttons)


async def _withdraw(update: Update, context: LotsenContext, who: Speaker) -> None:
    query = update.callback_query
    assert query is not None and who.person is not None
    await acknowledge(query)  # first: ending cases may take a few messages
    await context.services.privacy.withdraw(who.person)
    await replace(query, consent_withdrawn(who.t))
    screen = consent_declined(who.t, context.services.city)
    await send(update, screen.text, screen.buttons)


async def on_privacy_button(update: Update, context: LotsenContext) -> None:
    """``priv:delete_yes`` / ``priv:withdraw_yes`` / ``priv:keep``: always about the
    presser's own data."""
    query = update.callback_query
    assert query is not None
    who = await speaker(update, context)
    parts = parse(query.data, "priv", ("delete_yes", "withdraw_yes", "keep"))
    if who.person is None or parts is None:
        await acknowledge(query, button_expired(who.t), alert=True)
        return
    if parts[1] == "withdraw_yes":
        await _withdraw(update, context, who)
        return
    await acknowledge(query)
    if parts[1] == "keep":
        await replace(query, nothing_changed(who.t))
        return
    goodbye = who.t.gettext(
        "All your data has been deleted. If you write again, you start from the beginning."
    )
    await context.services.privacy.erase(who.person)
    await replace(query, goodbye)
