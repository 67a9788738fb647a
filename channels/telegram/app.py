"""The python-telegram-bot Application: the Bot API client, and every update to the router."""

from __future__ import annotations

import logging
from typing import Any

from telegram import LinkPreviewOptions, Update
from telegram.constants import ParseMode
from telegram.ext import Application, CallbackContext, Defaults, ExtBot, TypeHandler

from channels.telegram.inputs import input_of
from channels.telegram.messenger import TelegramMessenger
from channels.telegram.transport import RetryingRequest
from handlers.outages import Outage
from handlers.router import Router

__all__ = ["ALLOWED_UPDATES", "LotsenApp", "build_application", "listen"]

log = logging.getLogger(__name__)

#: Update types the bot asks Telegram for; everything else is never fetched.
ALLOWED_UPDATES = [Update.MESSAGE, Update.EDITED_MESSAGE, Update.CALLBACK_QUERY]

LotsenApp = Application[
    ExtBot[None], CallbackContext[ExtBot[None], Any, Any, Any], Any, Any, Any, Any
]


class _NoLinkPreviews(LinkPreviewOptions):
    """``LinkPreviewOptions(is_disabled=True)``, which goes with every message: its JSON is
    written out once instead of being worked out again for each call."""

    __slots__ = ()

    def to_dict(self, recursive: bool = True) -> dict[str, Any]:
        return {"is_disabled": True}


def build_application(token: str, api_url: str, outage: Outage | None = None) -> LotsenApp:
    """Create the Application talking to ``api_url`` (Telegram, or a local Bot API server).

    Updates are not fetched by python-telegram-bot's Updater but by
    :class:`channels.telegram.intake.Intake`, which stores each one before Telegram forgets it.
    """
    app: LotsenApp = (
        Application.builder()
        .token(token)
        .base_url(f"{api_url}/bot")
        .base_file_url(f"{api_url}/file/bot")
        .updater(None)
        .request(RetryingRequest(connection_pool_size=128, outage=outage))
        .defaults(
            Defaults(
                parse_mode=ParseMode.HTML,
                link_preview_options=_NoLinkPreviews(is_disabled=True),
            )
        )
        .build()
    )
    return app


def listen(app: LotsenApp, router: Router, messenger: TelegramMessenger) -> None:
    """Hand every update the conversation takes to ``router``, as an input."""

    async def dispatch(update: Update, _: object) -> None:
        input = input_of(update)
        if input is not None:
            await router.dispatch(input, messenger)

    async def unexpected(_: object, context: CallbackContext[Any, Any, Any, Any]) -> None:
        # The router reports what handlers raise; this sees only what fails around it.
        log.error("unexpected %s outside the conversation", type(context.error).__name__)

    app.add_handler(TypeHandler(Update, dispatch))
    app.add_error_handler(unexpected)
