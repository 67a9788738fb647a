"""The one error handler: log without personal data, apologise, alert the coordinators."""

from __future__ import annotations

import hashlib
import logging

from telegram import Update
from telegram.error import Forbidden, TelegramError

from bot.i18n import texts
from bot.logs import where as _where
from handlers import views
from handlers.context import LotsenContext, speaker

__all__ = ["on_error"]

log = logging.getLogger(__name__)


async def on_error(update: object, context: LotsenContext) -> None:
    """Handle an exception raised while processing ``update``."""
    error = context.error
    if error is None:
        return
    if isinstance(error, Forbidden) and isinstance(update, Update) and update.effective_user:
        # The person blocked the bot: nothing to apologise to, nothing for the coordinators.
        await context.services.people.unreachable(update.effective_user.id)
        log.info("update %s: the person has blocked the bot", update.update_id)
        return
    update_id = update.update_id if isinstance(update, Update) else None
    reference = hashlib.sha256(f"{update_id}:{type(error).__name__}".encode()).hexdigest()[:10]
    log.error(
        "unexpected %s handling update %s (ref %s) at %s",
        type(error).__name__,
        update_id,
        reference,
        _where(error),
    )
    if not isinstance(update, Update):
        return
    try:
        who = await speaker(update, context)
        if update.effective_chat is not None:
            await update.effective_chat.send_message(views.apology(who.t))
    except (TelegramError, OSError) as exc:
        log.warning("could not send the apology: %s", type(exc).__name__)
    await _alert_coordinators(context, type(error).__name__, reference)


async def _alert_coordinators(context: LotsenContext, error: str, reference: str) -> None:
    services = context.services
    for telegram_id in await services.people.coordinator_ids():
        person = await services.people.find(telegram_id)
        language = person.language if person else services.city.default_language
        t = texts(language, services.city.timezone)
        try:
            await context.bot.send_message(telegram_id, views.error_alert(t, error, reference))
        except Forbidden:
            log.warning("a coordinator has blocked the bot; alert not delivered")
        except (TelegramError, OSError) as exc:
            log.warning("could not alert a coordinator: %s", type(exc).__name__)
