"""What a person asking for a Lotse sees: the questionnaire, /status, cancelling, and the news
of their request."""

from __future__ import annotations

import datetime as dt
import re

from bot.config import CityConfig
from bot.domain.requests import Request, Status, Step
from bot.i18n import LANGUAGES, Texts, language_name
from handlers.actions import DATE, Actions, Part, indices
from handlers.request_views import REQ, feedback_choices, status_label, summary, topic_label
from handlers.views import (
    MENU_REQUEST,
    Choice,
    Screen,
    button,
    day_buttons,
    grid,
    home_button,
    time_buttons,
)

__all__ = [
    "EDITABLE",
    "TIMES",
    "accepted_for_person",
    "another_request",
    "ask_actions",
    "ask_day",
    "ask_description",
    "ask_district",
    "ask_languages",
    "ask_name",
    "ask_place",
    "ask_quarter",
    "ask_time",
    "ask_topic",
    "cancel_question",
    "cancelled",
    "cancelled_by_office",
    "confirm",
    "description_missing",
    "expired",
    "feedback_question",
    "feedback_thanks",
    "handed_back_for_person",
    "name_missing",
    "nothing_changed",
    "reopened",
    "sent",
    "status_list",
    "stopped",
    "taking_longer",
]


TIMES = ("08:00", "09:00", "10:00", "11:00", "12:00", "13:00", "14:00", "15:00", "16:00", "17:00")
#: The hours of the time step (``HH``): a tap on one offers its quarter hours.
HOURS = tuple(value[:2] for value in TIMES)
QUARTERS = ("00", "15", "30", "45")


EDITABLE = (
    Step.TOPIC,
    Step.DESCRIPTION,
    Step.LANGUAGES,
    Step.DISTRICT,
    Step.DAY,
    Step.PLACE,
    Step.NAME,
)


#: The questionnaire's actions (``ask:<what>[:<value>]``) that are the same in every city: a day of
#: the calendar or flexible (whether the day is in the calendar, the service checks), a time
#: as ``HHMM`` or none, the name the messenger knows (``telegram``, as sent before).
_ASK_STEPS: dict[str, tuple[Part, ...]] = {
    "stop": (),
    "lang": (LANGUAGES,),
    "langs_done": (),
    "day": (re.compile(rf"flex|{DATE.pattern}"),),
    "hour": (("back", *HOURS),),
    "time": (("none", *(hour + minute for hour in HOURS for minute in QUARTERS)),),
    "place": ("skip",),
    "name": ("telegram",),
    "edit": (EDITABLE,),
    "confirm": (),
}


#: Writes the questionnaire's steps that do not depend on the city.
_ASK = Actions("ask", _ASK_STEPS)


def ask_actions(city: CityConfig) -> Actions:
    """Every action of the questionnaire: the steps above, and the city's topics and Stadtteile
    (a Stadtteil by its position in the city's list)."""
    return Actions(
        "ask",
        {
            **_ASK_STEPS,
            "topic": (city.topics,),
            "district": (("none", *indices(city.districts)),),
        },
    )


def _cancel_row(t: Texts) -> tuple[Choice, ...]:
    return (_ASK.choice(t.gettext("✖️ Stop asking"), "stop"),)


#: A picture for each topic, for people who read little.
TOPIC_ICONS = {
    "auslaenderbehoerde": "🛂",
    "jobcenter": "💼",
    "health": "🩺",
    "school": "🏫",
    "housing": "🏠",
    "work": "🔧",
    "language_course": "🗣",
    "letter": "✉️",
    "other": "💬",
}


def ask_topic(t: Texts, city: CityConfig) -> Screen:
    """Step 1: what the help is needed for, each topic with its picture."""
    ask = ask_actions(city)
    rows = [
        (ask.choice(f"{TOPIC_ICONS.get(key, '•')} {topic_label(t, key)}", "topic", key),)
        for key in city.topics
    ]
    return Screen(t.gettext("<b>What do you need help with?</b>"), (*rows, _cancel_row(t)))


def ask_description(t: Texts) -> Screen:
    """Step 2: the matter, as text, voice note or photo, with the privacy hint."""
    text = t.gettext(
        "<b>What is it about?</b>\n\n"
        "Write a few words, send a voice note, or send a photo of the letter.\n\n"
        "🔒 Please do not send health or residence details unless they are needed. "
        "Your Lotse will ask if they need more."
    )
    return Screen(text, (_cancel_row(t),))


def ask_languages(t: Texts, request: Request) -> Screen:
    """Step 3: languages the person speaks (multi-select, preset with their language)."""
    choices = [
        _ASK.choice(("✅ " if c in request.languages else "") + language_name(c), "lang", c)
        for c in LANGUAGES
    ]
    return Screen(
        t.gettext("<b>Which languages do you speak?</b> Tap all that apply, then continue."),
        (
            *grid(choices, 2),
            (_ASK.choice(t.gettext("Continue ➡️"), "langs_done"),),
            _cancel_row(t),
        ),
    )


def ask_district(t: Texts, city: CityConfig) -> Screen:
    """Step 4: the Stadtteil."""
    ask = ask_actions(city)
    choices = [ask.choice(name, "district", i) for i, name in enumerate(city.districts)]
    unknown = ask.choice(t.gettext("🤷 I don't know"), "district", "none")
    return Screen(
        t.gettext("<b>In which part of {city} do you live?</b>", city=city.city),
        (*grid(choices, 2), (unknown,), _cancel_row(t)),
    )


def ask_day(t: Texts, days: list[dt.date]) -> Screen:
    """Step 5: a day from the calendar, or flexible."""
    return Screen(
        t.gettext("<b>When is the appointment?</b> Choose a day."),
        (
            *day_buttons(t, days, _ASK, "day"),
            (_ASK.choice(t.gettext("🤷 Flexible / no fixed date"), "day", "flex"),),
            _cancel_row(t),
        ),
    )


def ask_time(t: Texts) -> Screen:
    """Step 6: the time of day: an hour (a second tap gives its quarter hours), or typed."""
    hours = [_ASK.choice(t.clock(dt.time(int(hour))), "hour", hour) for hour in HOURS]
    return Screen(
        t.gettext("<b>At what time?</b>"),
        (
            *grid(hours, 5),
            (_ASK.choice(t.gettext("Time not known yet"), "time", "none"),),
            _cancel_row(t),
        ),
    )


def ask_quarter(t: Texts, hour: str) -> Screen:
    """Step 6, after tapping an hour: that hour and its quarters."""
    times = tuple(f"{hour}:{minute}" for minute in QUARTERS)
    return Screen(
        t.gettext("<b>At what time?</b>"),
        (
            *time_buttons(t, times, _ASK, "time"),
            (_ASK.choice(t.gettext("⬅️ Back"), "hour", "back"),),
            _cancel_row(t),
        ),
    )


def ask_place(t: Texts) -> Screen:
    """Step 7: where to meet (free text or skip)."""
    text = t.gettext(
        "<b>Where is the appointment?</b>\nFor example: Jobcenter, Halterner Straße. "
        "Write the place, or skip."
    )
    return Screen(text, ((_ASK.choice(t.gettext("Skip ➡️"), "place", "skip"),), _cancel_row(t)))


def ask_name(t: Texts, suggestion: str | None) -> Screen:
    """Step 8: the first name the Lotse should use (the one the messenger knows, as a choice)."""
    rows: list[tuple[Choice, ...]] = []
    if suggestion:
        rows.append((_ASK.choice(suggestion[:40], "name", "telegram"),))
    rows.append(_cancel_row(t))
    return Screen(
        t.gettext("<b>How should your Lotse address you?</b> Write your first name."),
        tuple(rows),
    )


def confirm(t: Texts, city: CityConfig, request: Request) -> Screen:
    """Step 9: the summary with *send* and *change*."""
    text = (
        t.gettext("<b>Please check your request:</b>") + "\n\n" + summary(t, city, request, False)
    )
    choices = (
        (_ASK.choice(t.gettext("✅ Send request"), "confirm"),),
        (
            _ASK.choice(t.gettext("✏️ Topic"), "edit", Step.TOPIC),
            _ASK.choice(t.gettext("✏️ Text"), "edit", Step.DESCRIPTION),
        ),
        (
            _ASK.choice(t.gettext("✏️ Languages"), "edit", Step.LANGUAGES),
            _ASK.choice(t.gettext("✏️ Stadtteil"), "edit", Step.DISTRICT),
        ),
        (
            _ASK.choice(t.gettext("✏️ Date"), "edit", Step.DAY),
            _ASK.choice(t.gettext("✏️ Place"), "edit", Step.PLACE),
        ),
        (_ASK.choice(t.gettext("✏️ Name"), "edit", Step.NAME),),
        _cancel_row(t),
    )
    return Screen(text, choices)


def sent(t: Texts) -> Screen:
    """After confirming: what happens next."""
    text = t.gettext(
        "✅ Thank you! Your request has been sent to Lotsen who speak your language. "
        "As soon as someone accepts, I will tell you here. You can see your requests with /status."
    )
    return Screen(text, ((home_button(t),),))


def stopped(t: Texts, running: Request | None = None) -> Screen:
    """The person stopped asking; nothing was sent (and a request sent before still runs)."""
    if running is None:
        text = t.gettext(
            "Your request was not sent. You can start again from the menu at any time."
        )
    else:
        text = t.gettext(
            "Nothing new was sent. Your request #{number} is still open.",
            number=str(running.id),
        )
    return Screen(text, ((home_button(t),),))


def another_request(t: Texts, running: Request) -> str:
    """Before the first step of a new request, while one sent earlier still runs."""
    return t.gettext(
        "You already have request #{number} open. This is a new, separate request.",
        number=str(running.id),
    )


def description_missing(t: Texts) -> str:
    """Step 2 got something that is neither text nor a voice note nor a photo."""
    return t.gettext("Please write a few words, send a voice note or a photo.")


def text_shortened(t: Texts, limit: int) -> str:
    """A description over ``limit`` characters: kept, cut at the limit."""
    return t.gettext(
        "Your text was long: the first {n} characters are kept. You can say more to your "
        "Lotse later.",
        n=limit,
    )


def file_added(t: Texts, count: int) -> str:
    """A voice note, photo or document was added to the request (``count`` in all)."""
    return t.ngettext(
        "📎 Added. The request has {n} file.", "📎 Added. The request has {n} files.", count
    )


def words_kept(t: Texts) -> str:
    """What the person typed before choosing a topic is kept as what it is about."""
    return t.gettext("📝 Thank you, your words are kept. Now please choose the topic.")


def files_full(t: Texts, limit: int) -> str:
    """A file beyond what a request keeps."""
    return t.gettext("A request keeps at most {n} files; this one was not added.", n=limit)


def name_missing(t: Texts) -> str:
    """Step 8 got no usable name."""
    return t.gettext("Please write your first name.")


def status_list(t: Texts, requests: list[Request]) -> Screen:
    """The person's requests with a cancel button for each that is still running."""
    if not requests:
        return Screen(
            t.gettext("You have no requests yet."),
            ((button(t.gettext("🤝 I need a Lotse"), MENU_REQUEST),),),
        )
    lines = [t.gettext("<b>Your requests</b>")]
    rows: list[tuple[Choice, ...]] = []
    for request in requests:
        lines.append(
            t.gettext(
                "#{number} {topic}: {state}",
                number=str(request.id),
                topic=topic_label(t, request.topic),
                state=status_label(t, request.status),
            )
        )
        if request.status in (Status.OPEN, Status.OFFERED, Status.ACCEPTED):
            label = t.gettext("✖️ Cancel #{number}", number=str(request.id))
            rows.append((REQ.choice(label, "cancel", request.id),))
    return Screen("\n".join(lines), tuple(rows))


def cancel_question(t: Texts, request: Request) -> Screen:
    """Are you sure?"""
    return Screen(
        t.gettext("Do you really want to cancel request #{number}?", number=str(request.id)),
        (
            (REQ.choice(t.gettext("Yes, cancel it"), "cancel_yes", request.id),),
            (REQ.choice(t.gettext("No, keep it"), "keep"),),
        ),
    )


def nothing_changed(t: Texts) -> str:
    """After *No, keep it*."""
    return t.gettext("Alright, nothing was changed.")


def cancelled(t: Texts, request: Request) -> Screen:
    """Confirmation of a cancellation, and the way on."""
    return Screen(
        t.gettext("Request #{number} has been cancelled.", number=str(request.id)),
        _next_steps(t),
    )


def _next_steps(t: Texts) -> tuple[tuple[Choice, ...], ...]:
    """Where a finished part of asking leads on: a new request, or the main menu."""
    return ((button(t.gettext("🤝 I need a Lotse"), MENU_REQUEST),), (home_button(t),))


def accepted_for_person(t: Texts, request: Request, lotse_name: str) -> str:
    """The person learns who accompanies them (first name only) and what happens next."""
    return t.gettext(
        "🎉 Good news: <b>{name}</b> will accompany you (request #{number}).\n\n"
        "{name} will write to you here soon. You can also write here: your messages are "
        "passed on to {name}, and your phone number stays private.",
        name=lotse_name,
        number=str(request.id),
    )


def taking_longer(t: Texts, request: Request) -> str:
    """Honest news that finding someone takes longer."""
    return t.gettext(
        "Finding a Lotse for request #{number} is taking longer than usual. "
        "The coordination office now looks at it personally. We have not forgotten you.",
        number=str(request.id),
    )


def expired(t: Texts, request: Request, city: CityConfig) -> Screen:
    """The date passed without a Lotse."""
    text = t.gettext(
        "Unfortunately we could not find a Lotse in time for request #{number}. "
        "Please contact the coordination office: {email}. You can also ask again from the menu.",
        number=str(request.id),
        email=city.contact.email,
    )
    return Screen(text, _next_steps(t))


def cancelled_by_office(t: Texts, request: Request, city: CityConfig) -> str:
    """The office cancelled the person's request."""
    return t.gettext(
        "The coordination office has cancelled request #{number}. "
        "For questions: {email}. You can ask again from the menu.",
        number=str(request.id),
        email=city.contact.email,
    )


def reopened(t: Texts, request: Request) -> str:
    """The office opened the person's request again."""
    return t.gettext(
        "The coordination office has opened request #{number} again: "
        "we are looking for a Lotse now.",
        number=str(request.id),
    )


def handed_back_for_person(t: Texts, request: Request) -> str:
    """The Lotse could not continue."""
    return t.gettext(
        "Your Lotse cannot continue with request #{number}. Don't worry: "
        "we are looking for another Lotse now.",
        number=str(request.id),
    )


def feedback_question(t: Texts, request: Request) -> Screen:
    """After *done*: one tap."""
    return Screen(
        t.gettext(
            "Your Lotse has closed request #{number}. How was the help?", number=str(request.id)
        ),
        feedback_choices(request),
    )


def feedback_thanks(t: Texts) -> Screen:
    """After the feedback tap: thanks, and the way on."""
    return Screen(t.gettext("Thank you for your feedback!"), ((home_button(t),),))
