"""What the bot says about the training waiting list, to those waiting and to coordinators."""

from __future__ import annotations

import datetime as dt
from typing import Any

from telegram import InlineKeyboardButton, InlineKeyboardMarkup

from bot.config import CityConfig
from bot.domain.waitlist import Entry, Seat, SeatAnswer, Training, TrainingCounts
from bot.i18n import LANGUAGES, Texts, language_name
from bot.services.waitlist import Standing
from handlers.views import (
    Screen,
    button,
    day_and_time,
    day_buttons,
    grid,
    home_button,
    time_buttons,
)

__all__ = ["intro", "notice", "overview", "standing"]

TRAINING_TIMES = ("09:00", "10:00", "14:00", "16:00", "17:00", "18:00", "18:30", "19:00")
CAPACITIES = (10, 12, 15, 20, 25, 30)


def _cancel(t: Texts) -> list[InlineKeyboardButton]:
    return [button(t.gettext("✖️ Cancel"), "wld:discard")]


def when(t: Texts, training: Training) -> str:
    """Day and time of a training, in the reader's language."""
    return day_and_time(t, training.starts_at)


def _by(t: Texts, training: Training) -> str:
    return t.day(training.confirm_by.astimezone(t.timezone).date())


# ------------------------------------------------------------------ for everyone


def intro(t: Texts, city: CityConfig) -> Screen:
    """What becoming a Lotse means, and the button to join the list."""
    text = t.gettext(
        "<b>Become a Lotse</b>\n\n"
        "Lotsen are volunteers who accompany refugees in {city} to offices, doctors and "
        "schools, and help with letters. A free training prepares you for it.\n\n"
        "Put your name on the waiting list: when the next training is planned, you will "
        "be told here. Nobody will write to you in between.",
        city=city.city,
    )
    rows = [[button(t.gettext("✍️ Put me on the waiting list"), "wl:join")], [home_button(t)]]
    return Screen(text, InlineKeyboardMarkup(rows))


def ask_name(t: Texts, suggested: str) -> Screen:
    """Join, step 1: the name."""
    rows = [[button(suggested, "wld:name")]] if suggested else []
    rows.append(_cancel(t))
    return Screen(
        t.gettext("<b>What is your name?</b> Write your first and last name."),
        InlineKeyboardMarkup(rows),
    )


def ask_contact(t: Texts) -> Screen:
    """Join, step 2: how the office can reach them."""
    rows = [[button(t.gettext("💬 Telegram is enough"), "wld:tg")], _cancel(t)]
    return Screen(
        t.gettext(
            "<b>How can the coordination office reach you?</b>\n"
            "Here in Telegram is enough. If you prefer, write a phone number or an e-mail "
            "address."
        ),
        InlineKeyboardMarkup(rows),
    )


def ask_languages(t: Texts, chosen: list[str]) -> Screen:
    """Join, step 3: the languages they speak (several)."""
    buttons = [
        button(("✓ " if code in chosen else "") + language_name(code), f"wld:lang:{code}")
        for code in LANGUAGES
    ]
    rows = [*grid(buttons, 2), [button(t.gettext("➡️ Done"), "wld:lang_done")], _cancel(t)]
    return Screen(
        t.gettext("<b>Which languages do you speak?</b> Tap all that apply, then Done."),
        InlineKeyboardMarkup(rows),
    )


def ask_district(t: Texts, city: CityConfig) -> Screen:
    """Join, step 4: the Stadtteil."""
    buttons = [button(name, f"wld:district:{i}") for i, name in enumerate(city.districts)]
    rows = [
        *grid(buttons, 2),
        [button(t.gettext("Not in {city}", city=city.city), "wld:district:-")],
        _cancel(t),
    ]
    return Screen(
        t.gettext("<b>In which part of {city} do you live?</b>", city=city.city),
        InlineKeyboardMarkup(rows),
    )


def _languages(t: Texts, codes: tuple[str, ...] | list[str]) -> str:
    return t.join(language_name(c) for c in codes)


def confirm_join(t: Texts, data: dict[str, Any]) -> Screen:
    """Join, the summary."""
    lines = [
        t.gettext("<b>Is this right?</b>"),
        t.gettext("Name: {name}", name=data["name"]),
        t.gettext("Contact: {contact}", contact=data.get("contact") or t.gettext("Telegram")),
        t.gettext("Languages: {languages}", languages=_languages(t, data.get("languages", []))),
        t.gettext("Stadtteil: {district}", district=data.get("district") or "–"),
    ]
    rows = [
        [button(t.gettext("✅ Put me on the list"), "wld:save")],
        [button(t.gettext("✏️ Start again"), "wl:join")],
        _cancel(t),
    ]
    return Screen("\n".join(lines), InlineKeyboardMarkup(rows))


def joined(t: Texts, place: int) -> str:
    """Just placed on the list."""
    return t.gettext(
        "Thank you! You are number <b>{place}</b> on the waiting list. When the next "
        "training is planned, you will be told here.",
        place=place,
    )


def seat_text(t: Texts, training: Training, answer: SeatAnswer) -> str:
    """What an answer to a training means for the reader."""
    if answer.seat is Seat.PLACE:
        return t.gettext(
            "✅ You have a place in the training on {when}. See you there!",
            when=when(t, training),
        )
    if answer.seat is Seat.RESERVE:
        return t.gettext(
            "You are reserve number {number}. If a place becomes free, you will be told at once.",
            number=answer.reserve_number,
        )
    return t.gettext("Noted: not this time. You stay on the waiting list.")


def answer_buttons(t: Texts, training: Training, answer: SeatAnswer | None) -> list[list[Any]]:
    """*I'll come* / *Not this time*, or only *I cannot come* once someone has a seat."""
    if answer is not None and answer.seat is not None:
        return [[button(t.gettext("❌ I cannot come after all"), f"wl:t:{training.id}:no")]]
    return [
        [
            button(t.gettext("✅ I'll come"), f"wl:t:{training.id}:yes"),
            button(t.gettext("❌ Not this time"), f"wl:t:{training.id}:no"),
        ]
    ]


def standing(t: Texts, where: Standing) -> Screen:
    """The person's place on the list and the next training."""
    lines = [
        t.gettext("<b>You are on the waiting list</b>"),
        t.gettext("Your place: {place}", place=where.place),
    ]
    rows: list[list[Any]] = []
    training = where.training
    if training is None:
        lines.append(t.gettext("No training is planned yet. You will be told here."))
    else:
        lines += ["", _training_lines(t, training)]
        if where.answer is not None:
            lines += ["", seat_text(t, training, where.answer)]
        rows += answer_buttons(t, training, where.answer)
    rows += [[button(t.gettext("🚪 Leave the waiting list"), "wl:leave")], [home_button(t)]]
    return Screen("\n".join(lines), InlineKeyboardMarkup(rows))


def _training_lines(t: Texts, training: Training) -> str:
    return "\n".join(
        [
            t.gettext("🎓 <b>Lotsen training</b>"),
            t.gettext("🗓 {when}", when=when(t, training)),
            t.gettext("📍 {place}", place=training.place),
        ]
    )


def notice(t: Texts, training: Training, kind: str) -> Screen:
    """A training mailing: the announcement, or the news of a free place."""
    if kind == "remind":
        text = "\n".join(
            [
                t.gettext("⏰ <b>Reminder</b>"),
                _training_lines(t, training),
                "",
                seat_text(t, training, SeatAnswer(Seat.PLACE)),
            ]
        )
        place = SeatAnswer(Seat.PLACE)
        return Screen(text, InlineKeyboardMarkup(answer_buttons(t, training, place)))
    if kind == "moved_up":
        text = "\n".join(
            [
                t.gettext("🎉 <b>A place became free for you</b>"),
                _training_lines(t, training),
                "",
                t.gettext("You now have a place. If you cannot come after all, tap below."),
            ]
        )
        return Screen(
            text, InlineKeyboardMarkup(answer_buttons(t, training, SeatAnswer(Seat.PLACE)))
        )
    text = "\n".join(
        [
            _training_lines(t, training),
            "",
            t.ngettext(
                "There is {n} place, given in the order of the answers.",
                "There are {n} places, given in the order of the answers.",
                training.capacity,
            ),
            t.gettext("Please answer by {day}.", day=_by(t, training)),
        ]
    )
    return Screen(text, InlineKeyboardMarkup(answer_buttons(t, training, None)))


def leave_question(t: Texts) -> Screen:
    """Are you sure?"""
    rows = [
        [button(t.gettext("🚪 Yes, take me off the list"), "wl:leave_yes")],
        [home_button(t)],
    ]
    return Screen(
        t.gettext("<b>Leave the waiting list?</b> Your entry is deleted; you lose your place."),
        InlineKeyboardMarkup(rows),
    )


def left(t: Texts) -> str:
    """Off the list."""
    return t.gettext("You are no longer on the waiting list. You are welcome back at any time.")


def too_late(t: Texts) -> str:
    """A training that can no longer be answered."""
    return t.gettext("This training can no longer be answered. Ask the coordination office.")


def discarded(t: Texts) -> str:
    """A dialog thrown away."""
    return t.gettext("Cancelled. Nothing was saved.")


# ---------------------------------------------------------------- coordinators


#: People shown per page of /waitlist: ten long entries and two trainings stay within
#: Telegram's 4096 characters.
PAGE = 10


def overview(
    t: Texts,
    count: int,
    entries: list[Entry],
    trainings: list[tuple[Training, TrainingCounts]],
    page: int = 0,
) -> Screen:
    """/waitlist: who is waiting (a page of them), the trainings and their answers."""
    lines = [
        t.ngettext("<b>Waiting list</b>: {n} person", "<b>Waiting list</b>: {n} people", count)
    ]
    for number, entry in enumerate(entries, start=page * PAGE + 1):
        lines.append(
            t.gettext(
                "{number}. {name} · {contact} · {languages} · {district} · since {day}",
                number=number,
                name=entry.name,
                contact=entry.contact or t.gettext("Telegram"),
                languages=_languages(t, entry.languages),
                district=entry.district or "–",
                day=t.short_day(entry.joined_at.astimezone(t.timezone).date()),
            )
        )
    for training, counts in trainings:
        lines += [
            "",
            _training_lines(t, training),
            t.gettext(
                "{places} of {capacity} places taken, {reserves} reserves, {declined} said no, "
                "{told} told. Answers by {day}.",
                places=counts.places,
                capacity=training.capacity,
                reserves=counts.reserves,
                declined=counts.declined,
                told=counts.told,
                day=_by(t, training),
            ),
        ]
    pages = [
        button(
            ("⬅️ " if n < page else "")
            + f"{n * PAGE + 1}–{min(count, (n + 1) * PAGE)}"
            + (" ➡️" if n > page else ""),
            f"wlc:page:{n}",
        )
        for n in (page - 1, page + 1)
        if n >= 0 and n * PAGE < count
    ]
    rows = [
        *([pages] if pages else []),
        [button(t.gettext("🎓 Announce a training"), "wlc:new")],
        [
            button(t.gettext("📄 Export (CSV)"), "wlc:export:csv"),
            button(t.gettext("📊 Export (Excel)"), "wlc:export:xlsx"),
        ],
    ]
    return Screen("\n".join(lines), InlineKeyboardMarkup(rows))


def _stop(t: Texts) -> list[InlineKeyboardButton]:
    return [button(t.gettext("✖️ Cancel"), "wlc:discard")]


def ask_day(t: Texts, days: list[dt.date]) -> Screen:
    """Training, step 1: the day."""
    rows = [*day_buttons(t, days, "wlc:day:"), _stop(t)]
    return Screen(
        t.gettext(
            "<b>On which day is the training?</b> Tap one, or write a date such as 14.03.2027."
        ),
        InlineKeyboardMarkup(rows),
    )


def ask_time(t: Texts) -> Screen:
    """Training, step 2: the time."""
    rows = [*time_buttons(t, TRAINING_TIMES, "wlc:time:"), _stop(t)]
    return Screen(
        t.gettext("<b>At what time?</b> Tap one, or write it such as 18:45."),
        InlineKeyboardMarkup(rows),
    )


def ask_place(t: Texts, place: str) -> Screen:
    """Training, step 3: the place."""
    rows = [[button(place, "wlc:place")], _stop(t)]
    return Screen(
        t.gettext("<b>Where?</b> Tap the usual place, or write another."),
        InlineKeyboardMarkup(rows),
    )


def ask_capacity(t: Texts) -> Screen:
    """Training, step 4: how many places."""
    buttons = [button(str(n), f"wlc:cap:{n}") for n in CAPACITIES]
    rows = [*grid(buttons, 3), _stop(t)]
    return Screen(
        t.gettext("<b>How many places?</b> Tap a number or write one."), InlineKeyboardMarkup(rows)
    )


def ask_confirm_by(t: Texts, days: list[dt.date]) -> Screen:
    """Training, step 5: answers wanted by."""
    rows = [*day_buttons(t, days, "wlc:by:"), _stop(t)]
    return Screen(
        t.gettext(
            "<b>Answers by which day?</b> Those who confirm in time get the places in order."
        ),
        InlineKeyboardMarkup(rows),
    )


def confirm_training(t: Texts, training: Training, recipients: int) -> Screen:
    """Training, the summary."""
    text = "\n".join(
        [
            t.gettext("<b>Announce this training?</b>"),
            _training_lines(t, training),
            t.ngettext("{n} place", "{n} places", training.capacity),
            t.gettext("Answers by {day}", day=_by(t, training)),
            "",
            t.ngettext(
                "It goes to {n} person on the waiting list.",
                "It goes to {n} people on the waiting list.",
                recipients,
            ),
        ]
    )
    rows = [[button(t.gettext("📣 Announce"), "wlc:save")], _stop(t)]
    return Screen(text, InlineKeyboardMarkup(rows))


def announced(t: Texts) -> str:
    """The training went out."""
    return t.gettext("The training is announced. /waitlist shows the answers as they come.")


def not_saved(t: Texts) -> str:
    """The dialog was used already or its date has passed."""
    return t.gettext("Not saved: the date has passed or this was saved already.")
