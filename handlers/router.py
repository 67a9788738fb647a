"""Where each input goes: one table of routes, each with its gate, and what every input
passes first (the rate limit) and last (the error report)."""

from __future__ import annotations

import hashlib
import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from bot.domain.people import Role
from bot.domain.ratelimit import RateLimiter, Verdict
from bot.domain.throttle import Repeats
from bot.domain.topics import N_
from bot.i18n import Texts
from bot.logs import where as _where
from bot.services import Services
from bot.storage.database import storage_fault
from handlers import (
    asking,
    broadcasts,
    console,
    coordination,
    coordination_views,
    desk,
    events,
    lotse,
    messages,
    office,
    privacy,
    retention,
    roster,
    stats,
    views,
    waitlist,
    welcome,
)
from handlers.context import Turn, coordinator_chats, quietly, speaker
from handlers.outages import StorageOutage, handling_fault
from handlers.port import Blocked, DeliveryError, Input, Kind, Messenger, Screen, Switchboard

__all__ = ["ALERT_WINDOW", "COMMANDS", "ROUTES", "Route", "Router"]

log = logging.getLogger(__name__)

#: A feature's entry point for one kind of input.
Handler = Callable[[Turn], Awaitable[None]]

#: The same error alerts the coordinators at most once in this many seconds.
ALERT_WINDOW = 3600.0


@dataclass(frozen=True, slots=True)
class Route:
    """A command (``/name``) or the actions beginning with ``on`` (``prefix`` or
    ``prefix:name``), the handler that takes them, and who may use them."""

    handler: Handler
    command: str | None = None
    on: str | None = None
    #: Only people with this role get through; everyone else is refused, nothing changes.
    role: Role | None = None
    #: What the messenger's command menu says of a command (translated where it is shown);
    #: None: not in the menu.
    summary: str | None = None


COORDINATOR = Role.COORDINATOR

#: Every route of the conversation. Actions: the most specific first.
ROUTES: tuple[Route, ...] = (
    Route(welcome.start, command="start", summary=N_("Start again")),
    Route(welcome.show_menu, command="menu", summary=N_("Main menu")),
    Route(asking.show_status, command="status", summary=N_("My requests")),
    Route(events.show_stammtisch, command="stammtisch", summary=N_("Stammtisch dates")),
    Route(welcome.show_language, command="language", summary=N_("Change the language")),
    Route(welcome.show_privacy, command="privacy", summary=N_("Privacy notice and your consent")),
    Route(privacy.send_my_data, command="mydata", summary=N_("See all your data")),
    Route(privacy.ask_delete, command="delete", summary=N_("Delete all your data")),
    Route(welcome.show_help, command="help", summary=N_("Help")),
    Route(
        coordination.show_overview,
        command="requests",
        role=COORDINATOR,
        summary=N_("Requests waiting for a Lotse"),
    ),
    Route(
        coordination.show_invites,
        command="invite",
        role=COORDINATOR,
        summary=N_("Invitation links for new Lotsen"),
    ),
    Route(
        broadcasts.show_broadcasts,
        command="broadcast",
        role=COORDINATOR,
        summary=N_("Send news to many people"),
    ),
    Route(
        waitlist.show_waitlist,
        command="waitlist",
        role=COORDINATOR,
        summary=N_("Training waiting list"),
    ),
    Route(stats.show_stats, command="stats", role=COORDINATOR, summary=N_("Figures for the city")),
    Route(
        roster.show_roster,
        command="lotsen",
        role=COORDINATOR,
        summary=N_("The Lotsen and their records"),
    ),
    Route(
        office.show_expenses,
        command="expenses",
        role=COORDINATOR,
        summary=N_("The Lotsen's expenses"),
    ),
    Route(
        console.show_console,
        command="console",
        role=COORDINATOR,
        summary=N_("Sign in to the office console"),
    ),
    Route(welcome.on_language, on="lang"),
    Route(welcome.on_consent, on="consent"),
    Route(welcome.on_menu, on="menu"),
    Route(asking.on_ask_button, on="ask"),
    Route(asking.on_request_button, on="req"),
    Route(lotse.on_lotse_button, on="lotse"),
    Route(lotse.on_profile_button, on="prof"),
    Route(lotse.on_offer_button, on="offer"),
    Route(lotse.on_case_button, on="case"),
    Route(lotse.on_case_button, on="att"),
    Route(lotse.on_case_button, on="fb"),
    Route(messages.on_relay_button, on="relay"),
    Route(retention.on_idle_button, on="idle"),
    Route(privacy.on_privacy_button, on="priv"),
    Route(broadcasts.on_news_button, on="news"),
    Route(broadcasts.on_broadcast_button, on="bc", role=COORDINATOR),
    Route(events.on_rsvp, on="ev:rsvp"),
    Route(events.on_event_button, on="ev", role=COORDINATOR),
    Route(events.on_dialog_button, on="evd", role=COORDINATOR),
    Route(waitlist.on_waitlist_button, on="wl"),
    Route(waitlist.on_join_button, on="wld"),
    Route(waitlist.on_coordinator_button, on="wlc", role=COORDINATOR),
    Route(coordination.on_coordinator_button, on="coord", role=COORDINATOR),
    Route(stats.on_stats_button, on="st", role=COORDINATOR),
    Route(office.on_office_button, on="of"),
    Route(office.on_concern_button, on="cn"),
    Route(office.on_expense_button, on="ex"),
    Route(office.on_certificate_button, on="cf"),
    Route(office.on_move_button, on="mv"),
    Route(office.on_desk_button, on="ofc", role=COORDINATOR),
    Route(roster.on_roster_button, on="ro", role=COORDINATOR),
    Route(desk.on_desk_button, on="desk", role=COORDINATOR),
)

#: The commands the conversation knows, for the channels' command menus.
COMMANDS = frozenset(route.command for route in ROUTES if route.command)


class Router:
    """Takes every input of every channel: rate limit, gate, handler, error report."""

    def __init__(
        self,
        services: Services,
        switchboard: Switchboard,
        routes: tuple[Route, ...] = ROUTES,
        limiter: RateLimiter | None = None,
        alerts: Repeats | None = None,
        storage: StorageOutage | None = None,
    ) -> None:
        self.services = services
        self.switchboard = switchboard
        self.limiter = limiter or RateLimiter()
        self.alerts = alerts or Repeats(ALERT_WINDOW)
        #: The database unable to write: logged and told to the coordinators once, for every
        #: channel's intake and every handler alike.
        self.storage = storage or StorageOutage(services.people, switchboard)
        self._commands = {route.command: route for route in routes if route.command}
        self._actions = [route for route in routes if route.on]

    async def dispatch(self, input: Input, messenger: Messenger) -> None:
        """Handle one input (``messenger``: its channel's); never raises for what a handler
        did wrong."""
        turn = Turn(input, self.services, messenger, self.switchboard, messages.current)
        try:
            if await self._limited(turn):
                return
            route = self._route(input)
            if route is None:
                await self._unrouted(turn)
            elif route.role is None or await self._admitted(turn, route.role):
                await route.handler(turn)
        except Exception as error:
            await self._report(turn, error)

    def _route(self, input: Input) -> Route | None:
        if input.kind is Kind.COMMAND and input.private:
            return self._commands.get(input.command or "")
        if input.kind is Kind.ACTION:
            data = input.action or ""
            for route in self._actions:
                assert route.on is not None
                if data == route.on or data.startswith(route.on + ":"):
                    return route
        return None

    async def _unrouted(self, turn: Turn) -> None:
        """Everything no route claims still gets an answer (or, in a group, only commands)."""
        input = turn.input
        if input.kind is Kind.ACTION:
            await welcome.fallback_button(turn)
        elif not input.private:
            if input.kind is Kind.COMMAND:
                who = await speaker(turn)
                await turn.send(views.private_chat_only(who.t))
        elif input.kind is Kind.EDIT:
            await welcome.edited(turn)
        elif input.kind is Kind.COMMAND:
            await welcome.fallback_message(turn)
        else:
            await messages.route(turn)

    async def _admitted(self, turn: Turn, role: Role) -> bool:
        """Whether the sender has ``role``; if not, they are told so."""
        assert role is Role.COORDINATOR
        if await self.services.people.is_coordinator(turn.input.contact):
            return True
        who = await speaker(turn)
        await turn.notice(coordination_views.not_allowed(who.t), alert=True)
        return False

    async def _limited(self, turn: Turn) -> bool:
        """A friendly word when someone sends too much, then silence a while."""
        verdict = self.limiter.check(turn.input.contact, time.monotonic())
        if verdict is Verdict.ALLOW:
            return False
        if verdict is Verdict.WARN:
            who = await speaker(turn)
            await turn.notice(_slow_down(who.t), alert=True)
        return True

    async def _report(self, turn: Turn, error: Exception) -> None:
        """Log without personal data, apologise, alert the coordinators (throttled).

        The same error (its type and location: the reference) alerts the coordinators once
        per :data:`ALERT_WINDOW`, with the number of repeats meanwhile.
        """
        key = turn.input.key
        fault = storage_fault(error)
        held = handling_fault.get()
        if fault is not None:
            self.storage.failed(fault)
            if held is not None:
                # The database could not write (a full disk, an I/O error): the intake
                # handles this input again, whole, once it can. Nobody is answered now,
                # with an apology or half a step.
                held.storage = True
                return
        if isinstance(error, Blocked):
            # The person blocked the bot: nothing to apologise to, nothing for the coordinators.
            await self.services.people.unreachable(turn.input.contact)
            log.info("update %s: the person has blocked the bot", key)
            return
        where = _where(error)
        # A messenger's refusal is named by what the messenger said (e.g. BadRequest).
        name = type(error.__cause__ or error).__name__
        if not isinstance(error, DeliveryError):
            name = type(error).__name__
        reference = hashlib.sha256(f"{name} at {where}".encode()).hexdigest()[:10]
        log.error("unexpected %s handling update %s (ref %s) at %s", name, key, reference, where)
        try:
            who = await speaker(turn)
            await turn.send(views.apology(who.t))
        except (DeliveryError, OSError) as exc:
            log.warning("could not send the apology: %s", type(exc).__name__)
        repeats = self.alerts.admit(reference, time.monotonic())
        if repeats is None:
            log.info("coordinators were alerted of ref %s lately; not again", reference)
            return
        for contact, t in await coordinator_chats(self.services.people):
            screen = Screen(views.error_alert(t, name, reference, repeats))
            await quietly(turn.switchboard.send(contact, screen), "an alert to a coordinator")

    async def captcha_needed(self, challenge: str) -> None:
        """Signal asks for a captcha: the coordinators hear of it (once an hour at most)."""
        log.warning("Signal requires a captcha before more messages go out")
        if self.alerts.admit(f"captcha {challenge}", time.monotonic()) is None:
            return
        for contact, t in await coordinator_chats(self.services.people):
            screen = Screen(views.captcha_alert(t, challenge))
            await quietly(self.switchboard.send(contact, screen), "a captcha alert")


def _slow_down(t: Texts) -> str:
    return t.gettext("You are sending a lot of messages at once. Please wait a moment.")
