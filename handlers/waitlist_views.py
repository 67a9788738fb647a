"""What the bot says about the training waiting list, to those waiting and to coordinators."""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection
from typing import Any

from bot.config import CityConfig
from bot.domain.waitlist import Entry, Seat, SeatAnswer, Training, TrainingCounts
from bot.i18n import LANGUAGES, Texts, language_name
from bot.services.waitlist import Standing
from handlers.actions import NUMBER, Actions, indices
from handlers.port import Choice, Choices
from handlers.views import Screen, day_and_time, day_buttons, grid, home_button, time_buttons

__all__ = [
    "WAITING",
    "coordinating",
    "entry_line",
    "intro",
    "joining",
    "notice",
    "overview",
    "standing",
    "training_summary",
]

TRAINING_TIMES = ("09:00", "10:00", "14:00", "16:00", "17:00", "18:00", "18:30", "19:00")
CAPACITIES = (10, 12, 15, 20, 25, 30)

#: What those on (or joining) the list choose: join, leave, and answer a training.
WAITING = Actions("wl", {"join": (), "leave": (), "leave_yes": (), "t": (NUMBER, ("yes", "no"))})


def joining(districts: Collection[str] = ()) -> Actions:
    """The join dialog's choices; a Stadtteil is chosen by its place among ``districts``."""
    return Actions(
        "wld",
        {
            **dict.fromkeys(("discard", "save", "name", "tg", "lang_done"), ()),
            "lang": (LANGUAGES,),
            "district": (indices(districts) | {"-"},),
        },
    )


def coordinating(days: Collection[dt.date] = (), by: Collection[dt.date] = ()) -> Actions:
    """The coordinators' choices: the list's pages and exports, and the training dialog
    (a training on one of ``days``, answers by one of ``by``)."""
    return Actions(
        "wlc",
        {
            **dict.fromkeys(("new", "discard", "save", "place"), ()),
            "export": (("csv", "xlsx"),),
            "page": (NUMBER,),
            "edit": (NUMBER,),
            "day": ({day.isoformat() for day in days},),
            "time": ({value.replace(":", "") for value in TRAINING_TIMES},),
            "cap": ({str(n) for n in CAPACITIES},),
            "by": ({day.isoformat() for day in by},),
        },
    )


#: The join dialog's choices that name no Stadtteil, and the coordinators' that name no day.
_JOIN = joining()
_COORDINATE = coordinating()


def _cancel(t: Texts) -> tuple[Choice, ...]:
    return (_JOIN.choice(t.gettext("✖️ Cancel"), "discard"),)


def _local_day(t: Texts, training: Training) -> dt.date:
    return training.starts_at.astimezone(t.timezone).date()


def when(t: Texts, training: Training) -> str:
    """Day and time of a training, in the reader's language."""
    return day_and_time(t, training.starts_at)


def _by(t: Texts, training: Training) -> str:
    return t.day(training.confirm_by.astimezone(t.timezone).date())


# ------------------------------------------------------------------ for everyone


def intro(t: Texts, city: CityConfig) -> Screen:
    """What becoming a Lotse means, and the choice to join the list."""
    text = t.gettext(
        "<b>Become a Lotse</b>\n\n"
        "Lotsen are volunteers who accompany refugees in {city} to offices, doctors and "
        "schools, and help with letters. A free training prepares you for it.\n\n"
        "Put your name on the waiting list: when the next training is planned, you will "
        "be told here. Nobody will write to you in between.",
        city=city.city,
    )
    choices = (
        (WAITING.choice(t.gettext("✍️ Put me on the waiting list"), "join"),),
        (home_button(t),),
    )
    return Screen(text, choices)


def ask_name(t: Texts, suggested: str) -> Screen:
    """Join, step 1: the name."""
    offered = ((_JOIN.choice(suggested, "name"),),) if suggested else ()
    return Screen(
        t.gettext("<b>What is your name?</b> Write your first and last name."),
        (*offered, _cancel(t)),
    )


def _by_chat(t: Texts) -> str:
    """The contact of someone who gave none: the chat with the bot."""
    return t.gettext("the chat with the bot")


def ask_contact(t: Texts) -> Screen:
    """Join, step 2: how the office can reach them."""
    choices = ((_JOIN.choice(t.gettext("💬 This chat is enough"), "tg"),), _cancel(t))
    return Screen(
        t.gettext(
            "<b>How can the coordination office reach you?</b>\n"
            "This chat is enough. If you prefer, write a phone number or an e-mail address."
        ),
        choices,
    )


def ask_languages(t: Texts, chosen: list[str]) -> Screen:
    """Join, step 3: the languages they speak (several)."""
    languages = [
        _JOIN.choice(("✓ " if code in chosen else "") + language_name(code), "lang", code)
        for code in LANGUAGES
    ]
    done = (_JOIN.choice(t.gettext("➡️ Done"), "lang_done"),)
    return Screen(
        t.gettext("<b>Which languages do you speak?</b> Tap all that apply, then Done."),
        (*grid(languages, 2), done, _cancel(t)),
    )


def ask_district(t: Texts, city: CityConfig) -> Screen:
    """Join, step 4: the Stadtteil."""
    actions = joining(city.districts)
    districts = [actions.choice(name, "district", i) for i, name in enumerate(city.districts)]
    elsewhere = (actions.choice(t.gettext("Not in {city}", city=city.city), "district", "-"),)
    return Screen(
        t.gettext("<b>In which part of {city} do you live?</b>", city=city.city),
        (*grid(districts, 2), elsewhere, _cancel(t)),
    )


def _languages(t: Texts, codes: tuple[str, ...] | list[str]) -> str:
    return t.join(language_name(c) for c in codes)


def confirm_join(t: Texts, data: dict[str, Any]) -> Screen:
    """Join, the summary."""
    lines = [
        t.gettext("<b>Is this right?</b>"),
        t.gettext("Name: {name}", name=data["name"]),
        t.gettext("Contact: {contact}", contact=data.get("contact") or _by_chat(t)),
        t.gettext("Languages: {languages}", languages=_languages(t, data.get("languages", []))),
        t.gettext("Stadtteil: {district}", district=data.get("district") or "–"),
    ]
    choices = (
        (_JOIN.choice(t.gettext("✅ Put me on the list"), "save"),),
        (WAITING.choice(t.gettext("✏️ Start again"), "join"),),
        _cancel(t),
    )
    return Screen("\n".join(lines), choices)


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


def answer_choices(t: Texts, training: Training, answer: SeatAnswer | None) -> Choices:
    """*I'll come* / *Not this time*, or only *I cannot come* once someone has a seat."""
    if answer is not None and answer.seat is not None:
        return ((WAITING.choice(t.gettext("❌ I cannot come after all"), "t", training.id, "no"),),)
    return (
        (
            WAITING.choice(t.gettext("✅ I'll come"), "t", training.id, "yes"),
            WAITING.choice(t.gettext("❌ Not this time"), "t", training.id, "no"),
        ),
    )


def standing(t: Texts, where: Standing) -> Screen:
    """The person's place on the list and the next training."""
    lines = [
        t.gettext("<b>You are on the waiting list</b>"),
        t.gettext("Your place: {place}", place=where.place),
    ]
    choices: Choices = ()
    training = where.training
    if training is None:
        lines.append(t.gettext("No training is planned yet. You will be told here."))
    else:
        lines += ["", _training_lines(t, training)]
        if where.answer is not None:
            lines += ["", seat_text(t, training, where.answer)]
        choices = answer_choices(t, training, where.answer)
    leave = (WAITING.choice(t.gettext("🚪 Leave the waiting list"), "leave"),)
    return Screen("\n".join(lines), (*choices, leave, (home_button(t),)))


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
        return Screen(text, answer_choices(t, training, SeatAnswer(Seat.PLACE)))
    if kind == "changed":
        text = "\n".join(
            [
                t.gettext("🔁 <b>The training was changed</b>"),
                _training_lines(t, training),
                "",
                t.gettext("An answer you gave stays; you can change it below."),
            ]
        )
        return Screen(text, answer_choices(t, training, None))
    if kind == "moved_up":
        text = "\n".join(
            [
                t.gettext("🎉 <b>A place became free for you</b>"),
                _training_lines(t, training),
                "",
                t.gettext("You now have a place. If you cannot come after all, tap below."),
            ]
        )
        return Screen(text, answer_choices(t, training, SeatAnswer(Seat.PLACE)))
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
    return Screen(text, answer_choices(t, training, None))


def leave_question(t: Texts) -> Screen:
    """Are you sure?"""
    choices = (
        (WAITING.choice(t.gettext("🚪 Yes, take me off the list"), "leave_yes"),),
        (home_button(t),),
    )
    return Screen(
        t.gettext("<b>Leave the waiting list?</b> Your entry is deleted; you lose your place."),
        choices,
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
    trainings: list[tuple[Training, TrainingCounts, list[tuple[str, str | None]]]],
    page: int = 0,
) -> Screen:
    """/waitlist: who is waiting (a page of them), the trainings, their answers and who gave
    them (✅ a place, ⏳ a reserve, ❌ no)."""
    lines = [
        t.ngettext("<b>Waiting list</b>: {n} person", "<b>Waiting list</b>: {n} people", count)
    ]
    for number, entry in enumerate(entries, start=page * PAGE + 1):
        lines.append(entry_line(t, number, entry))
    for training, counts, answered in trainings:
        lines += ["", training_summary(t, training, counts, answered)]
    changes = tuple(
        (
            _COORDINATE.choice(
                t.gettext("✏️ Change the training of {day}", day=t.short_day(_local_day(t, tr))),
                "edit",
                tr.id,
            ),
        )
        for tr, _, _ in trainings
    )
    pages = tuple(
        _COORDINATE.choice(
            ("⬅️ " if n < page else "")
            + f"{n * PAGE + 1}–{min(count, (n + 1) * PAGE)}"
            + (" ➡️" if n > page else ""),
            "page",
            n,
        )
        for n in (page - 1, page + 1)
        if n >= 0 and n * PAGE < count
    )
    choices = (
        *((pages,) if pages else ()),
        *changes,
        (_COORDINATE.choice(t.gettext("🎓 Announce a training"), "new"),),
        (
            _COORDINATE.choice(t.gettext("📄 Export (CSV)"), "export", "csv"),
            _COORDINATE.choice(t.gettext("📊 Export (Excel)"), "export", "xlsx"),
        ),
    )
    return Screen("\n".join(lines), choices)


def entry_line(t: Texts, number: int, entry: Entry) -> str:
    """Someone waiting, for coordinators: their place, name, contact, languages, Stadtteil."""
    return t.gettext(
        "{number}. {name} · {contact} · {languages} · {district} · since {day}",
        number=number,
        name=entry.name,
        contact=entry.contact or _by_chat(t),
        languages=_languages(t, entry.languages),
        district=entry.district or "–",
        day=t.short_day(entry.joined_at.astimezone(t.timezone).date()),
    )


def training_summary(
    t: Texts,
    training: Training,
    counts: TrainingCounts,
    answered: list[tuple[str, str | None]],
) -> str:
    """A training for coordinators: when and where, the answers, and who gave them."""
    lines = [
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
    for mark, seat in (("✅", "place"), ("⏳", "reserve"), ("❌", None)):
        names = [name for name, given in answered if given == seat]
        if names:
            lines.append(f"{mark} {t.join(names)}")
    return "\n".join(lines)


def _stop(t: Texts) -> tuple[Choice, ...]:
    return (_COORDINATE.choice(t.gettext("✖️ Cancel"), "discard"),)


def ask_day(t: Texts, days: list[dt.date]) -> Screen:
    """Training, step 1: the day."""
    return Screen(
        t.gettext(
            "<b>On which day is the training?</b> Tap one, or write a date such as 14.03.2027."
        ),
        (*day_buttons(t, days, coordinating(days=days), "day"), _stop(t)),
    )


def ask_time(t: Texts) -> Screen:
    """Training, step 2: the time."""
    return Screen(
        t.gettext("<b>At what time?</b> Tap one, or write it such as 18:45."),
        (*time_buttons(t, TRAINING_TIMES, _COORDINATE, "time"), _stop(t)),
    )


def ask_place(t: Texts, place: str) -> Screen:
    """Training, step 3: the place."""
    return Screen(
        t.gettext("<b>Where?</b> Tap the usual place, or write another."),
        ((_COORDINATE.choice(place, "place"),), _stop(t)),
    )


def ask_capacity(t: Texts) -> Screen:
    """Training, step 4: how many places."""
    capacities = [_COORDINATE.choice(str(n), "cap", n) for n in CAPACITIES]
    return Screen(
        t.gettext("<b>How many places?</b> Tap a number or write one."),
        (*grid(capacities, 3), _stop(t)),
    )


def ask_confirm_by(t: Texts, days: list[dt.date]) -> Screen:
    """Training, step 5: answers wanted by."""
    return Screen(
        t.gettext(
            "<b>Answers by which day?</b> Those who confirm in time get the places in order."
        ),
        (*day_buttons(t, days, coordinating(by=days), "by"), _stop(t)),
    )


def confirm_training(
    t: Texts, training: Training, recipients: int, changing: bool = False
) -> Screen:
    """Training, the summary (``changing``: of a training announced before)."""
    if changing:
        head = t.gettext("<b>Change the training to this?</b>")
        told = t.gettext("Everyone who was told and did not say no hears of the change.")
        save = t.gettext("🔁 Save the change")
    else:
        head = t.gettext("<b>Announce this training?</b>")
        told = t.ngettext(
            "It goes to {n} person on the waiting list.",
            "It goes to {n} people on the waiting list.",
            recipients,
        )
        save = t.gettext("📣 Announce")
    text = "\n".join(
        [
            head,
            _training_lines(t, training),
            t.ngettext("{n} place", "{n} places", training.capacity),
            t.gettext("Answers by {day}", day=_by(t, training)),
            "",
            told,
        ]
    )
    return Screen(text, ((_COORDINATE.choice(save, "save"),), _stop(t)))


def announced(t: Texts) -> str:
    """The training went out."""
    return t.gettext("The training is announced. /waitlist shows the answers as they come.")


def not_saved(t: Texts) -> str:
    """The dialog was used already or its date has passed."""
    return t.gettext("Not saved: the date has passed or this was saved already.")
