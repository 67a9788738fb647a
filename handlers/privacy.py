"""/mydata and /delete: see everything stored, erase everything."""

from __future__ import annotations

import io
import json

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update

from bot.i18n import Texts
from handlers.actions import parse
from handlers.context import LotsenContext, acknowledge, replace, send, speaker
from handlers.request_views import nothing_changed
from handlers.views import button_expired

__all__ = ["ask_delete", "on_privacy_button", "send_my_data"]


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
            [InlineKeyboardButton(who.t.gettext("No, keep my data"), callback_data="priv:keep")],
        ]
    )
    await send(update, text, buttons)


async def on_privacy_button(update: Update, context: LotsenContext) -> None:
    """``priv:delete_yes`` / ``priv:keep``: always about the presser's own data."""
    query = update.callback_query
    assert query is not None
    who = await speaker(update, context)
    parts = parse(query.data, "priv", ("delete_yes", "keep"))
    if who.person is None or parts is None:
        await acknowledge(query, button_expired(who.t), alert=True)
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
