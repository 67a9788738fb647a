"""The one error handler: log without personal data, apologise, alert the coordinators."""

from __future__ import annotations

import hashlib
import logging
import time

from telegram import Update
from telegram.error import Forbidden, TelegramError

from bot.domain.throttle import Repeats
from bot.i18n import texts
from bot.logs import where as _where
from handlers import views
from handlers.context import LotsenContext, speaker

__all__ = ["ALERT_WINDOW", "ErrorReport"]

log = logging.getLogger(__name__)

#: The same error alerts the coordinators at most once in this many seconds.
ALERT_WINDOW = 3600.0


class ErrorReport:
    """Handle an exception raised while processing an update.

    Every one is logged (type and location) and the person gets an apology; the
    coordinators hear of each error (its type and location: the reference) once per
    :data:`ALERT_WINDOW`, with the number of repeats meanwhile, and of at most a few
    different ones in that time.
    """

    def __init__(self, alerts: Repeats | None = None) -> None:
        self.alerts = alerts or Repeats(ALERT_WINDOW)

    async def __call__(self, update: object, context: LotsenContext) -> None:
        """The error handler registered with the application."""
        error = context.error
        if error is None:
            return
        if isinstance(error, Forbidden) and isinstance(update, Update) and update.effective_user:
            # The person blocked the bot: nothing to apologise to, nothing for the coordinators.
            await context.services.people.unreachable(update.effective_user.id)
            log.info("update %s: the person has blocked the bot", update.update_id)
            return
        update_id = update.update_id if isinstance(update, Update) else None
        where = _where(error)
        name = type(error).__name__
        reference = hashlib.sha256(f"{name} at {where}".encode()).hexdigest()[:10]
        log.error(
            "unexpected %s handling update %s (ref %s) at %s", name, update_id, reference, where
        )
        if not isinstance(update, Update):
            return
        try:
            who = await speaker(update, context)
            if update.effective_chat is not None:
                await update.effective_chat.send_message(views.apology(who.t))
        except (TelegramError, OSError) as exc:
            log.warning("could not send the apology: %s", type(exc).__name__)
        repeats = self.alerts.admit(reference, time.monotonic())
        if repeats is None:
            log.info("coordinators were alerted of ref %s lately; not again", reference)
            return
        await _alert_coordinators(context, name, reference, repeats)


async def _alert_coordinators(
    context: LotsenContext, error: str, reference: str, repeats: int
) -> None:
    services = context.services
    for telegram_id in await services.people.coordinator_ids():
        person = await services.people.find(telegram_id)
        language = person.language if person else services.city.default_language
        t = texts(language, services.city.timezone)
        try:
            await context.bot.send_message(
                telegram_id, views.error_alert(t, error, reference, repeats)
            )
        except Forbidden:
            log.warning("a coordinator has blocked the bot; alert not delivered")
        except (TelegramError, OSError) as exc:
            log.warning("could not alert a coordinator: %s", type(exc).__name__)
