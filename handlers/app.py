"""Build the python-telegram-bot Application and register every handler in one place."""

from __future__ import annotations

from typing import Any

from telegram import LinkPreviewOptions, Update
from telegram.constants import ParseMode
from telegram.ext import (
    Application,
    CallbackQueryHandler,
    CommandHandler,
    ContextTypes,
    Defaults,
    MessageHandler,
    TypeHandler,
    filters,
)

from bot.domain.ratelimit import RateLimiter
from bot.services import Services
from handlers import (
    asking,
    broadcasts,
    coordination,
    events,
    limits,
    lotse,
    messages,
    privacy,
    retention,
    stats,
    views,
    waitlist,
    welcome,
)
from handlers.context import LotsenApp, LotsenContext, speaker
from handlers.errors import ErrorReport
from handlers.transport import RetryingRequest

__all__ = ["ALLOWED_UPDATES", "build_application"]

#: Update types the bot asks Telegram for; everything else is never fetched.
ALLOWED_UPDATES = [Update.MESSAGE, Update.EDITED_MESSAGE, Update.CALLBACK_QUERY]


async def _group_pointer(update: Update, context: LotsenContext) -> None:
    who = await speaker(update, context)
    if update.effective_chat is not None:
        await update.effective_chat.send_message(views.private_chat_only(who.t))


class _NoLinkPreviews(LinkPreviewOptions):
    """``LinkPreviewOptions(is_disabled=True)``, which goes with every message: its JSON is
    written out once instead of being worked out again for each call."""

    __slots__ = ()

    def to_dict(self, recursive: bool = True) -> dict[str, Any]:
        return {"is_disabled": True}


def build_application(token: str, api_url: str, services: Services) -> LotsenApp:
    """Create the Application talking to ``api_url`` (Telegram, or a local Bot API server).

    Updates are not fetched by python-telegram-bot's Updater but by
    :class:`handlers.intake.Intake`, which stores each one before Telegram forgets it.
    """
    app: LotsenApp = (
        Application.builder()
        .token(token)
        .base_url(f"{api_url}/bot")
        .base_file_url(f"{api_url}/file/bot")
        .updater(None)
        .request(RetryingRequest(connection_pool_size=128))
        .context_types(ContextTypes(context=LotsenContext))
        .defaults(
            Defaults(
                parse_mode=ParseMode.HTML,
                link_preview_options=_NoLinkPreviews(is_disabled=True),
            )
        )
        .build()
    )
    app.bot_data["services"] = services

    private = filters.ChatType.PRIVATE
    # Group -1: the rate limit sees every update first and may stop it.
    app.add_handler(TypeHandler(Update, limits.RateCheck(RateLimiter())), group=-1)
    # Group 0: what the person asked for, by command or button.
    app.add_handlers(
        [
            CommandHandler("start", welcome.start, filters=private),
            CommandHandler("menu", welcome.show_menu, filters=private),
            CommandHandler("language", welcome.show_language, filters=private),
            CommandHandler("privacy", welcome.show_privacy, filters=private),
            CommandHandler("help", welcome.show_help, filters=private),
            CommandHandler("status", asking.show_status, filters=private),
            CommandHandler("mydata", privacy.send_my_data, filters=private),
            CommandHandler("delete", privacy.ask_delete, filters=private),
            CommandHandler("invite", coordination.show_invites, filters=private),
            CommandHandler("requests", coordination.show_overview, filters=private),
            CommandHandler("broadcast", broadcasts.show_broadcasts, filters=private),
            CommandHandler("stammtisch", events.show_stammtisch, filters=private),
            CommandHandler("waitlist", waitlist.show_waitlist, filters=private),
            CommandHandler("stats", stats.show_stats, filters=private),
            CallbackQueryHandler(welcome.on_language, pattern=f"^{views.LANGUAGE_PREFIX}"),
            CallbackQueryHandler(
                welcome.on_consent, pattern=r"^consent:(yes|no|show|withdraw)(:[A-Z0-9]{6,16})?$"
            ),
            CallbackQueryHandler(
                welcome.on_menu,
                pattern=r"^menu:(request|lotse|become|stammtisch|language|privacy|home)$",
            ),
            CallbackQueryHandler(asking.on_ask_button, pattern=r"^ask:"),
            CallbackQueryHandler(asking.on_request_button, pattern=r"^req:"),
            CallbackQueryHandler(lotse.on_lotse_button, pattern=r"^lotse:(cases|profile|apply)$"),
            CallbackQueryHandler(lotse.on_profile_button, pattern=r"^prof:"),
            CallbackQueryHandler(lotse.on_offer_button, pattern=r"^offer:(accept|decline):"),
            CallbackQueryHandler(lotse.on_case_button, pattern=r"^(case|att|fb):"),
            CallbackQueryHandler(retention.on_idle_button, pattern=r"^idle:(keep|close):\d{1,18}$"),
            CallbackQueryHandler(coordination.on_coordinator_button, pattern=r"^coord:"),
            CallbackQueryHandler(
                privacy.on_privacy_button, pattern=r"^priv:(delete_yes|withdraw_yes|keep)$"
            ),
            CallbackQueryHandler(broadcasts.on_broadcast_button, pattern=r"^bc:"),
            CallbackQueryHandler(broadcasts.on_news_button, pattern=r"^news:(on|off)$"),
            CallbackQueryHandler(events.on_event_button, pattern=r"^ev:"),
            CallbackQueryHandler(events.on_dialog_button, pattern=r"^evd:"),
            CallbackQueryHandler(waitlist.on_waitlist_button, pattern=r"^wl:"),
            CallbackQueryHandler(waitlist.on_join_button, pattern=r"^wld:"),
            CallbackQueryHandler(waitlist.on_coordinator_button, pattern=r"^wlc:"),
            CallbackQueryHandler(stats.on_stats_button, pattern=r"^st:"),
            # Last in the group: everything nobody above claimed still gets an answer.
            MessageHandler(filters.COMMAND & ~private, _group_pointer),
            MessageHandler(filters.COMMAND & private, welcome.fallback_message),
            MessageHandler(private & filters.UpdateType.EDITED_MESSAGE, welcome.edited),
            MessageHandler(private, messages.route),
            CallbackQueryHandler(welcome.fallback_button),
        ]
    )
    app.add_error_handler(ErrorReport())
    return app
