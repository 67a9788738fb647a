"""The baselines: two plain python-telegram-bot Applications, run as ``python -m bench.baselines
{echo,peer}`` against the same fake Bot API (TELEGRAM_API_URL) as Lotsenbot.

* ``echo`` answers every update with one ``sendMessage`` and keeps no state: the cost of
  Telegram I/O alone.
* ``peer`` is written like python-telegram-bot's ``persistentconversationbot`` example: a
  ``ConversationHandler`` with ``PicklePersistence`` (its defaults), one reply per update,
  the answers collected in ``user_data`` - here with the steps of Lotsenbot's intake, so that
  both bots get the same updates.

Both poll with the Updater (``getUpdates`` long polling), handle updates one after another
(the Application's default) and use the same HTTP client as Lotsenbot (httpx, a pool of 128
connections).
"""

from __future__ import annotations

import logging
import os
import sys
import warnings

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.ext import (
    Application,
    CallbackQueryHandler,
    CommandHandler,
    ContextTypes,
    ConversationHandler,
    MessageHandler,
    PicklePersistence,
    filters,
)
from telegram.request import HTTPXRequest
from telegram.warnings import PTBUserWarning

Context = ContextTypes.DEFAULT_TYPE

(LANGUAGE, CONSENT, MENU, TOPIC, DESCRIPTION, LANGS, DISTRICT, DAY, PLACE, NAME, CONFIRM) = range(
    11
)


def _builder(token: str, api_url: str):  # type: ignore[no-untyped-def]
    return (
        Application.builder()
        .token(token)
        .base_url(f"{api_url}/bot")
        .base_file_url(f"{api_url}/file/bot")
        .request(HTTPXRequest(connection_pool_size=128))
    )


def _keyboard(*data: str) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup([[InlineKeyboardButton(d, callback_data=d)] for d in data])


def _said(update: Update) -> str:
    if update.callback_query is not None:
        return update.callback_query.data or ""
    if update.effective_message is not None and update.effective_message.text:
        return update.effective_message.text
    return "?"


# ----------------------------------------------------------------------------- echo


async def echo(update: Update, context: Context) -> None:
    """One message back, saying what came in."""
    assert update.effective_chat is not None
    await context.bot.send_message(update.effective_chat.id, _said(update))


def build_echo(token: str, api_url: str) -> Application:  # type: ignore[type-arg]
    app: Application = _builder(token, api_url).build()  # type: ignore[type-arg]
    app.add_handler(MessageHandler(filters.ALL, echo))
    app.add_handler(CallbackQueryHandler(echo))
    return app


# ----------------------------------------------------------------------------- peer


def facts_to_str(user_data: dict[str, str]) -> str:
    """What the person told so far, one line each (as in the example)."""
    return "\n".join(f"{key} - {value}" for key, value in user_data.items())


def _step(key: str, reply: str, state: int, *buttons: str):  # type: ignore[no-untyped-def]
    """A conversation step: remember the answer under ``key``, reply once, go to ``state``."""

    async def handle(update: Update, context: Context) -> int:
        assert update.effective_chat is not None and context.user_data is not None
        context.user_data[key] = _said(update)
        await context.bot.send_message(
            update.effective_chat.id, reply, reply_markup=_keyboard(*buttons)
        )
        return state

    return handle


async def done(update: Update, context: Context) -> int:
    """The request is complete: show what was collected and end the conversation."""
    assert update.effective_chat is not None and context.user_data is not None
    context.user_data["sent"] = "yes"
    await context.bot.send_message(
        update.effective_chat.id,
        f"Thank you! Your request:\n{facts_to_str(context.user_data)}",
        reply_markup=_keyboard("menu:home"),
    )
    return ConversationHandler.END


def build_peer(token: str, api_url: str, state_file: str) -> Application:  # type: ignore[type-arg]
    persistence = PicklePersistence(filepath=state_file)
    app: Application = _builder(token, api_url).persistence(persistence).build()  # type: ignore[type-arg]
    text = filters.TEXT & ~filters.COMMAND
    menu = _step("menu", "What do you need help with?", TOPIC, "ask:topic:jobcenter")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", PTBUserWarning)  # per_message=False with buttons
        conversation = ConversationHandler(
            entry_points=[
                CommandHandler("start", _step("start", "Choose a language", LANGUAGE, "lang:de")),
                CallbackQueryHandler(menu, pattern="^menu:request$"),
            ],
            states={
                LANGUAGE: [
                    CallbackQueryHandler(
                        _step("language", "Do you agree?", CONSENT, "consent:yes"),
                        pattern="^lang:",
                    )
                ],
                CONSENT: [
                    CallbackQueryHandler(
                        _step("consent", "What would you like to do?", MENU, "menu:request"),
                        pattern="^consent:",
                    )
                ],
                MENU: [CallbackQueryHandler(menu, pattern="^menu:request$")],
                TOPIC: [
                    CallbackQueryHandler(
                        _step("topic", "What is it about?", DESCRIPTION, "ask:stop"),
                        pattern="^ask:topic:",
                    )
                ],
                DESCRIPTION: [
                    MessageHandler(
                        text,
                        _step("description", "Which languages?", LANGS, "ask:langs_done"),
                    )
                ],
                LANGS: [
                    CallbackQueryHandler(
                        _step("languages", "Which Stadtteil?", DISTRICT, "ask:district:0"),
                        pattern="^ask:langs_done$",
                    )
                ],
                DISTRICT: [
                    CallbackQueryHandler(
                        _step("district", "When?", DAY, "ask:day:flex"),
                        pattern="^ask:district:",
                    )
                ],
                DAY: [
                    CallbackQueryHandler(
                        _step("day", "Where?", PLACE, "ask:place:skip"), pattern="^ask:day:"
                    )
                ],
                PLACE: [
                    CallbackQueryHandler(
                        _step("place", "Your name?", NAME, "ask:name:telegram"),
                        pattern="^ask:place:",
                    ),
                    MessageHandler(text, _step("place", "Your name?", NAME, "ask:name:telegram")),
                ],
                NAME: [
                    MessageHandler(text, _step("name", "Send it?", CONFIRM, "ask:confirm")),
                    CallbackQueryHandler(
                        _step("name", "Send it?", CONFIRM, "ask:confirm"), pattern="^ask:name:"
                    ),
                ],
                CONFIRM: [CallbackQueryHandler(done, pattern="^ask:confirm$")],
            },
            fallbacks=[CommandHandler("start", _step("start", "Choose", LANGUAGE, "lang:de"))],
            name="intake",
            persistent=True,
        )
    app.add_handler(conversation)
    # Whatever the conversation does not take (it was never started here) gets one answer.
    app.add_handler(MessageHandler(filters.ALL, _step("other", "Please send /start", 0)))
    app.add_handler(CallbackQueryHandler(_step("other", "Please send /start", 0)))
    return app


def main(argv: list[str]) -> int:
    logging.basicConfig(level=logging.WARNING, stream=sys.stderr)
    kind = argv[0] if argv else ""
    token, api_url = os.environ["TELEGRAM_BOT_TOKEN"], os.environ["TELEGRAM_API_URL"]
    if kind == "echo":
        app = build_echo(token, api_url)
    elif kind == "peer":
        app = build_peer(token, api_url, os.environ.get("BENCH_STATE", "peer.pickle"))
    else:
        print("usage: python -m bench.baselines {echo,peer}", file=sys.stderr)
        return 2
    app.run_polling(allowed_updates=[Update.MESSAGE, Update.CALLBACK_QUERY])
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
