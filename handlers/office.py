"""The office's side of the conversation: *something is wrong*, writing to the office and
its answers, expenses, the confirmation of volunteering, moving a case's appointment."""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import date, time

from bot.domain.dialogs import Dialog
from bot.domain.lotsen import Lotse, LotseStatus
from bot.domain.office import Expense, Thread, parse_euros
from bot.domain.people import Contact, Person
from bot.domain.requests import Request, Status
from bot.i18n import Texts, texts
from bot.services import Services
from bot.services.office import MAX_MESSAGE, MAX_WHAT
from handlers import office_views as ov
from handlers import roster_views as rv
from handlers import views
from handlers.asking_views import TIMES
from handlers.context import Speaker, Turn, coordinator_chats, speaker
from handlers.dialogs import Dialogue, Reply, discarding, refuse, typed_text
from handlers.limits import too_long
from handlers.port import Blocked, DeliveryError, MessageRef, OutFile, Screen, Switchboard

__all__ = [
    "CONCERNING",
    "SPENDING",
    "WRITING",
    "decide_expense",
    "on_certificate_button",
    "on_concern_button",
    "on_desk_button",
    "on_expense_button",
    "on_move_button",
    "on_office_button",
    "send_answer",
    "show_expenses",
    "start_writing",
    "take_reply",
]

log = logging.getLogger(__name__)


def _cancelled(t: Texts) -> str:
    return t.gettext("Cancelled. Nothing was saved.")


async def _to_office(
    turn: Turn, screen_for: Callable[[Texts], Screen], file: OutFile | None = None
) -> list[MessageRef]:
    """Send a screen (made in each coordinator's language) to every coordinator; the
    messages that arrived."""
    sent: list[MessageRef] = []
    for contact, t in await coordinator_chats(turn.services.people):
        screen = screen_for(t)
        try:
            message = await turn.switchboard.send(contact, screen, file=file)
        except DeliveryError as exc:
            log.info("a note to a coordinator not delivered: %s", type(exc).__name__)
            continue
        sent.append(MessageRef.at(contact, message.id))
    return sent


async def _deliver(
    turn: Turn, to: Contact, screen: Screen, file: OutFile | None = None
) -> MessageRef | None:
    """Send to someone other than the sender; None (logged, and said to the sender) when it
    did not arrive: a person who blocked the bot is marked unreachable, not the sender."""
    try:
        sent = await turn.switchboard.send(to, screen, file=file)
    except DeliveryError as exc:
        log.info("a message of the office not delivered: %s", type(exc).__name__)
        if isinstance(exc, Blocked):
            await turn.services.people.unreachable(to)
        who = await speaker(turn)
        await turn.send(ov.not_delivered(who.t))
        return None
    return MessageRef.at(to, sent.id)


# ----------------------------------------------------------- writing to the office


async def start_writing(turn: Turn, who: Speaker) -> None:
    """*Write to the office* in the main menu."""
    assert who.person is not None
    dialog = await turn.services.office.begin(who.person, "office", "text", turn.input.key)
    await WRITING.show(turn, who, dialog)


async def _load(turn: Turn, who: Speaker, kind: str) -> Dialog | None:
    if who.person is None or not who.consented:
        return None
    return await turn.services.office.dialog(who.person, kind)


async def _message_text(turn: Turn, who: Speaker) -> str | Reply | None:
    """The typed text of a message to the office; None: none typed; TOLD: too long, and
    the person was told so."""
    text = typed_text(turn)
    if not text:
        return None
    if len(text) > MAX_MESSAGE:
        await turn.send(too_long(who.t, MAX_MESSAGE))
        return Reply.TOLD
    return text


async def _typed_message(turn: Turn, who: Speaker, dialog: Dialog) -> Dialog | Reply | None:
    text = await _message_text(turn, who)
    if not isinstance(text, str):
        return text
    assert who.person is not None
    office = turn.services.office
    thread = await office.write(who.person, text)
    await office.end(dialog)
    await _pass_on(turn, thread, text)
    await turn.send(ov.message_sent(who.t))
    return Reply.TOLD


async def _pass_on(turn: Turn, thread: Thread, text: str) -> None:
    """A message of the person reaches the coordinators, marked with the language."""
    copies = await _to_office(turn, lambda t: Screen(ov.message_for_office(t, thread, text)))
    await turn.services.office.remember(thread, *copies)


#: Writing to the office (``of:stop``); the typed message is sent.
WRITING: Dialogue[Dialog] = Dialogue(
    load=lambda turn, who: _load(turn, who, "office"),
    actions=lambda turn, _: ov.OFFICE,
    screen=lambda turn, who, _: _screen(ov.ask_message(who.t)),
    answers={},
    typed=_typed_message,
    ends={("stop", None): discarding(lambda turn, d: turn.services.office.end(d), _cancelled)},
)


async def _screen(screen: Screen) -> Screen:
    return screen


async def on_office_button(turn: Turn) -> None:
    """``of:stop``."""
    await WRITING.on_press(turn)


async def take_reply(turn: Turn, who: Speaker) -> bool:
    """A reply to a message of a thread with the office: a coordinator's answer reaches the
    person; the person's reply reaches the coordinators. False if it is no such reply."""
    if turn.input.reply_to is None or who.person is None:
        return False
    office = turn.services.office
    thread = await office.thread_of(turn.input.ref(turn.input.reply_to))
    if thread is None:
        return False
    text = await _message_text(turn, who)
    if text is None:
        await turn.send(views.not_understood(who.t))
    if not isinstance(text, str):
        return True
    if thread.person_id == who.person.id:
        await office.write_more(thread, text)
        await _pass_on(turn, thread, text)
        await turn.send(ov.message_sent(who.t))
        return True
    if not await turn.services.people.is_coordinator(turn.input.contact):
        return False
    delivered = await send_answer(turn.services, turn.switchboard, thread, who.person, text)
    if delivered is None:
        return False
    await turn.services.audit.record(
        who.person.id, f"{thread.kind}.reply", thread.person_id, thread.request_id
    )
    await turn.send(ov.answer_sent(who.t) if delivered else ov.not_delivered(who.t))
    return True


async def send_answer(
    services: Services, switchboard: Switchboard, thread: Thread, coordinator: Person, text: str
) -> bool | None:
    """A coordinator's answer in a thread (from the chat or the console): stored, and sent
    to the person in their language on their messenger, where a reply to it continues the
    thread. False: it did not arrive (a person who blocked the bot is marked unreachable);
    None: the person is gone, nothing was stored. The caller records it in the audit log."""
    person = await services.people.by_id(thread.person_id)
    if person is None:
        return None
    await services.office.answer(thread, coordinator, text)
    t = texts(person.language, services.city.timezone)
    try:
        sent = await switchboard.send(person.contact, Screen(ov.answer_for_person(t, text)))
    except DeliveryError as exc:
        log.info("an answer of the office not delivered: %s", type(exc).__name__)
        if isinstance(exc, Blocked):
            await services.people.unreachable(person.contact)
        return False
    await services.office.remember(thread, MessageRef.at(person.contact, sent.id))
    return True


# ------------------------------------------------------------------ concerns


async def on_concern_button(turn: Turn) -> None:
    """``cn:ask:<case>`` from either side of a case; ``cn:r:<case>:<reason>``, ``cn:stop``."""
    who = await speaker(turn)
    chosen = ov.CONCERN.read(turn.input.action)
    if chosen is None or chosen[0] != "ask":
        await CONCERNING.on_press(turn, who)
        return
    request = await turn.services.requests.get(int(chosen[1][0]))
    if request is None or who.person is None or not who.consented or not _side(request, who):
        await refuse(turn, who.t)
        return
    await turn.notice()
    dialog = await turn.services.office.begin(
        who.person, "concern", "reason", turn.input.key, request=request.id
    )
    await CONCERNING.show(turn, who, dialog)


def _side(request: Request, who: Speaker) -> bool:
    assert who.person is not None
    return who.person.id in (request.person_id, request.lotse_id)


async def _report(turn: Turn, who: Speaker, dialog: Dialog, reason: str | None, text: str) -> bool:
    """The concern goes to the coordinators only; the reporter is thanked."""
    assert who.person is not None
    services = turn.services
    request = await services.requests.get(int(dialog.data["request"]))
    if request is None:
        return False
    thread = await services.office.report_concern(who.person, request, reason, text)
    if thread is None:
        return False
    await services.office.end(dialog)
    lotse = await services.lotsen.by_person_id(request.lotse_id) if request.lotse_id else None
    name = lotse.first_name if lotse is not None else "–"
    ro = rv.roster_actions(services.city)
    # The person helped reports: the office can stop the Lotse at once (the roster's button).
    stoppable = thread.side == "person" and lotse is not None and lotse.status is LotseStatus.ACTIVE

    def note(t: Texts) -> Screen:
        screen = ov.concern_for_office(t, thread, request, name, ov.reason_text(t, reason, text))
        if not stoppable or lotse is None:
            return screen
        suspend = ro.choice(t.gettext("⛔ Suspend"), "suspend", lotse.person_id)
        return Screen(screen.text, (*screen.choices, (suspend,)))

    copies = await _to_office(turn, note)
    await services.office.remember(thread, *copies)
    await turn.send(ov.concern_thanks(who.t))
    return True


async def _tapped_reason(turn: Turn, who: Speaker, dialog: Dialog, value: str) -> bool:
    number, _, reason = value.partition(":")
    if int(number) != dialog.data.get("request"):
        return False
    await turn.notice()
    await turn.clear_choices()
    return await _report(turn, who, dialog, reason, reason)


async def _typed_reason(turn: Turn, who: Speaker, dialog: Dialog) -> Dialog | Reply | None:
    text = await _message_text(turn, who)
    if not isinstance(text, str):
        return text
    await _report(turn, who, dialog, None, text)
    return Reply.TOLD


async def _concern_screen(turn: Turn, who: Speaker, dialog: Dialog) -> Screen:
    request = await turn.services.requests.get(int(dialog.data["request"]))
    assert request is not None
    return ov.ask_concern(who.t, request)


#: *Something is wrong* (``cn:…``): a tapped reason, or typed words.
CONCERNING: Dialogue[Dialog] = Dialogue(
    load=lambda turn, who: _load(turn, who, "concern"),
    actions=lambda turn, _: ov.CONCERN,
    screen=_concern_screen,
    answers={},
    typed=_typed_reason,
    ends={
        ("r", None): _tapped_reason,
        ("stop", None): discarding(lambda turn, d: turn.services.office.end(d), _cancelled),
    },
)


# ------------------------------------------------------------------ expenses


async def _active_lotse(turn: Turn, who: Speaker) -> Lotse | None:
    if who.person is None or not who.consented:
        return None
    lotse = await turn.services.lotsen.get(who.person)
    return lotse if lotse is not None and lotse.status is LotseStatus.ACTIVE else None


async def on_expense_button(turn: Turn) -> None:
    """``ex:new:<case>`` from the case's Lotse; ``ex:skip`` (no receipt), ``ex:stop``."""
    who = await speaker(turn)
    chosen = ov.EXPENSE.read(turn.input.action)
    if chosen is None or chosen[0] != "new":
        await SPENDING.on_press(turn, who)
        return
    lotse = await _active_lotse(turn, who)
    request = await turn.services.requests.get(int(chosen[1][0]))
    if lotse is None or request is None or request.lotse_id != lotse.person_id:
        await refuse(turn, who.t)
        return
    assert who.person is not None
    await turn.notice()
    dialog = await turn.services.office.begin(
        who.person, "expense", "what", turn.input.key, request=request.id
    )
    await SPENDING.show(turn, who, dialog)


async def _expense_screen(turn: Turn, who: Speaker, dialog: Dialog) -> Screen:
    if dialog.step == "what":
        return ov.ask_expense_what(who.t, int(dialog.data["request"]))
    if dialog.step == "amount":
        return ov.ask_expense_amount(who.t)
    return ov.ask_receipt(who.t)


async def _typed_expense(turn: Turn, who: Speaker, dialog: Dialog) -> Dialog | Reply | None:
    office, key = turn.services.office, turn.input.key
    if dialog.step == "receipt":
        upload = turn.input.upload
        if upload is None or upload.kind not in ("photo", "document"):
            return None
        await _save_expense(turn, who, dialog, (upload.kind, upload.ref, turn.input.channel))
        return Reply.TOLD
    text = typed_text(turn)
    if dialog.step == "what":
        if not text:
            return None
        if len(text) > MAX_WHAT:
            await turn.send(too_long(who.t, MAX_WHAT))
            return Reply.TOLD
        return await office.advance(dialog, "amount", key, what=text)
    cents = parse_euros(text)
    return None if cents is None else await office.advance(dialog, "receipt", key, cents=cents)


async def _save_expense(
    turn: Turn, who: Speaker, dialog: Dialog, receipt: tuple[str, str, str] | None
) -> bool:
    lotse = await _active_lotse(turn, who)
    request = await turn.services.requests.get(int(dialog.data["request"]))
    if lotse is None or request is None or "cents" not in dialog.data:
        return False
    office = turn.services.office
    what, cents = str(dialog.data["what"]), int(dialog.data["cents"])
    expense = await office.add_expense(lotse, request, what, cents, receipt)
    if expense is None:
        return False
    await office.end(dialog)
    await turn.send(ov.expense_recorded(who.t, expense))
    return True


async def _no_receipt(turn: Turn, who: Speaker, dialog: Dialog, value: str) -> bool:
    await turn.notice()
    await turn.clear_choices()
    return await _save_expense(turn, who, dialog, None)


#: Recording an expense (``ex:…``): what, how much, the receipt.
SPENDING: Dialogue[Dialog] = Dialogue(
    load=lambda turn, who: _load(turn, who, "expense"),
    actions=lambda turn, _: ov.EXPENSE,
    screen=_expense_screen,
    answers={},
    typed=_typed_expense,
    ends={
        ("skip", "receipt"): _no_receipt,
        ("stop", None): discarding(lambda turn, d: turn.services.office.end(d), _cancelled),
    },
)


async def show_expenses(turn: Turn) -> None:
    """/expenses (coordinators): the open expenses of this month, each with its decision."""
    who = await speaker(turn)
    await _expenses(turn, who, 0)


async def _expenses(turn: Turn, who: Speaker, back: int) -> None:
    office = turn.services.office
    month = office.month(back)
    expenses = await office.open_expenses(month)
    await turn.send(ov.expenses_overview(who.t, month, len(expenses), back))
    for expense in expenses:
        screen, receipt = ov.expense_for_office(who.t, expense)
        if receipt is not None and receipt.channel != turn.input.channel:
            receipt = None  # a reference of another channel means nothing here
        await turn.send(screen, attachment=receipt)


# -------------------------------------------------------------- the office's desk


async def on_desk_button(turn: Turn) -> None:
    """``ofc:…`` (coordinators only, gated by the router): open a concern's case, decide an
    expense, other months and exports, confirm a confirmation of volunteering."""
    who = await speaker(turn)
    chosen = ov.OFFICE_DESK.read(turn.input.action)
    if chosen is None or who.person is None:
        await refuse(turn, who.t)
        return
    what, (value,) = chosen
    if what in ("month", "csv", "xlsx"):
        await turn.notice()
        if what == "month":
            await _expenses(turn, who, int(value))
        else:
            office = turn.services.office
            export = await office.export_expenses(what, office.month(int(value)))
            await turn.services.audit.record(who.person_id, "export.expenses")
            caption = ov.expenses_exported(who.t, export.rows)
            await turn.send(caption, file=OutFile(export.filename, export.content))
        return
    done = {"case": _open_case, "ok": _decide, "no": _decide, "cert": _confirm}[what]
    if not await done(turn, who, what, int(value)):
        await refuse(turn, who.t)


async def _open_case(turn: Turn, who: Speaker, what: str, thread_id: int) -> bool:
    services = turn.services
    thread = await services.office.thread(thread_id)
    request = (
        await services.requests.get(thread.request_id) if thread and thread.request_id else None
    )
    if request is None:
        return False
    lotse = await services.lotsen.by_person_id(request.lotse_id) if request.lotse_id else None
    await turn.notice()
    name = lotse.first_name if lotse is not None else "–"
    await turn.send(ov.case_for_office(who.t, services.city, request, name))
    assert thread is not None
    await services.audit.record(who.person_id, "concern.case", thread.person_id, request.id)
    return True


async def _decide(turn: Turn, who: Speaker, what: str, expense_id: int) -> bool:
    assert who.person is not None
    services = turn.services
    expense = await services.office.expense(expense_id)
    if expense is None:
        return False
    outcome = await decide_expense(services, turn.switchboard, expense, what == "ok", who.person)
    if outcome is None:
        return False
    decided, told = outcome
    action = "expense.approve" if what == "ok" else "expense.reject"
    await services.audit.record(who.person.id, action, decided.lotse_id, decided.request_id)
    await turn.notice()
    await turn.clear_choices()
    await turn.send(ov.expense_decided(who.t, decided))
    if not told:
        await turn.send(ov.not_delivered(who.t))
    return True


async def decide_expense(
    services: Services,
    switchboard: Switchboard,
    expense: Expense,
    approved: bool,
    coordinator: Person,
) -> tuple[Expense, bool] | None:
    """Approve or reject an open expense (from the chat or the console) and tell the Lotse
    on their messenger: the decided expense and whether the news arrived; None if it was
    decided already. The caller records it in the audit log."""
    decided = await services.office.decide(expense, approved, coordinator)
    if decided is None:
        return None
    lotse = await services.lotsen.by_person_id(decided.lotse_id)
    if lotse is None:
        return decided, True
    t = texts(lotse.language, services.city.timezone)
    try:
        await switchboard.send(lotse.contact, Screen(ov.expense_news(t, decided)))
    except DeliveryError as exc:
        log.info("news of an expense not delivered: %s", type(exc).__name__)
        if isinstance(exc, Blocked):
            await services.people.unreachable(lotse.contact)
        return decided, False
    return decided, True


async def _confirm(turn: Turn, who: Speaker, what: str, certificate_id: int) -> bool:
    assert who.person is not None
    services = turn.services
    office = services.office
    certificate = await office.certificate(certificate_id)
    lotse = await services.lotsen.by_person_id(certificate.lotse_id) if certificate else None
    if certificate is None or lotse is None:
        return False
    if not await office.confirm_certificate(certificate, who.person):
        return False
    await services.audit.record(who.person.id, "certificate.confirm", lotse.person_id)
    await turn.notice()
    await turn.clear_choices()
    pdf = await _pdf(turn, lotse, certificate.year, confirmed=True)
    t = texts(lotse.language, services.city.timezone)
    caption = Screen(ov.certificate_for_lotse(t, certificate.year))
    if await _deliver(turn, lotse.contact, caption, file=pdf) is not None:
        await turn.send(ov.certificate_confirmed(who.t))
    return True


# ------------------------------------------------------ confirmation of volunteering


async def _pdf(turn: Turn, lotse: Lotse, year: int, confirmed: bool) -> OutFile:
    """The confirmation in the city's language (the one its offices read)."""
    services = turn.services
    city = services.city
    volunteering = await services.office.volunteering(lotse, year)
    t = texts(city.default_language, city.timezone)
    return ov.confirmation_pdf(t, city, volunteering, services.clock.now() if confirmed else None)


async def on_certificate_button(turn: Turn) -> None:
    """``cf:menu`` (which year?), ``cf:ask:<year>`` from an active Lotse."""
    who = await speaker(turn)
    lotse = await _active_lotse(turn, who)
    chosen = ov.CERTIFICATE.read(turn.input.action)
    if lotse is None or chosen is None:
        await refuse(turn, who.t)
        return
    office = turn.services.office
    if chosen[0] == "menu":
        await turn.notice()
        await turn.send(ov.ask_year(who.t, office.certificate_years()))
        return
    certificate = await office.ask_certificate(lotse, int(chosen[1][0]))
    if certificate is None:
        await refuse(turn, who.t)
        return
    await turn.notice()
    await turn.clear_choices()
    draft = await _pdf(turn, lotse, certificate.year, confirmed=False)
    await _to_office(
        turn,
        lambda t: ov.certificate_for_office(t, lotse.first_name, certificate.year, certificate.id),
        file=draft,
    )
    await turn.send(ov.certificate_asked(who.t))


# ----------------------------------------------------------- moving the appointment


async def on_move_button(turn: Turn) -> None:
    """``mv:show:<case>``, ``mv:d:<case>:<day>``, ``mv:t:<case>:<day>:<HHMM>`` from the
    case's Lotse, while the case runs."""
    who = await speaker(turn)
    lotse = await _active_lotse(turn, who)
    chosen = ov.MOVE.read(turn.input.action)
    requests = turn.services.requests
    request = await requests.get(int(chosen[1][0])) if chosen is not None else None
    if (
        lotse is None
        or chosen is None
        or request is None
        or request.lotse_id != lotse.person_id
        or request.status is not Status.ACCEPTED
    ):
        await refuse(turn, who.t)
        return
    what, values = chosen
    days = requests.choosable_days()
    if what == "show":
        await turn.notice()
        await turn.send(ov.ask_move_day(who.t, request, days))
        return
    day = date.fromisoformat(values[1])
    if day not in days:
        await refuse(turn, who.t)
        return
    if what == "d":
        await turn.notice()
        await turn.replace(ov.ask_move_time(who.t, request, day))
        return
    at = time(int(values[2][:2]), int(values[2][2:]))
    if (
        at.strftime("%H:%M") not in TIMES
        or await requests.move_appointment(request, lotse, day, at) is None
    ):
        await refuse(turn, who.t)
        return
    await turn.notice()
    await turn.clear_choices()
