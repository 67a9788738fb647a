"""What the bot says about Stammtisch dates: lists, invitations, answers, the dialogs."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence

from bot.config import CityConfig
from bot.domain.events import Event, EventRule, Pattern, Rsvp, RsvpCounts
from bot.i18n import Texts
from bot.services.events import Step
from handlers.actions import NUMBER, Actions, indices
from handlers.port import Choice
from handlers.views import Screen, day_and_time, day_buttons, grid, home_button, time_buttons

__all__ = [
    "EVENTS",
    "RSVP",
    "RSVP_LISTED",
    "announcement",
    "coordinator_card",
    "pattern_label",
    "planning_actions",
    "rsvp_buttons",
    "upcoming",
]

EVENT_TIMES = ("16:00", "17:00", "17:30", "18:00", "18:30", "19:00", "19:30", "20:00")
#: A rule's rhythm as its choices carry it: the week of the month (-1: the last one),
#: 0 every week, 00 every other week.
PATTERNS = ("1", "2", "3", "4", "-1", "0", "00")

#: An answer to an invitation under a notice: ``ev:rsvp:<event>:<answer>``.
RSVP = Actions("ev", {"rsvp": (NUMBER, tuple(Rsvp))})
#: The same answer on the /stammtisch list, which is drawn again after it:
#: ``ev:rsvp:<event>:<answer>:list``.
RSVP_LISTED = Actions("ev", {"rsvp": (NUMBER, tuple(Rsvp), "list")})
#: The coordinators' other ``ev:`` choices and the event or rule number they carry.
EVENTS = Actions(
    "ev",
    {
        **dict.fromkeys(("new", "rules", "rule_new"), ()),
        **dict.fromkeys(
            ("rule_stop", "rule_edit", "card", "announce", "move", "cancel", "cancel_yes"),
            (NUMBER,),
        ),
    },
)
#: The steps the planning dialogs' choices go to (from the summary, and on to it).
GOTO = (Step.TITLE, Step.PATTERN, Step.DAY, Step.TIME, Step.PLACE, Step.TOPICS, Step.CONFIRM)


def planning_actions(days: Iterable[dt.date] = (), topics: Sequence[str] = ()) -> Actions:
    """The planning dialogs' ``evd:`` choices, a day and a topic among ``days`` and ``topics``."""
    return Actions(
        "evd",
        {
            **dict.fromkeys(("discard", "save", "save_quiet"), ()),
            "title": ("default",),
            "nth": (PATTERNS,),
            "wd": (indices(range(7)),),
            "day": ({day.isoformat() for day in days},),
            "time": ({value.replace(":", "") for value in EVENT_TIMES},),
            "place": ("default",),
            "topic": (indices(topics),),
            "goto": (GOTO,),
        },
    )


#: The planning choices that offer neither a day nor a topic.
_PLANNING = planning_actions()


def when(t: Texts, event: Event) -> str:
    """Day and time of a date, in the reader's language."""
    return day_and_time(t, event.starts_at)


def details(t: Texts, event: Event) -> str:
    """Title, day and time, place and topics, one per line."""
    lines = [
        t.gettext("📅 <b>{title}</b>", title=event.title),
        t.gettext("🗓 {when}", when=when(t, event)),
        t.gettext("📍 {place}", place=event.place),
    ]
    if event.topics:
        lines.append(t.gettext("💬 Topics: {topics}", topics=t.join(event.topics)))
    return "\n".join(lines)


def answer_label(t: Texts, answer: Rsvp) -> str:
    """An answer in words."""
    return {
        Rsvp.YES: t.gettext("✅ I'll come"),
        Rsvp.MAYBE: t.gettext("🤔 Maybe"),
        Rsvp.NO: t.gettext("❌ No"),
    }[answer]


def rsvp_buttons(
    t: Texts, event: Event, answer: Rsvp | None, listed: bool = False
) -> tuple[Choice, ...]:
    """*I'll come* / *Maybe* / *No*; the current answer is marked. ``listed``: on the
    /stammtisch list (the choices say so, for the list to be drawn again)."""
    actions, marker = (RSVP_LISTED, ("list",)) if listed else (RSVP, ())
    # On the list, with several dates, each choice names its date (and keeps only the mark
    # of its answer, for the three to fit a row).
    day = t.short_day(event.local_day(t.timezone))
    return tuple(
        actions.choice(
            ("• " if answer is choice else "")
            + (f"{_MARKS[choice]} {day}" if listed else answer_label(t, choice)),
            "rsvp",
            event.id,
            choice,
            *marker,
        )
        for choice in Rsvp
    )


#: The mark each answer's label begins with.
_MARKS = {Rsvp.YES: "✅", Rsvp.MAYBE: "🤔", Rsvp.NO: "❌"}


def your_answer(t: Texts, answer: Rsvp | None) -> str:
    """The reader's answer so far."""
    if answer is None:
        return t.gettext("Will you come?")
    return t.gettext("Your answer: {answer}", answer=answer_label(t, answer))


def announcement(t: Texts, event: Event, answer: Rsvp | None = None) -> Screen:
    """The invitation to all Lotsen (sent with the calendar file)."""
    text = "\n".join(
        [
            t.gettext("📣 <b>Invitation</b>"),
            details(t, event),
            "",
            t.gettext("Open the attached file to add the date to your calendar."),
            your_answer(t, answer),
        ]
    )
    return Screen(text, (rsvp_buttons(t, event, answer),))


def reminder(t: Texts, event: Event, answer: Rsvp | None = None) -> Screen:
    """The day before, to those who said yes or maybe."""
    text = "\n".join(
        [t.gettext("⏰ <b>Reminder</b>"), details(t, event), "", your_answer(t, answer)]
    )
    return Screen(text, (rsvp_buttons(t, event, answer),))


def moved(t: Texts, event: Event, answer: Rsvp | None = None) -> Screen:
    """A date was moved (sent with the updated calendar file)."""
    text = "\n".join(
        [
            t.gettext("🔁 <b>New date</b>"),
            details(t, event),
            "",
            t.gettext("Does the new date suit you?"),
            your_answer(t, answer),
        ]
    )
    return Screen(text, (rsvp_buttons(t, event, answer),))


def cancelled(t: Texts, event: Event) -> Screen:
    """A date was cancelled."""
    return Screen(
        t.gettext("❌ <b>Cancelled:</b> {title} on {when}.", title=event.title, when=when(t, event))
    )


def notice(t: Texts, event: Event, kind: str, answer: Rsvp | None = None) -> Screen:
    """The screen of an event notice (announce, remind, moved, cancelled)."""
    if kind == "remind":
        return reminder(t, event, answer)
    if kind == "moved":
        return moved(t, event, answer)
    if kind == "cancelled":
        return cancelled(t, event)
    return announcement(t, event, answer)


def upcoming(
    t: Texts,
    city: CityConfig,
    events: list[Event],
    answers: dict[int, Rsvp] | None,
    coordinator: bool,
) -> Screen:
    """/stammtisch: the next dates; Lotsen answer here, coordinators manage them."""
    lines = [t.gettext("<b>The next dates</b>")]
    rows: list[tuple[Choice, ...]] = []
    if not events:
        lines.append(
            t.gettext(
                "No date is planned yet. The Lotsen meet about once a month at {venue}.",
                venue=city.stammtisch.venue,
            )
        )
    for event in events:
        lines += ["", details(t, event)]
        if answers is not None:
            lines.append(your_answer(t, answers.get(event.id)))
            rows.append(rsvp_buttons(t, event, answers.get(event.id), listed=True))
        if coordinator:
            day = t.short_day(event.local_day(t.timezone))
            rows.append((EVENTS.choice(t.gettext("⚙️ {day}", day=day), "card", event.id),))
    if coordinator:
        rows.append(
            (
                EVENTS.choice(t.gettext("➕ New date"), "new"),
                EVENTS.choice(t.gettext("🔁 Repeating dates"), "rules"),
            )
        )
    rows.append((home_button(t),))
    return Screen("\n".join(lines), tuple(rows))


def answer_noted(t: Texts, answer: Rsvp) -> str:
    """The short notice after pressing an answer."""
    return t.gettext("Thank you! Your answer: {answer}", answer=answer_label(t, answer))


def event_over(t: Texts) -> str:
    """An answer to a date that is over or cancelled."""
    return t.gettext("This date is over or was cancelled.")


def only_lotsen(t: Texts) -> str:
    """Someone who is not a Lotse pressed an answer."""
    return t.gettext("The Stammtisch is for Lotsen. Answers are only possible for them.")


# ----------------------------------------------------------------- coordinators


def coordinator_card(
    t: Texts,
    event: Event,
    counts: RsvpCounts,
    announced: bool,
    answered: Sequence[tuple[str, Rsvp]] = (),
) -> Screen:
    """One date for coordinators: the answers so far and who gave them, announce, move,
    cancel."""
    lines = [details(t, event), ""]
    if announced:
        lines.append(
            t.gettext(
                "Answers: ✅ {yes} · 🤔 {maybe} · ❌ {no} · no answer yet {silent} (told: {told})",
                yes=t.number(counts.yes),
                maybe=t.number(counts.maybe),
                no=t.number(counts.no),
                silent=t.number(counts.silent),
                told=t.number(counts.told),
            )
        )
    else:
        lines.append(t.gettext("Not announced yet."))
    for answer in Rsvp:
        names = [name for name, given in answered if given is answer]
        if names:
            lines.append(f"{_MARKS[answer]} {t.join(names)}")
    rows: list[tuple[Choice, ...]] = []
    if not announced:
        rows.append((EVENTS.choice(t.gettext("📣 Announce now"), "announce", event.id),))
    rows.append(
        (
            EVENTS.choice(t.gettext("🕑 Move"), "move", event.id),
            EVENTS.choice(t.gettext("✖️ Cancel date"), "cancel", event.id),
        )
    )
    return Screen("\n".join(lines), tuple(rows))


def cancel_question(t: Texts, event: Event) -> Screen:
    """Are you sure?"""
    return Screen(
        t.gettext(
            "Cancel {title} on {when}? Everyone who was told hears of it.",
            title=event.title,
            when=when(t, event),
        ),
        (
            (EVENTS.choice(t.gettext("Yes, cancel it"), "cancel_yes", event.id),),
            (EVENTS.choice(t.gettext("No, keep it"), "card", event.id),),
        ),
    )


def event_cancelled(t: Texts, event: Event) -> str:
    """After cancelling."""
    return t.gettext(
        "{title} on {when} has been cancelled.", title=event.title, when=when(t, event)
    )


def announced(t: Texts) -> str:
    """After *announce now*."""
    return t.gettext("📣 The invitation is on its way to all Lotsen.")


def pattern_label(t: Texts, pattern: Pattern) -> str:
    """A repeating rule in words, e.g. *every first Wednesday of the month*."""
    weekday = t.weekday(pattern.weekday)
    if pattern.nth == 0:
        if pattern.every_other:
            return t.gettext("every other {weekday}", weekday=weekday)
        return t.gettext("every {weekday}", weekday=weekday)
    return {
        1: t.gettext("every first {weekday} of the month", weekday=weekday),
        2: t.gettext("every second {weekday} of the month", weekday=weekday),
        3: t.gettext("every third {weekday} of the month", weekday=weekday),
        4: t.gettext("every fourth {weekday} of the month", weekday=weekday),
        -1: t.gettext("every last {weekday} of the month", weekday=weekday),
    }[pattern.nth]


def rule_line(t: Texts, rule: EventRule) -> str:
    """A rule in one line."""
    return t.gettext(
        "🔁 {title}: {pattern}, {time}, {place}",
        title=rule.title,
        pattern=pattern_label(t, rule.pattern),
        time=t.clock(rule.start_time),
        place=rule.place,
    )


def rules(t: Texts, rules: list[EventRule]) -> Screen:
    """The repeating dates in force, each with a stop button."""
    lines = [t.gettext("<b>Repeating dates</b>")]
    rows: list[tuple[Choice, ...]] = []
    if not rules:
        lines.append(t.gettext("There is no repeating date yet."))
    for rule in rules:
        lines.append(rule_line(t, rule))
        stop = t.gettext("⏹ Stop: {title}", title=rule.title)
        rows.append(
            (
                EVENTS.choice(t.gettext("✏️ Change"), "rule_edit", rule.id),
                EVENTS.choice(stop, "rule_stop", rule.id),
            )
        )
    rows.append((EVENTS.choice(t.gettext("➕ New repeating date"), "rule_new"),))
    return Screen("\n".join(lines), tuple(rows))


def rule_stopped(t: Texts) -> str:
    """After stopping a rule."""
    return t.gettext("No more dates will be made from this rule. Dates already announced stay.")


# ---------------------------------------------------------------------- dialogs


def _discard_row(t: Texts) -> tuple[Choice, ...]:
    return (_PLANNING.choice(t.gettext("🗑 Discard"), "discard"),)


def ask_title(t: Texts, default: str) -> Screen:
    """What the date is called."""
    return Screen(
        t.gettext("<b>What is it called?</b> Tap the suggestion or write another title."),
        ((_PLANNING.choice(default, "title", "default"),), _discard_row(t)),
    )


def week_of(value: str) -> tuple[int, bool]:
    """A value of :data:`PATTERNS` as a rule's ``nth`` and ``every_other`` (``00``: every
    other week)."""
    if value not in PATTERNS:
        raise ValueError(value)
    return (0 if value == "00" else int(value)), value == "00"


def pattern_choices(t: Texts) -> list[tuple[str, str]]:
    """Which week a rule falls in, as (value of :data:`PATTERNS`, label)."""
    labels = (
        t.gettext("first"),
        t.gettext("second"),
        t.gettext("third"),
        t.gettext("fourth"),
        t.gettext("last"),
        t.gettext("every week"),
        t.gettext("every other week"),
    )
    return list(zip(PATTERNS, labels, strict=True))


def ask_pattern(t: Texts) -> Screen:
    """A rule: which week."""
    choices = [_PLANNING.choice(label, "nth", value) for value, label in pattern_choices(t)]
    rows = (*grid(choices[:5], 3), tuple(choices[5:]), _discard_row(t))
    return Screen(
        t.gettext("<b>How often?</b> Which week of the month, or every (other) week:"), rows
    )


def ask_weekday(t: Texts) -> Screen:
    """A rule: which day of the week."""
    rows = (*grid([_PLANNING.choice(t.weekday(i), "wd", i) for i in range(7)], 4), _discard_row(t))
    return Screen(t.gettext("<b>On which day of the week?</b>"), rows)


def ask_day(t: Texts, days: list[dt.date]) -> Screen:
    """A date: which day (or typed as 2.12.2026)."""
    return Screen(
        t.gettext("<b>On which day?</b> Tap a day, or write a date such as 2.12.2026."),
        (*day_buttons(t, days, planning_actions(days=days), "day"), _discard_row(t)),
    )


def ask_time(t: Texts) -> Screen:
    """At what time (or typed as 18:45)."""
    return Screen(
        t.gettext("<b>At what time?</b> Tap one, or write it such as 18:45."),
        (*time_buttons(t, EVENT_TIMES, _PLANNING, "time"), _discard_row(t)),
    )


def ask_place(t: Texts, default: str) -> Screen:
    """Where (the city's venue, or typed)."""
    return Screen(
        t.gettext("<b>Where?</b> Tap the usual place or write another."),
        ((_PLANNING.choice(default, "place", "default"),), _discard_row(t)),
    )


def ask_topics(t: Texts, suggestions: tuple[str, ...], chosen: list[str]) -> Screen:
    """Topics: tap suggestions, write others, then continue."""
    actions = planning_actions(topics=suggestions)
    choices = [
        actions.choice(("✅ " if topic in chosen else "") + topic, "topic", index)
        for index, topic in enumerate(suggestions)
    ]
    rows = (
        *grid(choices, 2),
        (_edit(t.gettext("Continue ➡️"), Step.CONFIRM),),
        _discard_row(t),
    )
    text = t.gettext("<b>Topics?</b> Tap the ones that fit, write others, then continue.")
    extra = [c for c in chosen if c not in suggestions]
    if extra:
        text += "\n" + t.gettext("Written: {topics}", topics=t.join(extra))
    return Screen(text, rows)


def confirm_event(t: Texts, event: Event, announce_days: int) -> Screen:
    """The summary of a planned date."""
    text = t.gettext("<b>Please check:</b>") + "\n\n" + details(t, event)
    rows = (
        (_PLANNING.choice(t.gettext("📣 Save and invite all Lotsen now"), "save"),),
        (_PLANNING.choice(t.gettext("💾 Save, invite later by hand"), "save_quiet"),),
        (_edit(t.gettext("✏️ Title"), Step.TITLE), _edit(t.gettext("✏️ Day"), Step.DAY)),
        (_edit(t.gettext("✏️ Time"), Step.TIME), _edit(t.gettext("✏️ Place"), Step.PLACE)),
        (_edit(t.gettext("✏️ Topics"), Step.TOPICS),),
        _discard_row(t),
    )
    return Screen(text, rows)


def confirm_rule(t: Texts, rule: EventRule, dates: list[dt.datetime]) -> Screen:
    """The summary of a repeating rule, with its next dates."""
    lines = [t.gettext("<b>Please check:</b>"), "", rule_line(t, rule)]
    if rule.topics:
        lines.append(t.gettext("💬 Topics: {topics}", topics=t.join(rule.topics)))
    lines.append(
        t.ngettext(
            "Each date is announced to all Lotsen {n} day before.",
            "Each date is announced to all Lotsen {n} days before.",
            rule.announce_days,
        )
    )
    lines.append(t.gettext("The next dates:"))
    lines += [f"• {day_and_time(t, d)}" for d in dates]
    rows = (
        (_PLANNING.choice(t.gettext("💾 Save"), "save"),),
        (_edit(t.gettext("✏️ Title"), Step.TITLE), _edit(t.gettext("✏️ Rhythm"), Step.PATTERN)),
        (_edit(t.gettext("✏️ Time"), Step.TIME), _edit(t.gettext("✏️ Place"), Step.PLACE)),
        (_edit(t.gettext("✏️ Topics"), Step.TOPICS),),
        _discard_row(t),
    )
    return Screen("\n".join(lines), rows)


def confirm_move(t: Texts, event: Event, day: dt.date, at: dt.time) -> Screen:
    """Moving a date: old and new."""
    new = t.gettext("{day} at {time}", day=t.day(day), time=t.clock(at))
    text = t.gettext(
        "Move {title} from {old} to {new}? Everyone who was told hears of it.",
        title=event.title,
        old=when(t, event),
        new=new,
    )
    rows = ((_PLANNING.choice(t.gettext("🔁 Move it"), "save"),), _discard_row(t))
    return Screen(text, rows)


def _edit(label: str, step: str) -> Choice:
    return _PLANNING.choice(label, "goto", step)


def saved_event(t: Texts, event: Event, invited: bool) -> str:
    """After saving a date."""
    if invited:
        return t.gettext("✅ Saved. The invitation is on its way to all Lotsen.")
    return t.gettext("✅ Saved. You can invite the Lotsen from /stammtisch.")


def saved_rule(t: Texts) -> str:
    """After saving a rule."""
    return t.gettext("✅ Saved. The next dates are in /stammtisch and are announced by themselves.")


def moved_done(t: Texts, event: Event) -> str:
    """After moving a date."""
    return t.gettext("✅ Moved to {when}.", when=when(t, event))


def not_saved(t: Texts) -> str:
    """The date is in the past, or the dialog was already finished."""
    return t.gettext(
        "That did not work: the date may be in the past. Please check the day and time."
    )


def discarded(t: Texts) -> str:
    """The dialog was thrown away."""
    return t.gettext("Discarded; nothing was saved.")
